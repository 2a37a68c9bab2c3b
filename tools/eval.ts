/**
 * npm run eval -- ranking <movielens-dir> [--cold-start] [--json] [--tune]
 *
 * Offline top-N evaluation per ../shared/EVALUATION.md section 1, scored with
 * the engine's own ranking code (src/model) and its shipped encoder on WASM.
 * Other protocols (ope, replay) are subcommands of the same command.
 */
import { itemText } from '../src/catalog';
import { matrixFromRows, topK } from '../src/gpu/cpu-scoring';
import { buildProfile, type Profile } from '../src/model/profile';
import {
  applyExclusions,
  catalogOrderPrior,
  DEFAULT_RANKING_CONFIG,
  intraListDiversity,
  mmrSelect,
  rankingScores,
  type CatalogIndex,
  type GlobalContext,
  type RankingConfig,
} from '../src/model/ranking';
import { mapToCatalog } from '../src/model/global-model';
import type { StoredEvent } from '../src/types';
import { loadMovieLens, movieToItem, type Interaction } from './data/movielens';
import { coldItems, hitMetrics, rankOf, splitLeaveLastOut, type UserSplit } from './data/split';
import { buildGlobalModel, type LoggedInteraction } from './global/build';
import { loadNodeEncoder } from './lib/node-models';

const log = (msg: string): void => void process.stderr.write(`[eval] ${msg}\n`);

interface Variant {
  name: string;
  config: RankingConfig;
  global: boolean;
  diversity: boolean;
  popularityOnly?: boolean;
}

interface VariantResult {
  name: string;
  hr10: number;
  ndcg10: number;
  ild: number;
}

function toEvents(history: readonly Interaction[]): StoredEvent[] {
  return history.map((r, i) => ({ type: 'view', itemId: String(r.movieId), timestamp: r.timestamp * 1000, eventId: `e${i}`, seq: i }));
}

