/**
 * WebGPU path of catalog scoring: the int8 item matrix lives in a storage
 * buffer; one compute pass scores every item against several query (interest)
 * vectors and keeps a per-workgroup top k on the GPU; the page merges the few
 * per-workgroup winners. Same integer math as quantized-scoring.ts, so results
 * are identical to the TypeScript twin. Where WGSL has the
 * packed_4x8_integer_dot_product language feature, four int8 products of a word
 * are one dot4I8Packed; elsewhere the bytes are sign-extended and multiplied one by one.
 */
import type { QuantizedItems, QuantizedQueries } from './quantized-scoring';
import { isSoftwareAdapter, wgslDotVariant } from '../runtime/backend';

/** Largest k the kernel selects on the GPU (larger k: use the TypeScript twin). */
export const GPU_MAX_K = 32;
const WORKGROUP = 64;
const ITEMS_PER_WORKGROUP = 2048;

const shader = (packedDot: boolean): string => /* wgsl */ `
struct Params { count: u32, words: u32, queries: u32, k: u32 };
@group(0) @binding(0) var<storage, read> items: array<u32>;
@group(0) @binding(1) var<storage, read> queries: array<u32>;
@group(0) @binding(2) var<storage, read> weights: array<u32>;
@group(0) @binding(3) var<storage, read> excluded: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read_write> out_scores: array<i32>;
@group(0) @binding(6) var<storage, read_write> out_index: array<u32>;

const K: u32 = ${GPU_MAX_K}u;
const WG: u32 = ${WORKGROUP}u;
const CHUNK: u32 = ${ITEMS_PER_WORKGROUP}u;
const NONE: u32 = 0xffffffffu;
const WORST: i32 = -2147483647 - 1;

var<workgroup> shared_s: array<i32, ${WORKGROUP * GPU_MAX_K}>;
var<workgroup> shared_i: array<u32, ${WORKGROUP * GPU_MAX_K}>;

fn sext(w: u32, byte: u32) -> i32 {
  return i32(w << (24u - 8u * byte)) >> 24u;
}

fn dot_packed(a: u32, b: u32) -> i32 {
  ${
    packedDot
      ? 'return dot4I8Packed(a, b);'
      : 'return sext(a, 0u) * sext(b, 0u) + sext(a, 1u) * sext(b, 1u) + sext(a, 2u) * sext(b, 2u) + sext(a, 3u) * sext(b, 3u);'
  }
}

// a beats b: higher score, then lower index; NONE never beats anything
fn beats(sa: i32, ia: u32, sb: i32, ib: u32) -> bool {
  if (ia == NONE) { return false; }
  if (ib == NONE) { return true; }
  return sa > sb || (sa == sb && ia < ib);
}

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  var best_s: array<i32, K>;
  var best_i: array<u32, K>;
  for (var t = 0u; t < K; t++) { best_s[t] = WORST; best_i[t] = NONE; }
  let k = min(params.k, K);
  let start = wid.x * CHUNK;
  let end = min(start + CHUNK, params.count);
  for (var item = start + lid.x; item < end; item += WG) {
    if ((excluded[item >> 5u] & (1u << (item & 31u))) != 0u) { continue; }
    var score = WORST;
    for (var q = 0u; q < params.queries; q++) {
      var s = 0;
      for (var w = 0u; w < params.words; w++) {
        s += dot_packed(items[item * params.words + w], queries[q * params.words + w]);
      }
      score = max(score, s * i32(weights[q]));
    }
    if (beats(score, item, best_s[k - 1u], best_i[k - 1u])) {
      var p = k - 1u;
      loop {
        if (p == 0u || !beats(score, item, best_s[p - 1u], best_i[p - 1u])) { break; }
        best_s[p] = best_s[p - 1u];
        best_i[p] = best_i[p - 1u];
        p -= 1u;
      }
      best_s[p] = score;
      best_i[p] = item;
    }
  }
  for (var t = 0u; t < K; t++) {
    shared_s[lid.x * K + t] = best_s[t];
    shared_i[lid.x * K + t] = best_i[t];
  }
  workgroupBarrier();
  if (lid.x == 0u) {
    // merge the sorted per-thread lists: k rounds, each takes the best head
    var heads: array<u32, ${WORKGROUP}>;
    for (var r = 0u; r < WG; r++) { heads[r] = 0u; }
    for (var t = 0u; t < k; t++) {
      var win = NONE;
      var ws = WORST;
      var wi = NONE;
      for (var r = 0u; r < WG; r++) {
        if (heads[r] >= k) { continue; }
        let s = shared_s[r * K + heads[r]];
        let i = shared_i[r * K + heads[r]];
        if (beats(s, i, ws, wi)) { ws = s; wi = i; win = r; }
      }
      out_scores[wid.x * K + t] = ws;
      out_index[wid.x * K + t] = wi;
      if (win != NONE) { heads[win] += 1u; }
    }
  }
}
`;

