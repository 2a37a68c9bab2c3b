/**
 * Where computation runs, decided in one place.
 * - Models (encoder, heads): 'auto' runs on WASM without a hardware WebGPU adapter;
 *   with one it measures WebGPU against WASM on a probe batch once per device and
 *   model (createSession in onnx.ts); the measurement is remembered in the store,
 *   and later models of the visit follow the encoder.
 * - Catalog scoring: 'auto' takes WebGPU on a hardware adapter only, WASM
 *   otherwise (a software adapter such as SwiftShader runs WebGPU on the CPU,
 *   slower than WASM), and the TypeScript twin without WebAssembly. The WASM scan is
 *   the hand-written kernel: its SIMD build where WebAssembly SIMD validates, its
 *   scalar build elsewhere; onnxruntime's MatMulInteger graph only if the kernel
 *   cannot start. On WebGPU the shader uses dot4I8Packed where WGSL has it.
 * - The onnxruntime build follows: the WebGPU-enabled one only for a model that
 *   runs (or is measured) on WebGPU (onnx.ts loadOrt).
 * A requested backend that cannot run falls back, and the fallback is reported.
 */
import type { Backend } from '../vocabulary';
import type { OrtBuild } from './onnx';

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

/** The catalog scoring path 'auto' takes, from the WebGPU adapter found (null: none) and whether WebAssembly runs. */
export function autoScoringPath(gpu: { software: boolean } | null, hasWasm: boolean): Backend {
  if (gpu && !gpu.software) return 'webgpu';
  return hasWasm ? 'wasm' : 'js';
}

/** Which build of the WASM scan kernel runs: 'simd' where the SIMD probe module validates, 'scalar' elsewhere, null without WebAssembly. */
export function scanKernelBuild(simdProbe: BufferSource): 'simd' | 'scalar' | null {
  const wasm = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (!wasm) return null;
  try {
    return wasm.validate(simdProbe) ? 'simd' : 'scalar';
  } catch {
    return 'scalar';
  }
}

/** The WGSL variant of the WebGPU scoring shader: dot4I8Packed where this browser's WGSL has packed_4x8_integer_dot_product. */
export function wgslDotVariant(gpu: { wgslLanguageFeatures?: { has(name: string): boolean } } | undefined): 'dot4I8Packed' | 'unpacked' {
  return gpu?.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product') ? 'dot4I8Packed' : 'unpacked';
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

interface AdapterFound {
  /** What identifies "this device" for a remembered measurement: browser, GPU adapter, cores. */
  key: string;
  /** null: no WebGPU adapter. */
  adapter: { software: boolean; name: string } | null;
}

async function findAdapter(): Promise<AdapterFound> {
  const nav = globalThis.navigator as (Navigator & { gpu?: GPU }) | undefined;
  let id = 'none';
  let adapter: AdapterFound['adapter'] = null;
  try {
    const a = await nav?.gpu?.requestAdapter();
    if (a) {
      id = `${a.info.vendor}/${a.info.architecture}/${a.info.device}/${a.info.description}`;
      adapter = { software: isSoftwareAdapter(a.info), name: `${a.info.vendor} ${a.info.architecture}`.trim() };
    }
  } catch {
    /* no adapter */
  }
  return { key: `${nav?.userAgent ?? 'node'}|${id}|${nav?.hardwareConcurrency ?? 1}`, adapter };
}

/** Where a model runs: what its session is asked for, the onnxruntime build it needs, and why when decided before the session. */
export interface ModelPlan {
  /** 'auto': measure WebGPU against WASM on a probe batch (only on a hardware adapter). */
  backend: 'webgpu' | 'wasm' | 'auto';
  build: OrtBuild;
  reason?: string;
}

/**
 * The backends of one engine's models. `requested` is the resolved `backend` option.
 * With 'auto': no adapter or a software adapter means WASM (the WebGPU build is never
 * loaded); on a hardware adapter the encoder measures both, the measurement is
 * remembered per device and model, and the models loaded after it run where the
 * encoder runs (same device: no second measurement).
 */
export class ModelBackends {
  private resolved: 'webgpu' | 'wasm' | null = null;
  private planned: Promise<ModelPlan> | null = null;
  private key = '';

  constructor(
    private readonly requested: 'webgpu' | 'wasm' | 'auto',
    private readonly model: string,
    private readonly memory: () => Promise<ChoiceMemory>,
  ) {}

  /** Where the encoder runs. */
  plan(): Promise<ModelPlan> {
    this.planned ??= this.decide();
    return this.planned;
  }

  private async decide(): Promise<ModelPlan> {
    if (this.requested === 'wasm') return { backend: 'wasm', build: 'wasm' };
    // a forced WebGPU without navigator.gpu falls back in createSession, which reports it
    if (this.requested === 'webgpu') return { backend: 'webgpu', build: hasWebGpu() ? 'webgpu' : 'wasm' };
    const found = await findAdapter();
    this.key = found.key;
    if (!found.adapter) return { backend: 'wasm', build: 'wasm', reason: 'auto: no WebGPU adapter' };
    if (found.adapter.software) {
      return { backend: 'wasm', build: 'wasm', reason: `auto: software WebGPU adapter (${found.adapter.name}) is slower than WASM` };
    }
    try {
      const cached = await (await this.memory()).getState<BackendChoice>(CHOICE_STATE);
      if (cached && cached.key === this.key && cached.model === this.model) {
        return { backend: cached.backend, build: cached.backend, reason: `${cached.reason} (measured earlier on this device)` };
      }
    } catch {
      /* nothing remembered: measure */
    }
    return { backend: 'auto', build: 'webgpu' };
  }

  /** The encoder runs on `backend`; a measurement made just now is remembered for this device. */
  async encoderRuns(backend: Backend, reason: string): Promise<void> {
    this.resolved = backend === 'webgpu' ? 'webgpu' : 'wasm';
    if ((await this.plan()).backend !== 'auto' || !reason.startsWith('measured')) return;
    const choice: BackendChoice = { key: this.key, model: this.model, backend: this.resolved, reason };
    await this.memory()
      .then((m) => m.putState(CHOICE_STATE, choice))
      .catch(() => undefined);
  }

  /** Where a model loaded after the encoder runs. */
  async follower(): Promise<ModelPlan> {
    if (this.resolved) return { backend: this.resolved, build: this.resolved };
    return this.plan();
  }
}
