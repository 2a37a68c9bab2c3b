/**
 * Paired bootstrap over users for the ranking evaluation: the difference in HR@10 and
 * NDCG@10 between two rankings of the same users, every replicate drawing the same
 * resampled users for both (1,000 resamples, seed 42 by default; percentile interval).
 */
import { mulberry32 } from '../../src/math/random';

export interface PairedDifference {
  /** a minus b on all users. */
  hr10: number;
  ndcg10: number;
  /** 95% percentile intervals of the difference. */
  hr10Ci: [number, number];
  ndcg10Ci: [number, number];
}

const gain = (r: number | null, k: number): [number, number] => (r !== null && r < k ? [1, 1 / Math.log2(r + 2)] : [0, 0]);

/** Percentile interval (2.5%, 97.5%) of bootstrap replicates (nearest rank), rounded to 4 digits. */
export function ci95(v: readonly number[]): [number, number] {
  const s = [...v].sort((x, y) => x - y);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
  return [round(at(0.025)), round(at(0.975))];
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;

/** The paired difference a - b of per-user 0-based ranks (null: not ranked), HR@k and NDCG@k. */
export function pairedBootstrap(
  a: readonly (number | null)[],
  b: readonly (number | null)[],
  options: { resamples?: number; seed?: number; k?: number } = {},
): PairedDifference {
  if (a.length !== b.length)
    throw new RangeError(`pairedBootstrap: the rankings cover ${a.length} and ${b.length} users; they must be the same users`);
  const { resamples = 1000, seed = 42, k = 10 } = options;
  const n = a.length;
  const dh = new Float64Array(n);
  const dn = new Float64Array(n);
  for (let u = 0; u < n; u++) {
    const [ha, na] = gain(a[u], k);
    const [hb, nb] = gain(b[u], k);
    dh[u] = ha - hb;
    dn[u] = na - nb;
  }
  const mean = (v: Float64Array): number => (n ? v.reduce((s, x) => s + x, 0) / n : 0);
  const rand = mulberry32(seed);
  const hr: number[] = [];
  const nd: number[] = [];
  for (let r = 0; r < resamples; r++) {
    let sh = 0;
    let sn = 0;
    for (let i = 0; i < n; i++) {
      const u = Math.floor(rand() * n);
      sh += dh[u];
      sn += dn[u];
    }
    hr.push(n ? sh / n : 0);
    nd.push(n ? sn / n : 0);
  }
  return { hr10: round(mean(dh)), ndcg10: round(mean(dn)), hr10Ci: ci95(hr), ndcg10Ci: ci95(nd) };
}
