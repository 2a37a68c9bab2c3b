/** Top-k selection, the one the whole engine uses. */
/**
 * Indices of the k largest scores, best first; equal scores keep the lower index
 * first. -Infinity and NaN mark excluded items, and so does a non-zero byte in
 * `excluded`. Every top k of the engine (float or integer scores) goes through
 * here, so every path breaks ties the same way.
 */
export function topK(scores: ArrayLike<number>, k: number, excluded?: Uint8Array): number[] {
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
    if (!(s > -Infinity) || excluded?.[i]) continue; // skips -Infinity, NaN and excluded items
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
