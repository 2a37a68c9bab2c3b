/** Seeded random unit vectors for the scoring tests, the lab page and the bench. */
import { mulberry32 } from '../src/math/random';

/** `n` random unit vectors of `dims` (seeded); `dupEvery` > 0 repeats the previous row every `dupEvery` rows, so exact ties occur. */
export function randomUnitRows(n: number, dims: number, seed: number, dupEvery = 0): Float32Array {
  const rand = mulberry32(seed);
  const data = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) {
    if (dupEvery > 0 && i % dupEvery === dupEvery - 1) {
      data.copyWithin(i * dims, (i - 1) * dims, i * dims);
      continue;
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += (data[i * dims + d] = rand() * 2 - 1) ** 2;
    for (let d = 0; d < dims; d++) data[i * dims + d] /= Math.sqrt(norm);
  }
  return data;
}
