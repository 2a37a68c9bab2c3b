/**
 * The WASM path of catalog scoring: the hand-written scan kernel (WebAssembly text in
 * tools/build-kernel.ts, assembled into scan-kernel-wasm.ts) scores the int8 item matrix
 * against up to 4 queries in one pass and keeps the best k in its own memory (fused
 * top-k). Same integer math and tie rule as the TypeScript twin (quantized-scoring.ts,
 * math/top-k.ts): identical indices and scores. A SIMD build (`i32x4.dot_i16x8_s`) and
 * a scalar build for engines without SIMD; runtime/backend.ts picks one.
 *
 * The item matrix is copied once into the kernel's memory, its rows padded to a
 * multiple of 8 dims; each call writes the queries, the exclusion mask and reads back
 * at most k (score, item) pairs.
 */
import { SCAN_KERNEL_SCALAR, SCAN_KERNEL_SIMD, SIMD_PROBE } from './scan-kernel-wasm';
import type { QuantizedItems, QuantizedQueries } from './quantized-scoring';

/** Which build of the scan kernel runs. */
export type ScanKernel = 'simd' | 'scalar';

const decode = (b64: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/** The bytes of a tiny module using the SIMD dot: `WebAssembly.validate` on it says whether the SIMD build can run. */
export function simdProbe(): Uint8Array<ArrayBuffer> {
  return decode(SIMD_PROBE);
}

const compiled = new Map<ScanKernel, Promise<WebAssembly.Module>>();
function kernelModule(kernel: ScanKernel): Promise<WebAssembly.Module> {
  let m = compiled.get(kernel);
  if (!m) {
    m = WebAssembly.compile(decode(kernel === 'simd' ? SCAN_KERNEL_SIMD : SCAN_KERNEL_SCALAR));
    m.catch(() => compiled.delete(kernel));
    compiled.set(kernel, m);
  }
  return m;
}

type Scan = (
  items: number,
  count: number,
  chunks: number,
  queries: number,
  groups: number,
  weights: number,
  mask: number,
  heap: number,
  k: number,
) => number;

interface KernelExports {
  memory: WebAssembly.Memory;
  scan1: Scan;
  scan2: Scan;
  scan4: Scan;
}

const PAGE = 65536;
const align16 = (n: number): number => Math.ceil(n / 16) * 16;

export class KernelScorer {
  private maskDirty = false;

  private constructor(
    readonly kernel: ScanKernel,
    private readonly wasm: KernelExports,
    readonly count: number,
    private readonly paddedDims: number,
    /** 8-dim chunks per row. */
    private readonly chunks: number,
    private readonly itemsAt: number,
    private readonly scratchAt: number,
  ) {}

  /** Copies the item matrix into a new kernel instance (throws when the memory cannot grow that far). */
  static async create(items: QuantizedItems, kernel: ScanKernel): Promise<KernelScorer> {
    const instance = await WebAssembly.instantiate(await kernelModule(kernel));
    const wasm = instance.exports as unknown as KernelExports;
    const chunks = Math.max(1, Math.ceil(items.paddedDims / 8));
    const stride = chunks * 8;
    const itemsAt = align16(items.count); // the mask (one byte per item) comes first
    const scratchAt = align16(itemsAt + items.count * stride);
    const scorer = new KernelScorer(kernel, wasm, items.count, items.paddedDims, chunks, itemsAt, scratchAt);
    scorer.reserve(scratchAt);
    const mem = new Int8Array(wasm.memory.buffer);
    const P = items.paddedDims;
    if (P === stride) mem.set(items.data.subarray(0, items.count * P), itemsAt);
    else for (let i = 0; i < items.count; i++) mem.set(items.data.subarray(i * P, (i + 1) * P), itemsAt + i * stride);
    return scorer;
  }

  /** Bytes of the kernel's memory (item matrix, mask, scratch), outside the JS heap. */
  get memoryBytes(): number {
    return this.wasm.memory.buffer.byteLength;
  }

  private reserve(bytes: number): void {
    const have = this.wasm.memory.buffer.byteLength;
    if (bytes <= have) return;
    try {
      this.wasm.memory.grow(Math.ceil((bytes - have) / PAGE));
    } catch (e) {
      throw new Error(`the scan kernel could not reserve ${(bytes / 2 ** 20).toFixed(0)} MiB of WebAssembly memory (${(e as Error).message})`, {
        cause: e,
      });
    }
  }

  /** Top k of max_q weight_q * dot(item, q), best first, ties by the lower item index; excluded items skipped. */
  topK(queries: QuantizedQueries, k: number, excluded?: Uint8Array): { indices: number[]; scores: number[] } {
    if (queries.paddedDims !== this.paddedDims) throw new Error(`queries have ${queries.paddedDims} dims, the catalog matrix ${this.paddedDims}`);
    const kk = Math.min(this.count, Math.max(0, Math.floor(k)));
    if (kk === 0) return { indices: [], scores: [] };
    const Q = queries.count;
    // one query, two, or groups of four (a group is filled up with copies of a real query: the max is unchanged)
    const per: 1 | 2 | 4 = Q <= 1 ? 1 : Q === 2 ? 2 : 4;
    const groups = Math.max(1, Math.ceil(Q / per));
    const C = this.chunks;
    const simd = this.kernel === 'simd';
    const qBytes = groups * C * per * (simd ? 16 : 32);
    const qAt = this.scratchAt;
    const wAt = align16(qAt + qBytes);
    const heapAt = align16(wAt + groups * 16);
    this.reserve(heapAt + kk * 8);
    const buffer = this.wasm.memory.buffer;

    const values = simd ? new Int16Array(buffer, qAt, qBytes / 2) : new Int32Array(buffer, qAt, qBytes / 4);
    values.fill(0);
    const w = new Int32Array(buffer, wAt, groups * 4);
    const P = this.paddedDims;
    for (let g = 0; g < groups; g++) {
      for (let j = 0; j < per; j++) {
        const q = Math.min(g * per + j, Q - 1); // Q = 0: no query, weight 0, every score 0 (as the twin)
        const weight = q >= 0 ? queries.weights[q] : 0;
        if (simd && per === 2) w[g * 4 + j] = w[g * 4 + j + 2] = weight;
        else w[g * (simd ? 4 : per) + j] = weight;
        if (q < 0) continue;
        for (let d = 0; d < P; d++) values[((g * C + (d >> 3)) * per + j) * 8 + (d & 7)] = queries.data[q * P + d];
      }
    }
    const mask = new Uint8Array(buffer, 0, this.count);
    if (excluded) {
      mask.set(excluded.length > this.count ? excluded.subarray(0, this.count) : excluded);
      if (excluded.length < this.count) mask.fill(0, excluded.length);
      this.maskDirty = true;
    } else if (this.maskDirty) {
      mask.fill(0);
      this.maskDirty = false;
    }
    const scan = per === 1 ? this.wasm.scan1 : per === 2 ? this.wasm.scan2 : this.wasm.scan4;
    const n = scan(this.itemsAt, this.count, C, qAt, groups, wAt, 0, heapAt, kk);
    const heap = new Int32Array(this.wasm.memory.buffer, heapAt, n * 2);
    const order = Array.from({ length: n }, (_, t) => t);
    order.sort((a, b) => heap[2 * b] - heap[2 * a] || heap[2 * a + 1] - heap[2 * b + 1]);
    return { indices: order.map((t) => heap[2 * t + 1]), scores: order.map((t) => heap[2 * t]) };
  }
}
