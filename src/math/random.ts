/** Small seeded PRNG (mulberry32): deterministic given the seed, for exploration and sampling. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates sample of `k` distinct indices from [0, n) (excluding `skip`). */
export function sampleIndices(n: number, k: number, rand: () => number, skip = -1): number[] {
  const out = new Set<number>();
  const want = Math.min(k, skip >= 0 && skip < n ? n - 1 : n);
  while (out.size < want) {
    const i = Math.floor(rand() * n);
    if (i !== skip) out.add(i);
  }
  return [...out];
}
