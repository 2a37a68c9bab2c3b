/** The p-quantile of timings (nearest rank below: index floor(p n) of the sorted values), rounded to `decimals`; sorts a copy. */
export function percentile(times: readonly number[], p: number, decimals = 2): number {
  const t = [...times].sort((a, b) => a - b);
  const f = 10 ** decimals;
  return Math.round(t[Math.min(t.length - 1, Math.floor(p * t.length))] * f) / f;
}
