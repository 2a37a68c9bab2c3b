/**
 * Where computation runs, decided in one place.
 * - Models (encoder, heads): 'auto' measures WebGPU against WASM on a probe batch
 *   once per device and model (createSession in onnx.ts); the measurement is
 *   remembered in the store, and later models of the visit follow the encoder.
 * - Catalog scoring: 'auto' takes WebGPU on a hardware adapter only, WASM
 *   otherwise (a software adapter such as SwiftShader runs WebGPU on the CPU,
 *   slower than WASM), and the TypeScript twin when onnxruntime is missing.
 * A requested backend that cannot run falls back, and the fallback is reported.
 */
import type { Backend } from '../vocabulary';

export function hasWebGpu(): boolean {
  return Boolean((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu);
}

/** True for software adapters (SwiftShader, llvmpipe, fallback adapters): WebGPU emulated on the CPU, slower than WASM. */
export function isSoftwareAdapter(
  info: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean } | undefined,
): boolean {
  if (!info) return true;
  if (info.isFallbackAdapter) return true;
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.description ?? ''}`.toLowerCase();
  return /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/.test(text);
}

/** The catalog scoring path 'auto' takes, from the WebGPU adapter found (null: none). */
export function autoScoringPath(gpu: { software: boolean } | null, hasOrt: boolean): Backend {
  if (gpu && !gpu.software) return 'webgpu';
  return hasOrt ? 'wasm' : 'js';
}

/** A backend measured on this device for a model, remembered across visits. */
export interface BackendChoice {
  key: string;
  model: string;
  backend: 'webgpu' | 'wasm';
  reason: string;
}

/** Where a measured choice is kept (the store's state entries). */
export interface ChoiceMemory {
  getState<T>(key: string): Promise<T | undefined>;
  putState(key: string, value: unknown): Promise<void>;
}

const CHOICE_STATE = 'backend-choice';

/** What identifies "this device" for a remembered measurement: browser, GPU adapter, cores. */
async function deviceKey(): Promise<string> {
  const nav = globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined;
  let adapter = 'none';
  try {
    const a = await nav?.gpu?.requestAdapter();
    if (a) adapter = `${a.info.vendor}/${a.info.architecture}/${a.info.device}/${a.info.description}`;
  } catch {
    /* no adapter */
  }
  return `${nav?.userAgent ?? 'node'}|${adapter}|${nav?.hardwareConcurrency ?? 1}`;
}

/**
 * The backends of one engine's models. `requested` is the resolved `backend` option;
 * with 'auto' the encoder's measurement is remembered per device and model, and the
 * models loaded after it run where the encoder runs (same device: no second measurement).
 */
export class ModelBackends {
  private resolved: 'webgpu' | 'wasm' | null = null;
  private key = '';

  constructor(
    private readonly requested: 'webgpu' | 'wasm' | 'auto',
    private readonly model: string,
    private readonly memory: () => Promise<ChoiceMemory>,
  ) {}

  /** For the encoder: the remembered measurement on this device, if any (only with 'auto'). */
  async remembered(): Promise<BackendChoice | undefined> {
    if (this.requested !== 'auto') return undefined;
    this.key = await deviceKey();
    try {
      const cached = await (await this.memory()).getState<BackendChoice>(CHOICE_STATE);
      return cached && cached.key === this.key && cached.model === this.model ? cached : undefined;
    } catch {
      return undefined;
    }
  }

  /** The encoder runs on `backend`; a fresh measurement (`reason` starting 'measured') is remembered. */
  encoderRuns(backend: Backend, reason: string, fromMemory: boolean): void {
    this.resolved = backend === 'webgpu' ? 'webgpu' : 'wasm';
    if (this.requested !== 'auto' || fromMemory || !reason.startsWith('measured')) return;
    const choice: BackendChoice = { key: this.key, model: this.model, backend: this.resolved, reason };
    void this.memory()
      .then((m) => m.putState(CHOICE_STATE, choice))
      .catch(() => undefined);
  }

  /** For a model loaded after the encoder. */
  follower(): 'webgpu' | 'wasm' | 'auto' {
    return this.requested === 'auto' ? (this.resolved ?? 'auto') : this.requested;
  }
}
