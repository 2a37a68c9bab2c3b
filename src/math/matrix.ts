/**
 * Item vectors as one row-major float matrix, and the float math over it
 * (dot products, similarities of every item to a few query vectors). Pure,
 * shared by every room.
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
