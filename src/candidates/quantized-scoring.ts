/**
 * Exact, integer catalog scoring shared by every compute path.
 *
 * Item vectors and query vectors (unit length) are quantized to int8
 * (round(x * 127)); a weight per query to an integer in [0, 255]. An item's
 * score is max over queries of weight_q * dot_i32(item, query_q): integer math,
 * so the WebGPU kernel and this TypeScript twin return bit-identical scores and
 * therefore identical top k (ties broken by the lower item index).
 */
import type { ItemMatrix } from '../math/matrix';

export interface QuantizedItems {
  count: number;
  dims: number;
  /** Dims padded to a multiple of 4 (int8 packed four to a u32). */
  paddedDims: number;
  /** [count, paddedDims] int8. */
  data: Int8Array;
}

export function quantizeUnit(x: number): number {
  return Math.max(-127, Math.min(127, Math.round(x * 127)));
}

export function quantizeItems(m: ItemMatrix): QuantizedItems {
  const paddedDims = Math.ceil(m.dims / 4) * 4;
  const data = new Int8Array(m.count * paddedDims);
  for (let i = 0; i < m.count; i++) {
    for (let d = 0; d < m.dims; d++) data[i * paddedDims + d] = quantizeUnit(m.data[i * m.dims + d]);
  }
  return { count: m.count, dims: m.dims, paddedDims, data };
}

export interface QuantizedQueries {
  count: number;
  paddedDims: number;
  data: Int8Array;
  /** Integer weight per query, 0..255. */
  weights: Uint32Array;
}

export function quantizeQueries(queries: readonly Float32Array[], weights: readonly number[], paddedDims: number): QuantizedQueries {
  const data = new Int8Array(queries.length * paddedDims);
  queries.forEach((q, j) => {
    for (let d = 0; d < q.length; d++) data[j * paddedDims + d] = quantizeUnit(q[d]);
  });
  const maxW = Math.max(1e-12, ...weights);
  return {
    count: queries.length,
    paddedDims,
    data,
    weights: Uint32Array.from(weights, (w) => Math.max(0, Math.min(255, Math.round((w / maxW) * 255)))),
  };
}

/** Scores every item: max_q weight_q * dot(item, q), as exact integers. */
export function scoreQuantized(items: QuantizedItems, queries: QuantizedQueries): Int32Array {
  const out = new Int32Array(items.count);
  const P = items.paddedDims; // a multiple of 4: the inner loop is unrolled by 4
  const a = items.data;
  const b = queries.data;
  const Q = queries.count;
  if (Q === 0) return out;
  for (let i = 0, base = 0; i < items.count; i++, base += P) {
    let best = -2147483648;
    for (let q = 0, qb = 0; q < Q; q++, qb += P) {
      let s0 = 0;
      let s1 = 0;
      for (let d = 0; d < P; d += 4) {
        s0 += a[base + d] * b[qb + d] + a[base + d + 1] * b[qb + d + 1];
        s1 += a[base + d + 2] * b[qb + d + 2] + a[base + d + 3] * b[qb + d + 3];
      }
      const v = (s0 + s1) * queries.weights[q];
      if (v > best) best = v;
    }
    out[i] = best;
  }
  return out;
}