function evaluate(
  variants: Variant[],
  splits: readonly UserSplit[],
  index: CatalogIndex,
  global: GlobalContext,
  target: 'validation' | 'test',
  cold: ReadonlySet<number>,
): VariantResult[] {
  const ranks = variants.map(() => [] as (number | null)[]);
  const ild = variants.map(() => 0);
  const t0 = Date.now();
  splits.forEach((u, n) => {
    // for the test figure the validation interaction joins the history (unless it is a cold item)
    const history = target === 'test' && !cold.has(u.validation.movieId) ? [...u.train, u.validation] : u.train;
    const events = toEvents(history);
    const now = (history[history.length - 1]?.timestamp ?? 0) * 1000;
    const profile: Profile = buildProfile(events, (id) => {
      const i = index.indexOf.get(id);
      return i === undefined ? undefined : index.matrix.data.subarray(i * index.matrix.dims, (i + 1) * index.matrix.dims);
    }, now);
    const targetIndex = index.indexOf.get(String((target === 'test' ? u.test : u.validation).movieId));
    variants.forEach((v, vi) => {
      const scores = v.popularityOnly
        ? Float32Array.from(global.model.itemIds.length ? index.items.map((_, i) => popularityOf(global, i)) : [])
        : rankingScores(index, profile, v.global ? global : null, v.config);
      // the protocol: items already in the user's history are excluded
      applyExclusions(scores, index, {}, profile.seen, true);
      let slate: number[];
      if (v.diversity) {
        slate = mmrSelect(scores, index.matrix, 10, v.config.mmrLambda);
        const r = targetIndex === undefined ? -1 : slate.indexOf(targetIndex);
        ranks[vi].push(r >= 0 ? r : null);
      } else {
        slate = topK(scores, 10);
        ranks[vi].push(targetIndex === undefined ? null : rankOf(scores, targetIndex));
      }
      ild[vi] += intraListDiversity(slate, index.matrix);
    });
    if ((n + 1) % 100 === 0) log(`${target}: ${n + 1}/${splits.length} users (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  });
  return variants.map((v, vi) => {
    const m = hitMetrics(ranks[vi]);
    return { name: v.name, hr10: round(m.hr), ndcg10: round(m.ndcg), ild: round(ild[vi] / Math.max(1, splits.length)) };
  });
}

const popularityCache = new WeakMap<GlobalContext, Float32Array>();
function popularityOf(global: GlobalContext, catalogIndex: number): number {
  let p = popularityCache.get(global);
  if (!p) {
    p = new Float32Array(global.rowToCatalog.length ? Math.max(...global.rowToCatalog) + 1 : 0);
    global.rowToCatalog.forEach((c, r) => {
      if (c >= 0) (p as Float32Array)[c] = global.model.popularity[r];
    });
    popularityCache.set(global, p);
  }
  return p[catalogIndex] ?? 0;
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;

type ConfigPatch = Omit<Partial<RankingConfig>, 'weights' | 'sequence'> & { weights?: Partial<RankingConfig['weights']>; sequence?: Partial<RankingConfig['sequence']> };

function withConfig(patch: ConfigPatch): RankingConfig {
  return {
    ...DEFAULT_RANKING_CONFIG,
    ...patch,
    weights: { ...DEFAULT_RANKING_CONFIG.weights, ...patch.weights },
    sequence: { ...DEFAULT_RANKING_CONFIG.sequence, ...patch.sequence },
  };
}

function table(rows: VariantResult[], title: string): string {
  const lines = [title, '| method | HR@10 | NDCG@10 | ILD@10 |', '| --- | --- | --- | --- |'];
  for (const r of rows) lines.push(`| ${r.name} | ${r.hr10.toFixed(4)} | ${r.ndcg10.toFixed(4)} | ${r.ild.toFixed(4)} |`);
  return lines.join('\n');
}

async function ranking(dir: string, flags: Set<string>): Promise<void> {
  const started = Date.now();
  const ml = loadMovieLens(dir);
  const rated = new Set(ml.ratings.map((r) => r.movieId));
  const movies = ml.movies.filter((m) => rated.has(m.movieId));
  const items = movies.map((m) => movieToItem(m, ml.tags.get(m.movieId) ?? []));
  log(`${dir}: ${ml.ratings.length} interactions, ${items.length} candidate items`);

  const encoder = await loadNodeEncoder();
  const vectors = await encoder.embed(items.map(itemText));
  await encoder.dispose();
  const index: CatalogIndex = {
    items,
    indexOf: new Map(items.map((it, i) => [it.id, i] as const)),
    matrix: matrixFromRows(vectors, vectors[0]?.length ?? 100),
    prior: catalogOrderPrior(items.length),
  };

  let splits = splitLeaveLastOut(ml.ratings);
  const coldStart = flags.has('--cold-start');
  let cold = new Set<number>();
  if (coldStart) {
    cold = coldItems(splits);
    splits = splits.filter((s) => cold.has(s.test.movieId)).map((s) => ({ ...s, train: s.train.filter((r) => !cold.has(r.movieId)) }));
    log(`cold start: ${cold.size} cold items, ${splits.length} users whose test target is cold`);
  }
  // on-device rule: the global asset sees only training interactions (never a validation or test target)
  const allSplits = splitLeaveLastOut(ml.ratings);
  const training: LoggedInteraction[] = [];
  for (const s of allSplits) for (const r of s.train) if (!cold.has(r.movieId)) training.push({ user: String(s.userId), item: String(r.movieId), timestamp: r.timestamp });
  log(`building the global model from ${training.length} training interactions`);
  const model = buildGlobalModel(training, { log });
  const global: GlobalContext = { model, rowToCatalog: mapToCatalog(model, index.indexOf), rowOf: new Map(model.itemIds.map((id, r) => [id, r] as const)) };

  const d = DEFAULT_RANKING_CONFIG;
  const variants: Variant[] = [
    { name: 'popularity (time-decayed, global asset)', config: d, global: true, diversity: false, popularityOnly: true },
    { name: 'content only', config: d, global: false, diversity: false },
    { name: '+ global asset (order-blind)', config: withConfig({ weights: { next: 0 }, sequence: { decay: 1, floor: 1 } }), global: true, diversity: false },
    { name: '+ sequence weighting (default engine ranking)', config: d, global: true, diversity: false },
    { name: '+ diversity (MMR, engine default lambda)', config: d, global: true, diversity: true },
  ];
  if (flags.has('--tune')) {
    for (const next of [1, 2, 4]) {
      for (const content of [0.3, 0.6]) {
        for (const popularity of [0.05, 0.2]) {
          for (const recentForNext of [1, 3]) {
            variants.push({ name: `tune next=${next} content=${content} pop=${popularity} recent=${recentForNext}`, config: withConfig({ weights: { next, content, popularity }, sequence: { recentForNext } }), global: true, diversity: false });
          }
        }
      }
    }
  }
  const validation = evaluate(variants, splits, index, global, 'validation', cold);
  const test = flags.has('--tune') ? [] : evaluate(variants, splits, index, global, 'test', cold);
  const seconds = Math.round((Date.now() - started) / 100) / 10;

  console.log(table(validation, `\nValidation (${splits.length} users${coldStart ? ', cold-start' : ''})`));
  if (test.length) console.log(table(test, `\nTest (${splits.length} users${coldStart ? ', cold-start' : ''}; validation interaction joins the history)`));
  const main = (test.length ? test : validation).find((r) => r.name.startsWith('+ sequence')) as VariantResult;
  const popularity = (test.length ? test : validation)[0];
  console.log(`\nengine ranking: HR@10 ${main.hr10}, NDCG@10 ${main.ndcg10}; popularity on the same users: HR@10 ${popularity.hr10}; ${seconds} s`);
  if (flags.has('--json')) {
    console.log(
      JSON.stringify({
        protocol: coldStart ? 'ranking-cold-start' : 'ranking',
        dataset: dir,
        users: splits.length,
        items: items.length,
        hr10: main.hr10,
        ndcg10: main.ndcg10,
        popularity: { hr10: popularity.hr10, ndcg10: popularity.ndcg10 },
        validation: Object.fromEntries(validation.map((r) => [r.name, r])),
        ablation: Object.fromEntries(test.map((r) => [r.name, r])),
        seconds,
      }),
    );
  }
}

async function main(): Promise<void> {
  const [command, dir, ...rest] = process.argv.slice(2);
  const flags = new Set(rest);
  if (command === 'ranking' && dir) return ranking(dir, flags);
  process.stderr.write('usage: npm run eval -- ranking <movielens-dir> [--cold-start] [--json] [--tune]\n');
  process.exit(2);
}

await main();
