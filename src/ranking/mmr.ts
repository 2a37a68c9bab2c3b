/** Diversity of a slate: maximal marginal relevance selection, and intra-list diversity as a measure. */
import { dot, rowOf, type ItemMatrix } from '../math/matrix';
import { topK } from '../math/top-k';

/**
 * Maximal marginal relevance over the best candidates: each pick maximises
 * lambda * score - (1 - lambda) * (highest similarity to an item already picked).
 * Deterministic (ties by index).
 */
export function mmrSelect(scores: Float32Array, matrix: ItemMatrix, k: number, lambda: number, pool = Math.max(50, 5 * k)): number[] {
  const candidates = topK(scores, pool);
  if (lambda >= 1 || candidates.length <= 1) return candidates.slice(0, k);
  // relevance rescaled to [0, 1] over the pool, so lambda means the same whatever the scorer's scale
  const top = scores[candidates[0]];
  const bottom = scores[candidates[candidates.length - 1]];
  const span = top - bottom > 0 ? top - bottom : 1;
  const relevance = candidates.map((c) => (scores[c] - bottom) / span);
  const picked: number[] = [];
  const maxSim = new Float32Array(candidates.length).fill(-Infinity);
  const used = new Uint8Array(candidates.length);
  while (picked.length < k && picked.length < candidates.length) {
    let best = -1;
    let bestValue = -Infinity;
    for (let c = 0; c < candidates.length; c++) {
      if (used[c]) continue;
      const penalty = picked.length === 0 ? 0 : Math.max(0, maxSim[c]);
      const value = lambda * relevance[c] - (1 - lambda) * penalty;
      if (value > bestValue) {
        bestValue = value;
        best = c;
      }
    }
    used[best] = 1;
    const chosen = candidates[best];
    picked.push(chosen);
    const v = rowOf(matrix, chosen);
    for (let c = 0; c < candidates.length; c++) {
      if (!used[c]) maxSim[c] = Math.max(maxSim[c], dot(rowOf(matrix, candidates[c]), v, matrix.dims));
    }
  }
  return picked;
}

/** Intra-list diversity: mean pairwise (1 - cosine) of a slate. */
export function intraListDiversity(slate: number[], matrix: ItemMatrix): number {
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < slate.length; a++) {
    for (let b = a + 1; b < slate.length; b++) {
      sum += 1 - dot(rowOf(matrix, slate[a]), rowOf(matrix, slate[b]), matrix.dims);
      pairs++;
    }
  }
  return pairs ? sum / pairs : 0;
}
