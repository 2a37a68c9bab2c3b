/**
 * One interface over the catalog-scoring paths: the WebGPU shader ('webgpu'), the
 * hand-written WASM scan kernel, SIMD or scalar ('wasm'; onnxruntime's MatMulInteger
 * graph only if the kernel cannot start), and the TypeScript twin ('js'). All compute
 * the same exact integer scores (quantized-scoring.ts), so they return the same top k,
 * ties by item index. The engine uses a scorer to retrieve candidates from large catalogs.
 */
import type { Ort } from '../runtime/onnx';
import { topK } from '../math/top-k';
import { autoScoringPath, scanKernelBuild } from '../runtime/backend';
import { scoreQuantized, type QuantizedItems, type QuantizedQueries } from './quantized-scoring';
import { GPU_MAX_K, WebGpuScorer } from './webgpu-scoring';
import { KernelScorer, simdProbe, type ScanKernel } from './kernel-scoring';
import { WasmScorer } from './wasm-scoring';

export type ScoringPath = 'webgpu' | 'wasm' | 'js';

/** The code that scans: WGSL shader (with or without dot4I8Packed), the WASM kernel's builds, onnxruntime's graph, TypeScript. */
export type ScoringKernel = 'wgsl-dot4I8Packed' | 'wgsl' | 'wasm-simd' | 'wasm-scalar' | 'onnxruntime' | 'ts';

export interface TopK {
  indices: number[];
  scores: number[];
}

export interface CatalogScorer {
  readonly path: ScoringPath;
  readonly kernel: ScoringKernel;
  /** Why this path: requested, capability, or a fallback. */
  readonly reason: string;
  /** Top k of max_q weight_q * dot(item, q), excluded items skipped. */
  topK(queries: QuantizedQueries, k: number, excluded?: Uint8Array): Promise<TopK>;
  /** True once the path can no longer run (GPU device lost). */
  readonly lost: boolean;
  /** Bytes the path holds for the item matrix outside the JS heap (GPU buffers). */
  readonly deviceBytes: number;
  dispose(): Promise<void>;
}

/** The TypeScript twin: exact integer scores on the CPU. */
export class JsScorer implements CatalogScorer {
  readonly path = 'js' as const;
  readonly kernel = 'ts' as const;
  readonly lost = false;
  readonly deviceBytes = 0;
  constructor(
    private readonly items: QuantizedItems,
    readonly reason = 'requested',
  ) {}

  async topK(queries: QuantizedQueries, k: number, excluded?: Uint8Array): Promise<TopK> {
    const scores = scoreQuantized(this.items, queries);
    const indices = topK(scores, k, excluded);
    return { indices, scores: indices.map((i) => scores[i]) };
  }

  async dispose(): Promise<void> {}
}

/** WebGPU kernel; k above the kernel's limit is answered by the TypeScript twin over the same items. */
class GpuCatalogScorer implements CatalogScorer {
  readonly path = 'webgpu' as const;
  readonly kernel: ScoringKernel;
  readonly reason: string;
  private readonly twin: JsScorer;
  constructor(
    private readonly gpu: WebGpuScorer,
    items: QuantizedItems,
    reason: string,
  ) {
    gpu.upload(items);
    this.kernel = gpu.packedDot ? 'wgsl-dot4I8Packed' : 'wgsl';
    this.reason = `${reason}; ${gpu.packedDot ? 'WGSL shader with dot4I8Packed' : 'WGSL shader'}`;
    this.twin = new JsScorer(items);
  }
  get lost(): boolean {
    return this.gpu.isLost;
  }
  get deviceBytes(): number {
    return this.gpu.itemBytes;
  }
  topK(queries: QuantizedQueries, k: number, excluded?: Uint8Array): Promise<TopK> {
    return k > GPU_MAX_K ? this.twin.topK(queries, k, excluded) : this.gpu.topK(queries, k, excluded);
  }
  /** Test hook: destroys the device as a driver reset would. */
  loseDevice(): void {
    this.gpu.device.destroy();
  }
  async dispose(): Promise<void> {
    this.gpu.destroy();
  }
}

/** The hand-written WASM scan kernel (SIMD or scalar build), top k fused with the scan. */
class KernelCatalogScorer implements CatalogScorer {
  readonly path = 'wasm' as const;
  readonly lost = false;
  readonly deviceBytes = 0;
  readonly kernel: ScoringKernel;
  constructor(
    private readonly scan: KernelScorer,
    readonly reason: string,
  ) {
    this.kernel = scan.kernel === 'simd' ? 'wasm-simd' : 'wasm-scalar';
  }
  async topK(queries: QuantizedQueries, k: number, excluded?: Uint8Array): Promise<TopK> {
    return this.scan.topK(queries, k, excluded);
  }
  async dispose(): Promise<void> {}
}

