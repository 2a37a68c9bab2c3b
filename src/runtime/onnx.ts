/**
 * The onnxruntime-web runtime: the only module of the engine that imports it
 * (the worker takes the module from here and hands it to the rooms that run
 * sessions). Owns the choice of onnxruntime build, session creation with the
 * choice between its WebGPU and WASM providers, and the queue every session
 * creation and run goes through.
 *
 * Pay for what you use: the plain WASM build (`onnxruntime-web/wasm`,
 * ort-wasm-simd-threaded.wasm, 14 MB / 3.7 MB gzip) serves every WASM session;
 * the WebGPU-enabled build (`onnxruntime-web/webgpu`, the asyncify wasm, 27 MB /
 * 6.7 MB gzip) is imported only when a model is to run on WebGPU. Each is its
 * own chunk, fetched when first imported; once the WebGPU build is loaded it
 * serves WASM sessions too, so a page never loads both.
 */
import type * as OrtTypes from 'onnxruntime-web';
import type { Backend } from '../types';
import { RecommenderError } from '../errors';
import { serialQueue } from './serial';
import { hasWebGpu } from './backend';

export type Ort = typeof OrtTypes;
export type OrtBuild = 'wasm' | 'webgpu';

interface OrtSettings {
  wasmUrl?: string;
  numThreads: number;
}

/** Node tools and tests: one thread keeps results reproducible and leaves the other core free. */
let settings: OrtSettings = { numThreads: 1 };
const builds: Partial<Record<OrtBuild, Promise<Ort>>> = {};

/** What decides onnxruntime's thread count: the worker's global scope. */
export interface ThreadScope {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number; userAgent?: string };
}

/**
 * onnxruntime's WASM threads for a worker: up to 4 where the page is cross-origin isolated
 * (SharedArrayBuffer), one otherwise. And one in Firefox: there the engine's worker starts
 * onnxruntime's thread pool as nested module workers, and now and then (2 of 100 fresh profiles
 * here, Firefox ESR 153) the worker stopped for good right after importing onnxruntime, before
 * it even requested the .wasm: the demo never left "Loading model…" (issue 19's "no slate within
 * 120 s"); with one thread, 0 of 100. Pages without COOP/COEP, like the script tag's quick start,
 * always ran single-threaded. The models are small; one thread costs little.
 */
