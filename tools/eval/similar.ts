/**
 * npm run eval -- similar <movielens-dir> [--json]
 *
 * Offline evaluation of similar items (docs/evaluation.md section 4): a leave-one-out
 * "next item after X" protocol on the ranking protocol's leave-last-out split. For each
 * user, the pairs (last training item -> validation item) and (validation item -> test
 * item); similar(X) is ranked by the engine's own rankSimilar (src/ranking/pipeline.ts)
 * with the visitor's profile of their history up to X, and scored on whether `next` is
 * in its slate of 10. The global model is the one the ranking protocol builds from every
 * user's training interactions only, so no evaluated pair is ever in it. The blend's
 * co-visitation weight is chosen on a disjoint set of validation users (a third of the
 * users, shuffled with seed 42); the reported rows are on the other users.
 */
import type { GlobalModel } from '../../src/formats/global-model-file';
import { placeGlobalModel, type GlobalContext } from '../../src/global/global-model';
import { mulberry32 } from '../../src/math/random';
import { rankSimilar } from '../../src/ranking/pipeline';
import { DEFAULT_RANKING_CONFIG, type RankingConfig } from '../../src/ranking/score';
import type { SimilarKind } from '../../src/types';
import type { CatalogIndex } from '../../src/vectors/catalog-index';
import type { Profile } from '../../src/profile/profile';
import { movieLensIndex, profileFor } from '../data/ml-index';
import { loadMovieLens, type Interaction } from '../data/movielens';
import { hitMetrics, splitLeaveLastOut, type UserSplit } from '../data/split';
import type { LoggedInteraction } from '../global/build';

const log = (msg: string): void => void process.stderr.write(`[eval similar] ${msg}\n`);

/** Seed of the validation / reported user split. */
export const SIMILAR_SEED = 42;
/** Share of the users whose pairs choose the blend weight (never reported). */
export const VALIDATION_SHARE = 1 / 3;
/** Co-visitation weights of the blend tried on the validation users (content weight 1). */
export const VIEWED_WEIGHT_GRID = [0.25, 0.5, 1, 2, 4, 8, 16];

/** One "next item after X" case: the visitor's history up to and including X, and the item they interacted with next. */
export interface SimilarPair {
  userId: number;
  history: Interaction[];
  x: number;
  next: number;
}

/** The pairs of one user: (last training item -> validation item), (validation item -> test item). */
export function pairsOf(s: UserSplit): { history: Interaction[]; x: Interaction; next: Interaction }[] {
  const last = s.train[s.train.length - 1];
  return [
    { history: s.train, x: last, next: s.validation },
    { history: [...s.train, s.validation], x: s.validation, next: s.test },
  ];
}

/** Users split deterministically: a shuffled third (seed 42) for validation, the rest reported. */
export function splitUsers(splits: readonly UserSplit[], seed = SIMILAR_SEED): { validation: UserSplit[]; reported: UserSplit[] } {
  const order = splits.map((_, i) => i);
  const rand = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const cut = Math.round(splits.length * VALIDATION_SHARE);
  const inValidation = new Set(order.slice(0, cut));
  return { validation: splits.filter((_, i) => inValidation.has(i)), reported: splits.filter((_, i) => !inValidation.has(i)) };
}

export interface SimilarRow {
  name: string;
  kind: SimilarKind;
  viewedWeight: number;
  hr10: number;
  ndcg10: number;
}

interface Setting {
  name: string;
  kind: SimilarKind;
  config: RankingConfig;
}

const withViewed = (viewed: number): RankingConfig => ({ ...DEFAULT_RANKING_CONFIG, similar: { ...DEFAULT_RANKING_CONFIG.similar, viewed } });
const round = (x: number): number => Math.round(x * 10_000) / 10_000;