function packInt8(data: Int8Array): Uint32Array {
  return new Uint32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

export interface GpuTopK {
  indices: number[];
  scores: number[];
}

export class WebGpuScorer {
  private itemsBuffer: GPUBuffer | null = null;
  private count = 0;
  private words = 0;
  private lost = false;

  private constructor(
    readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    readonly adapterInfo: string,
    /** A software adapter (SwiftShader, fallback): WebGPU emulated on the CPU. */
    readonly software: boolean,
    /** The shader uses dot4I8Packed (WGSL's packed_4x8_integer_dot_product). */
    readonly packedDot: boolean,
  ) {
    void device.lost.then(() => (this.lost = true));
  }

  /**
   * null when this browser has no usable WebGPU adapter. `packedDot`: the shader variant
   * (default: dot4I8Packed where WGSL has it, runtime/backend.ts wgslDotVariant).
   */
  static async create(options: { packedDot?: boolean } = {}): Promise<WebGpuScorer | null> {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) return null;
    const packedDot = options.packedDot ?? wgslDotVariant(gpu) === 'dot4I8Packed';
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    // ask for the adapter's own buffer limits (the defaults cap storage buffers at 128 MiB: 1.3M items of 100 dims)
    const device = await adapter.requestDevice({
      requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
    });
    const module = device.createShaderModule({ code: shader(packedDot) });
    const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    return new WebGpuScorer(device, pipeline, `${info.vendor} ${info.architecture}`.trim(), isSoftwareAdapter(info), packedDot);
  }

  get isLost(): boolean {
    return this.lost;
  }

  /** Bytes held on the GPU for the item matrix. */
  get itemBytes(): number {
    return this.itemsBuffer?.size ?? 0;
  }

  upload(items: QuantizedItems): void {
    this.itemsBuffer?.destroy();
    this.itemsBuffer = null;
    const limit = Math.min(this.device.limits.maxStorageBufferBindingSize, this.device.limits.maxBufferSize);
    if (items.data.byteLength > limit) {
      throw new Error(
        `the catalog matrix (${(items.data.byteLength / 2 ** 20).toFixed(0)} MiB) exceeds this GPU's storage buffer limit (${(limit / 2 ** 20).toFixed(0)} MiB)`,
      );
    }
    const packed = packInt8(items.data);
    this.itemsBuffer = this.storage(packed);
    this.count = items.count;
    this.words = items.paddedDims / 4;
  }

  private storage(data: Uint32Array | Int32Array, extra = 0): GPUBuffer {
    const size = Math.max(16, Math.ceil((data.byteLength + extra) / 16) * 16);
    const buffer = this.device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST, mappedAtCreation: true });
    new Uint32Array(buffer.getMappedRange()).set(new Uint32Array(data.buffer, data.byteOffset, data.byteLength / 4));
    buffer.unmap();
    return buffer;
  }

  /** Top k (k <= GPU_MAX_K) of max_q weight_q * dot(item, q), excluded items skipped. */
  async topK(queries: QuantizedQueries, k: number, excluded?: Uint8Array): Promise<GpuTopK> {
    if (!this.itemsBuffer) throw new Error('upload the item matrix first');
    if (this.lost) throw new Error('the GPU device was lost');
    if (k > GPU_MAX_K) throw new Error(`the GPU kernel selects at most ${GPU_MAX_K} items`);
    const d = this.device;
    const groups = Math.ceil(this.count / ITEMS_PER_WORKGROUP);
    const mask = new Uint32Array(Math.ceil(this.count / 32) + 1);
    if (excluded) for (let i = 0; i < this.count; i++) if (excluded[i]) mask[i >> 5] |= 1 << (i & 31);
    const q = this.storage(packInt8(queries.data));
    const w = this.storage(queries.weights);
    const m = this.storage(mask);
    const params = d.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    d.queue.writeBuffer(params, 0, new Uint32Array([this.count, this.words, queries.count, k]));
    const outBytes = Math.max(16, groups * GPU_MAX_K * 4);
    const outS = d.createBuffer({ size: outBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const outI = d.createBuffer({ size: outBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const readS = d.createBuffer({ size: outBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const readI = d.createBuffer({ size: outBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const bind = d.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [this.itemsBuffer, q, w, m, params, outS, outI].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const enc = d.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(groups);
    pass.end();
    enc.copyBufferToBuffer(outS, 0, readS, 0, outBytes);
    enc.copyBufferToBuffer(outI, 0, readI, 0, outBytes);
    d.queue.submit([enc.finish()]);
    await Promise.all([readS.mapAsync(GPUMapMode.READ), readI.mapAsync(GPUMapMode.READ)]);
    const s = new Int32Array(readS.getMappedRange().slice(0));
    const idx = new Uint32Array(readI.getMappedRange().slice(0));
    for (const b of [q, w, m, params, outS, outI, readS, readI]) b.destroy();
    // merge the per-workgroup winners (groups * k entries) on the page
    const cand: number[] = [];
    for (let g = 0; g < groups; g++) for (let t = 0; t < k; t++) if (idx[g * GPU_MAX_K + t] !== 0xffffffff) cand.push(g * GPU_MAX_K + t);
    cand.sort((a, b) => s[b] - s[a] || idx[a] - idx[b]);
    const top = cand.slice(0, k);
    return { indices: top.map((c) => idx[c]), scores: top.map((c) => s[c]) };
  }

  destroy(): void {
    this.itemsBuffer?.destroy();
    this.device.destroy();
  }
}