export function ortThreads(scope: ThreadScope = globalThis): number {
  if (!scope.crossOriginIsolated) return 1;
  if (/\bFirefox\//.test(scope.navigator?.userAgent ?? '')) return 1;
  return Math.min(4, scope.navigator?.hardwareConcurrency || 1);
}

/** Settings for every build loaded afterwards: wasm files from `wasmUrl`, threads as ortThreads() says. */
export function configureOrt(wasmUrl: string): void {
  settings = { wasmUrl, numThreads: ortThreads() };
}

function configured(ort: Ort): Ort {
  if (settings.wasmUrl) ort.env.wasm.wasmPaths = settings.wasmUrl;
  ort.env.wasm.numThreads = settings.numThreads;
  ort.env.logLevel = 'error';
  return ort;
}

/** onnxruntime for sessions on `build`'s providers; the WebGPU build, when already loaded, also answers for WASM. */
export function loadOrt(build: OrtBuild): Promise<Ort> {
  if (build === 'wasm' && builds.webgpu) return builds.webgpu;
  // literal specifiers: bundlers split each build into a chunk of its own
  if (build === 'webgpu') return (builds.webgpu ??= import('onnxruntime-web/webgpu').then(configured));
  return (builds.wasm ??= import('onnxruntime-web/wasm').then(configured));
}

/** The builds imported so far (what a test or a service worker may want to know). */
export function loadedOrtBuilds(): OrtBuild[] {
  return (Object.keys(builds) as OrtBuild[]).sort();
}

export type Session = OrtTypes.InferenceSession;

/**
 * Runs onnxruntime-web work one call at a time. Its WebGPU backend hung when two
 * sessions (encoder and heads) ran at once in one worker, so every session
 * creation and run in this engine goes through this queue.
 */
export const runExclusive = serialQueue();

/**
 * Runs a session on that queue and copies the named float outputs out of onnxruntime's
 * tensors (each disposed once read), so the caller keeps plain arrays.
 */
export function runFloatOutputs<N extends string>(
  session: Session,
  feeds: Record<string, OrtTypes.Tensor>,
  names: readonly N[],
): Promise<Record<N, Float32Array>> {
  return runExclusive(async () => {
    const out = await session.run(feeds);
    const result = {} as Record<N, Float32Array>;
    for (const name of names) {
      result[name] = ((await out[name].getData()) as Float32Array).slice();
      out[name].dispose();
    }
    return result;
  });
}

type FallbackListener = (from: Backend, to: Backend, reason: string) => void;

async function sessionOn(runtime: Ort, model: Uint8Array, backend: 'webgpu' | 'wasm'): Promise<Session> {
  return runtime.InferenceSession.create(model, { executionProviders: [backend], graphOptimizationLevel: 'all' });
}

/**
 * Creates an inference session on the requested backend. 'webgpu' falls back to
 * WASM (reported through onFallback) when WebGPU is missing or fails. 'auto'
 * measures: with WebGPU available it times `probe` on both providers and keeps
 * the faster one (a software adapter such as SwiftShader usually loses to WASM).
 */
export async function createSession(
  ort: Ort,
  model: Uint8Array,
  backend: Backend | 'auto',
  onFallback?: FallbackListener,
  probe?: (session: Session) => Promise<void>,
): Promise<{ session: Session; backend: Backend; reason: string }> {
  const wasm = async (reason: string) => {
    try {
      return { session: await sessionOn(ort, model, 'wasm'), backend: 'wasm' as const, reason };
    } catch (e) {
      throw new RecommenderError(
        'backend_unavailable',
        `Neither WebGPU nor WASM could run the model (${(e as Error).message}).`,
        "Serve onnxruntime-web's .wasm files (see wasmUrl) and allow 'wasm-unsafe-eval' in your Content-Security-Policy.",
      );
    }
  };
  if (backend === 'wasm' || backend === 'js') return wasm(`${backend} requested`);
  if (!hasWebGpu()) {
    if (backend === 'webgpu') onFallback?.('webgpu', 'wasm', 'navigator.gpu is not available in this browser');
    return wasm('no WebGPU in this browser');
  }
  let gpu: Session;
  try {
    gpu = await sessionOn(ort, model, 'webgpu');
  } catch (e) {
    const reason = `WebGPU session failed: ${(e as Error).message}`;
    if (backend === 'webgpu') onFallback?.('webgpu', 'wasm', reason);
    return wasm(reason);
  }
  if (backend === 'webgpu' || !probe)
    return { session: gpu, backend: 'webgpu', reason: backend === 'webgpu' ? 'webgpu requested' : 'WebGPU available' };
  const cpu = await wasm('measured');
  const time = async (s: Session): Promise<number> => {
    await probe(s); // warm-up: shader compilation, buffer allocation
    const t0 = performance.now();
    await probe(s);
    await probe(s);
    return (performance.now() - t0) / 2;
  };
  let gpuMs = Infinity;
  try {
    gpuMs = await time(gpu);
  } catch {
    /* a failing GPU run loses the measurement */
  }
  const cpuMs = await time(cpu.session);
  const reason = `measured ${gpuMs.toFixed(1)} ms on WebGPU vs ${cpuMs.toFixed(1)} ms on WASM per probe batch`;
  if (gpuMs <= cpuMs) {
    await cpu.session.release();
    return { session: gpu, backend: 'webgpu', reason };
  }
  await gpu.release();
  return { session: cpu.session, backend: 'wasm', reason };
}
