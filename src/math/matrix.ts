/**
 * Plain TypeScript scoring path ("js"): similarity of every catalog item to a
 * few query vectors, and top-k selection with ties broken by item index.
 * The WebGPU and WASM paths must return exactly what these return.
 */

/** Row-major item vectors [count, dims]. */
export interface ItemMatrix {
  count: number;
  dims: number;
  data: Float32Array;
}

export function emptyMatrix(dims: number): ItemMatrix {
  return { count: 0, dims, data: new Float32Array(0) };
}

export function matrixFromRows(rows: readonly Float32Array[], dims: number): ItemMatrix {
  const data = new Float32Array(rows.length * dims);
  rows.forEach((r, i) => data.set(r.subarray(0, dims), i * dims));
  return { count: rows.length, dims, data };
}

export function rowOf(m: ItemMatrix, index: number): Float32Array {
  return m.data.subarray(index * m.dims, (index + 1) * m.dims);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>, dims = a.length): number {
  let s = 0;
  for (let d = 0; d < dims; d++) s += a[d] * b[d];
  return s;
}

/** Similarities [queries.length][count]: out[q][i] = items[i] . queries[q]. */
export function similarities(m: ItemMatrix, queries: readonly Float32Array[]): Float32Array[] {
  const out = queries.map(() => new Float32Array(m.count));
  const { dims, data } = m;
  for (let i = 0; i < m.count; i++) {
    const base = i * dims;
    for (let q = 0; q < queries.length; q++) {
      const v = queries[q];
      let s = 0;
      for (let d = 0; d < dims; d++) s += data[base + d] * v[d];
      out[q][i] = s;
    }
  }
  return out;
}

/**
 * Indices of the k largest finite scores, best first; equal scores keep the
 * lower index first. -Infinity and NaN mark excluded items.
 */
export function topK(scores: Float32Array | Float64Array, k: number): number[] {
  if (k <= 0) return [];
  const heapIdx: number[] = []; // min-heap of the current best k (worst on top)
  const worse = (a: number, b: number): boolean => scores[a] < scores[b] || (scores[a] === scores[b] && a > b);
  const siftUp = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(heapIdx[i], heapIdx[p])) break;
      [heapIdx[i], heapIdx[p]] = [heapIdx[p], heapIdx[i]];
      i = p;
    }
  };
  const siftDown = (i: number): void => {
    const n = heapIdx.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < n && worse(heapIdx[l], heapIdx[w])) w = l;
      if (r < n && worse(heapIdx[r], heapIdx[w])) w = r;
      if (w === i) return;
      [heapIdx[i], heapIdx[w]] = [heapIdx[w], heapIdx[i]];
      i = w;
    }
  };
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (!(s > -Infinity)) continue; // skips -Infinity and NaN
    if (heapIdx.length < k) {
      heapIdx.push(i);
      siftUp(heapIdx.length - 1);
    } else if (worse(heapIdx[0], i)) {
      heapIdx[0] = i;
      siftDown(0);
    }
  }
  return heapIdx.sort((a, b) => scores[b] - scores[a] || a - b);
}