class OrtCatalogScorer implements CatalogScorer {
  readonly path = 'wasm' as const;
  readonly kernel = 'onnxruntime' as const;
  readonly lost = false;
  readonly deviceBytes = 0;
  constructor(
    private readonly wasm: WasmScorer,
    readonly reason: string,
  ) {}
  topK(queries: QuantizedQueries, k: number, excluded?: Uint8Array): Promise<TopK> {
    return this.wasm.topK(queries, k, excluded);
  }
  async dispose(): Promise<void> {
    await this.wasm.dispose();
  }
}

export interface ScorerFactoryOptions {
  /** onnxruntime-web, loaded only if the WASM kernel cannot start (or `wasmKernel` asks for it). */
  ort?: () => Promise<Ort>;
  /** The WASM scan: by default the kernel build runtime/backend.ts picks; 'onnxruntime' (lab and bench) forces the graph. */
  wasmKernel?: ScanKernel | 'onnxruntime';
  /** Creates the WebGPU scorer (null: no usable adapter). Default: WebGpuScorer.create. */
  webgpu?: () => Promise<WebGpuScorer | null>;
  /** Reports a fallback from the requested path. */
  onFallback?: (from: ScoringPath, to: ScoringPath, reason: string) => void;
}

/**
 * Picks and builds the scoring path. 'auto' uses WebGPU on a hardware adapter,
 * WASM otherwise (a software adapter such as SwiftShader runs WebGPU on the CPU,
 * slower than WASM), and the TypeScript twin when neither is available.
 * A requested path that cannot run falls back (reported through onFallback).
 */
export async function createCatalogScorer(
  items: QuantizedItems,
  requested: ScoringPath | 'auto',
  options: ScorerFactoryOptions = {},
): Promise<CatalogScorer> {
  const fallback = (from: ScoringPath, to: ScoringPath, why: string): string => {
    options.onFallback?.(from, to, why);
    return `${from} unavailable (${why}); using ${to}`;
  };
  const wasmOrJs = async (reason: string): Promise<CatalogScorer> => {
    const build = options.wasmKernel ?? scanKernelBuild(simdProbe());
    let why = 'no WebAssembly';
    if (build && build !== 'onnxruntime') {
      try {
        const what = build === 'simd' ? 'WASM SIMD kernel' : 'scalar WASM kernel (no WebAssembly SIMD)';
        return new KernelCatalogScorer(await KernelScorer.create(items, build), `${reason}; ${what}`);
      } catch (e) {
        why = `the WASM kernel failed: ${(e as Error).message}`;
      }
    }
    if (options.ort && typeof WebAssembly === 'object') {
      try {
        const ort = await options.ort();
        return new OrtCatalogScorer(
          await WasmScorer.create(ort, items),
          build === 'onnxruntime' ? `${reason}; onnxruntime` : `${reason}; ${why}: onnxruntime`,
        );
      } catch (e) {
        why = `${why}; onnxruntime: ${(e as Error).message}`;
      }
    }
    return new JsScorer(items, fallback('wasm', 'js', why));
  };
  if (requested === 'js') return new JsScorer(items, 'requested');
  if (requested === 'wasm') return wasmOrJs('requested');
  let gpu: WebGpuScorer | null = null;
  let why = 'no WebGPU adapter';
  try {
    gpu = await (options.webgpu ?? WebGpuScorer.create)();
  } catch (e) {
    why = `WebGPU failed: ${(e as Error).message}`;
  }
  const onGpu = (reason: string): CatalogScorer | null => {
    try {
      return new GpuCatalogScorer(gpu as WebGpuScorer, items, reason);
    } catch (e) {
      why = (e as Error).message;
      gpu?.destroy();
      gpu = null;
      return null;
    }
  };
  if (requested === 'webgpu') {
    const scorer = gpu ? onGpu('requested') : null;
    if (scorer) return scorer;
    return wasmOrJs(fallback('webgpu', 'wasm', why));
  }
  // auto: by capability (the rule lives in runtime/backend.ts)
  if (gpu && autoScoringPath(gpu, typeof WebAssembly === 'object') === 'webgpu') {
    const scorer = onGpu(`hardware WebGPU adapter (${gpu.adapterInfo})`);
    if (scorer) return scorer;
  }
  if (gpu) {
    gpu.destroy();
    why = `software WebGPU adapter (${gpu.adapterInfo}) is slower than WASM`;
  }
  return wasmOrJs(`auto: ${why}`);
}
