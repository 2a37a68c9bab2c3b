/** The evaluation protocol's pieces (docs/evaluation.md section 1), shared by eval and head training. */
import { mulberry32 } from '../../src/math/random';
import type { Interaction } from './movielens';

export interface UserSplit {
  userId: number;
  train: Interaction[];
  validation: Interaction;
  test: Interaction;
}

/** Leave-last-out by time (ties by movieId); users with fewer than 3 interactions are skipped. */
export function splitLeaveLastOut(ratings: readonly Interaction[]): UserSplit[] {
  const byUser = new Map<number, Interaction[]>();
  for (const r of ratings) {
    const list = byUser.get(r.userId);
    if (list) list.push(r);
    else byUser.set(r.userId, [r]);
  }
  const out: UserSplit[] = [];
  for (const userId of [...byUser.keys()].sort((a, b) => a - b)) {
    const list = (byUser.get(userId) as Interaction[]).sort((a, b) => a.timestamp - b.timestamp || a.movieId - b.movieId);
    if (list.length < 3) continue;
    out.push({ userId, train: list.slice(0, -2), validation: list[list.length - 2], test: list[list.length - 1] });
  }
  return out;
}

/** HR@k and NDCG@k from 0-based ranks (null = not ranked / excluded). */
export function hitMetrics(ranks: (number | null)[], k = 10): { hr: number; ndcg: number } {
  let hits = 0;
  let ndcg = 0;
  for (const r of ranks) {
    if (r !== null && r < k) {
      hits++;
      ndcg += 1 / Math.log2(r + 2);
    }
  }
  return { hr: ranks.length ? hits / ranks.length : 0, ndcg: ranks.length ? ndcg / ranks.length : 0 };
}

/** 0-based rank of `target` under the same order topK uses (score desc, then index asc). */
export function rankOf(scores: Float32Array, target: number): number | null {
  const s = scores[target];
  if (!(s > -Infinity)) return null;
  let rank = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i] > s || (scores[i] === s && i < target)) rank++;
  return rank;
}

/**
 * Items picked for the cold-start variant: 10% of the distinct test targets (the evaluation passes seed 42); with
 * `target` 'validation' 10% of the distinct validation targets not in `exclude` (it passes seed 43 and the test's
 * cold items): the cold items the variant's rows are chosen on.
 */
export function coldItems(
  splits: readonly UserSplit[],
  seed = 42,
  target: 'test' | 'validation' = 'test',
  exclude: ReadonlySet<number> = new Set(),
): Set<number> {
  const targets = [...new Set(splits.map((s) => s[target].movieId))].filter((m) => !exclude.has(m)).sort((a, b) => a - b);
  const rand = mulberry32(seed);
  for (let i = targets.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [targets[i], targets[j]] = [targets[j], targets[i]];
  }
  return new Set(targets.slice(0, Math.round(targets.length * 0.1)));
}

