/**
 * Plain TypeScript reference of the default encoder's math (smooth inverse
 * frequency sentence embedding, Arora et al. 2017): the weighted sum of word
 * vectors, minus its projection on the common component, L2-normalised.
 * The ONNX graph computes exactly this; tests hold the two together.
 */

export interface SifWeights {
  dims: number;
  /** Row-major word vectors [vocabSize, dims]; row 0 is padding. */
  table: Int8Array | Float32Array;
  /** Per-row multiplier: SIF weight times the row's quantization scale (1 for float tables); 0 for padding. */
  rowScale: Float32Array;
  /** Unit-length common component [dims]. */
  common: Float32Array;
}

/** Zipf estimate of a word's probability from its frequency rank (0-based) among `total` words. */
export function zipfProbability(rank: number, total: number): number {
  const harmonic = Math.log(total) + 0.5772156649;
  return 1 / ((rank + 1) * harmonic);
}

/** SIF weight a / (a + p(w)). */
export function sifWeight(probability: number, a = 1e-3): number {
  return a / (a + probability);
}

/** Weighted sum of the rows named by ids (before common-component removal). */
export function sifSum(ids: ArrayLike<number>, w: Pick<SifWeights, 'dims' | 'table' | 'rowScale'>): Float32Array {
  const out = new Float32Array(w.dims);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    const s = w.rowScale[id];
    if (s === 0) continue;
    const base = id * w.dims;
    for (let d = 0; d < w.dims; d++) out[d] += w.table[base + d] * s;
  }
  return out;
}

/** Removes the projection on `common` and L2-normalises in place (zero stays zero). */
export function removeCommonAndNormalize(v: Float32Array, common: Float32Array): Float32Array {
  let proj = 0;
  for (let d = 0; d < v.length; d++) proj += v[d] * common[d];
  let norm = 0;
  for (let d = 0; d < v.length; d++) {
    v[d] -= proj * common[d];
    norm += v[d] * v[d];
  }
  const inv = 1 / Math.sqrt(norm + 1e-12);
  for (let d = 0; d < v.length; d++) v[d] *= inv;
  return v;
}

export function sifEmbed(ids: ArrayLike<number>, w: SifWeights): Float32Array {
  return removeCommonAndNormalize(sifSum(ids, w), w.common);
}

/** First principal direction (uncentred, as in SIF) of the rows, by power iteration. Deterministic. */
export function firstPrincipalDirection(rows: Float32Array[], dims: number, iterations = 100): Float32Array {
  const cov = new Float64Array(dims * dims);
  for (const r of rows) {
    let n = 0;
    for (let d = 0; d < dims; d++) n += r[d] * r[d];
    if (n === 0) continue;
    const inv = 1 / n; // unit-normalise each sentence so long texts do not dominate
    for (let i = 0; i < dims; i++) for (let j = 0; j < dims; j++) cov[i * dims + j] += r[i] * r[j] * inv;
  }
  let v = new Float64Array(dims).fill(1 / Math.sqrt(dims));
  for (let it = 0; it < iterations; it++) {
    const next = new Float64Array(dims);
    for (let i = 0; i < dims; i++) {
      let s = 0;
      for (let j = 0; j < dims; j++) s += cov[i * dims + j] * v[j];
      next[i] = s;
    }
    const n = Math.hypot(...next);
    if (!(n > 0)) break; // no signal (all rows zero): keep the unit start vector instead of dividing by 0 (NaN)
    for (let i = 0; i < dims; i++) next[i] /= n;
    v = next;
  }
  // fix the sign so the output is stable: largest-magnitude component positive
  let k = 0;
  for (let i = 1; i < dims; i++) if (Math.abs(v[i]) > Math.abs(v[k])) k = i;
  const sign = v[k] < 0 ? -1 : 1;
  return Float32Array.from(v, (x) => x * sign);
}

/** Symmetric per-row int8 quantization; returns the int8 table and each row's scale. */
export function quantizeRows(table: Float32Array, rows: number, dims: number): { q: Int8Array; scale: Float32Array } {
  const q = new Int8Array(rows * dims);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = 0;
    for (let d = 0; d < dims; d++) max = Math.max(max, Math.abs(table[r * dims + d]));
    const s = max / 127;
    scale[r] = s;
    if (s === 0) continue;
    for (let d = 0; d < dims; d++) q[r * dims + d] = Math.max(-127, Math.min(127, Math.round(table[r * dims + d] / s)));
  }
  return { q, scale };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