/** Scores each setting on the pairs of these users: the rank of `next` in rankSimilar's slate of 10 (the engine's, MMR included). */
export function evaluatePairs(
  settings: readonly Setting[],
  users: readonly UserSplit[],
  index: CatalogIndex,
  global: GlobalContext,
): { rows: SimilarRow[]; pairs: number } {
  const ranks = settings.map(() => [] as (number | null)[]);
  let pairs = 0;
  const t0 = Date.now();
  for (const [n, u] of users.entries()) {
    for (const p of pairsOf(u)) {
      const x = index.indexOf.get(String(p.x.movieId));
      const next = index.indexOf.get(String(p.next.movieId));
      if (x === undefined || next === undefined || p.x.movieId === p.next.movieId) continue;
      pairs++;
      const profile: Profile = profileFor(p.history, index);
      for (const [si, s] of settings.entries()) {
        const { slate } = rankSimilar({ catalog: index, global, profile, config: s.config }, x, 10, { kind: s.kind, now: p.x.timestamp * 1000 });
        const r = slate.indexOf(next);
        ranks[si].push(r >= 0 ? r : null);
      }
    }
    if ((n + 1) % 100 === 0) log(`${n + 1}/${users.length} users (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return {
    pairs,
    rows: settings.map((s, si) => {
      const m = hitMetrics(ranks[si]);
      return { name: s.name, kind: s.kind, viewedWeight: s.config.similar.viewed, hr10: round(m.hr), ndcg10: round(m.ndcg) };
    }),
  };
}

function table(rows: readonly SimilarRow[], title: string): string {
  const lines = [title, '| similar(X) | HR@10 | NDCG@10 |', '| --- | --- | --- |'];
  for (const r of rows) lines.push(`| ${r.name} | ${r.hr10.toFixed(4)} | ${r.ndcg10.toFixed(4)} |`);
  return lines.join('\n');
}

export async function runSimilar(
  dir: string,
  flags: Set<string>,
  globalModel: (training: LoggedInteraction[]) => Promise<GlobalModel>,
): Promise<void> {
  const started = Date.now();
  const ml = loadMovieLens(dir);
  const index = await movieLensIndex(ml);
  const splits = splitLeaveLastOut(ml.ratings);
  // the ranking protocol's global model: every user's training interactions, never a validation or test item
  const training: LoggedInteraction[] = [];
  for (const s of splits) for (const r of s.train) training.push({ user: String(s.userId), item: String(r.movieId), timestamp: r.timestamp });
  const global = placeGlobalModel(await globalModel(training), index.indexOf);
  const { validation, reported } = splitUsers(splits);
  log(`${dir}: ${index.items.length} items, ${validation.length} validation users, ${reported.length} reported users`);

  const d = DEFAULT_RANKING_CONFIG.similar.viewed;
  const grid = VIEWED_WEIGHT_GRID.includes(d) ? VIEWED_WEIGHT_GRID : [...VIEWED_WEIGHT_GRID, d].sort((a, b) => a - b);
  const single: Setting[] = [
    { name: 'content only', kind: 'content', config: DEFAULT_RANKING_CONFIG },
    { name: 'co-visitation only (viewed-together)', kind: 'viewed-together', config: DEFAULT_RANKING_CONFIG },
  ];
  const blendName = (w: number): string => `blend, co-visitation weight ${w}${w === d ? ' (the default)' : ''}`;
  const tuning = grid.map((w): Setting => ({ name: blendName(w), kind: 'blend', config: withViewed(w) }));
  const val = evaluatePairs([...single, ...tuning], validation, index, global);
  // the weight with the best validation NDCG@10 (ties: HR@10, then the smaller weight)
  const best = val.rows.slice(single.length).reduce((a, b) => (b.ndcg10 > a.ndcg10 || (b.ndcg10 === a.ndcg10 && b.hr10 > a.hr10) ? b : a));
  const chosen = best.viewedWeight;
  const settings: Setting[] = [...single, { name: blendName(d), kind: 'blend', config: DEFAULT_RANKING_CONFIG }];
  if (chosen !== d) settings.push({ name: `${blendName(chosen)}, chosen on validation`, kind: 'blend', config: withViewed(chosen) });
  const test = evaluatePairs(settings, reported, index, global);
  const seconds = Math.round((Date.now() - started) / 100) / 10;

  console.log(table(val.rows, `\nValidation (${validation.length} users, ${val.pairs} pairs): choosing the blend's co-visitation weight`));
  console.log(table(test.rows, `\nReported (${reported.length} other users, ${test.pairs} pairs; next item after X in similar(X)'s slate of 10)`));
  const blend = test.rows[2];
  const betterSingle = Math.max(test.rows[0].ndcg10, test.rows[1].ndcg10);
  console.log(
    `\nchosen on validation: co-visitation weight ${chosen}${chosen === d ? ' (the default)' : ` (the default is ${d})`}; default blend NDCG@10 ${blend.ndcg10} vs better single row ${betterSingle}; ${seconds} s`,
  );
  if (flags.has('--json')) {
    console.log(
      JSON.stringify({
        protocol: 'similar',
        dataset: dir,
        users: reported.length,
        pairs: test.pairs,
        items: index.items.length,
        hr10: blend.hr10,
        ndcg10: blend.ndcg10,
        rows: Object.fromEntries(test.rows.map((r) => [r.name, r])),
        validation: {
          users: validation.length,
          pairs: val.pairs,
          chosenViewedWeight: chosen,
          rows: Object.fromEntries(val.rows.map((r) => [r.name, r])),
        },
        seed: SIMILAR_SEED,
        seconds,
      }),
    );
  }
}
