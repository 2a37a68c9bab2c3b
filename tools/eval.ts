/**
 * npm run eval -- ranking <movielens-dir> [--cold-start] [--json] [--tune] [--sequence]
 *
 * --sequence trains the behaviour model (training/sasrec) from the directory's training
 * interactions and adds its rows: alone, and combined with the engine's ranking.
 *
 * Offline top-N evaluation per docs/evaluation.md section 1, scored with
 * the engine's own ranking code (src/model) and its shipped encoder on WASM.
 * Other protocols (ope, replay, similar) are subcommands of the same command.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeGlobalModel, encodeGlobalModel, type GlobalAssetOptions, type GlobalModel } from '../src/formats/global-model-file';
import { applyExclusions } from '../src/catalog/rules';
import { placeGlobalModel, type GlobalContext } from '../src/global/global-model';
import { topK } from '../src/math/top-k';
import { OnnxRankingHeads, type RankingHeads } from '../src/ranking/heads';
import { intraListDiversity } from '../src/ranking/mmr';
import { rankForYou } from '../src/ranking/pipeline';
import { DEFAULT_RANKING_CONFIG, type RankingConfig, type SequenceComponents } from '../src/ranking/score';
import type { OnnxSequenceModel } from '../src/ranking/sequence-model';
import { evaluationSequenceModel, sequenceComponentsFor } from './eval/sequence';
import { pairedBootstrap, type PairedDifference } from './eval/paired';
import type { CatalogIndex } from '../src/vectors/catalog-index';
import type { Profile } from '../src/profile/profile';
import { movieLensIndex, profileFor } from './data/ml-index';
import { loadMovieLens } from './data/movielens';
import { coldItems, hitMetrics, rankOf, splitLeaveLastOut, type UserSplit } from './data/split';
import type { LoggedInteraction } from './global/build';
import { buildFingerprint, buildFromInteractions, DEFAULT_BUILD_SETTINGS } from './global/duckdb-build';
import { fileReader, MODELS_DIR, nodeOrt } from '../support/node-models';
import { parseAssetSettings } from './global/write-asset';

const log = (msg: string): void => void process.stderr.write(`[eval] ${msg}\n`);

export interface Variant {
  name: string;
  config: RankingConfig;
  global: boolean;
  diversity: boolean;
  popularityOnly?: boolean;
  heads?: boolean;
  /** Rank with the behaviour model's components (--sequence). */
  sequence?: boolean;
}

interface VariantResult {
  name: string;
  hr10: number;
  ndcg10: number;
  ild: number;
  /** Each user's 0-based rank of the target (null: not in the slate / not ranked), for the paired bootstrap. */
  ranks: (number | null)[];
}

async function evaluate(
  variants: Variant[],
  splits: readonly UserSplit[],
  index: CatalogIndex,
  global: GlobalContext,
  target: 'validation' | 'test',
  cold: ReadonlySet<number>,
  heads: RankingHeads | null,
  sequenceModel: OnnxSequenceModel | null = null,
): Promise<VariantResult[]> {
  const ranks = variants.map(() => [] as (number | null)[]);
  const ild = variants.map(() => 0);
  const t0 = Date.now();
  for (const [n, u] of splits.entries()) {
    // for the test figure the validation interaction joins the history (unless it is a cold item)
    const history = target === 'test' && !cold.has(u.validation.movieId) ? [...u.train, u.validation] : u.train;
    const profile = profileFor(history, index);
    const targetIndex = index.indexOf.get(String((target === 'test' ? u.test : u.validation).movieId));
    // the model reads the same history (its order and ratings: 'like' for 4 or more)
    const sequence = sequenceModel ? await sequenceComponentsFor(sequenceModel, history) : null;
    for (const [vi, v] of variants.entries()) {
      let scores: Float32Array;
      let slate: number[];
      if (v.popularityOnly) {
        scores = Float32Array.from(index.items, (_, i) => popularityOf(global, i));
        applyExclusions(scores, index, {}, profile.seen, true);
        slate = topK(scores, 10);
      } else {
        ({ scores, slate } = await rankVariant(
          v,
          index,
          global,
          heads,
          profile,
          10,
          v.sequence && sequence ? sequence(v.config.sequenceTemperature) : null,
        ));
      }
      if (v.diversity) {
        const r = targetIndex === undefined ? -1 : slate.indexOf(targetIndex);
        ranks[vi].push(r >= 0 ? r : null);
      } else {
        slate = topK(scores, 10);
        ranks[vi].push(targetIndex === undefined ? null : rankOf(scores, targetIndex));
      }
      ild[vi] += intraListDiversity(slate, index.matrix);
    }
    if ((n + 1) % 100 === 0) log(`${target}: ${n + 1}/${splits.length} users (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  return variants.map((v, vi) => {
    const m = hitMetrics(ranks[vi]);
    return { name: v.name, hr10: round(m.hr), ndcg10: round(m.ndcg), ild: round(ild[vi] / Math.max(1, splits.length)), ranks: ranks[vi] };
  });
}

/** The engine's default ranking as the evaluation scores it: the pipeline with the global model, the heads when shipped, and MMR. */
export function engineVariant(heads: RankingHeads | null): Variant {
  const d = DEFAULT_RANKING_CONFIG;
  return {
    name: `+ diversity (MMR, lambda ${d.mmrLambda})${heads ? ', with heads' : ''}`,
    config: d,
    global: true,
    diversity: true,
    heads: Boolean(heads),
  };
}

/**
 * One variant's ranking of one user: the engine's own pipeline (src/ranking/pipeline.ts) on
 * the catalog index; the protocol's "items already in the history are excluded" is the
 * excludeSeen rule of the default config.
 */
export function rankVariant(
  v: Variant,
  index: CatalogIndex,
  global: GlobalContext,
  heads: RankingHeads | null,
  profile: Profile,
  k = 10,
  sequence: SequenceComponents | null = null,
): Promise<{ scores: Float32Array; slate: number[] }> {
  return rankForYou({ catalog: index, global: v.global ? global : null, profile, config: v.config, sequence }, { k, heads: v.heads ? heads : null });
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

type ConfigPatch = Omit<Partial<RankingConfig>, 'weights' | 'sequence'> & {
  weights?: Partial<RankingConfig['weights']>;
  sequence?: Partial<RankingConfig['sequence']>;
};

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

/** The global model for these training interactions, built by the DuckDB build (tools/global/sql/), cached under .cache/ by input, settings and SQL. */
export async function cachedGlobalModel(training: LoggedInteraction[]): Promise<GlobalModel> {
  const key = createHash('sha256');
  for (const x of training) key.update(`${x.user},${x.item},${x.timestamp},${x.type ?? ''}\n`);
  key.update(buildFingerprint(DEFAULT_BUILD_SETTINGS));
  const dir = join(import.meta.dirname, '..', '.cache');
  const file = join(dir, `global-${key.digest('hex').slice(0, 16)}`);
  if (existsSync(`${file}.bin`)) {
    log(`global model from cache ${file}.bin`);
    return decodeGlobalModel(new Uint8Array(readFileSync(`${file}.bin`)), JSON.parse(readFileSync(`${file}.json`, 'utf8')) as string[]);
  }
  const model = await buildFromInteractions(training, DEFAULT_BUILD_SETTINGS, { log });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${file}.bin`, encodeGlobalModel(model));
  writeFileSync(`${file}.json`, JSON.stringify(model.itemIds));
  return model;
}

/** --asset=k100,kt30,mk12,mt6,l16: the compact asset's settings (tools/global/write-asset.ts parseAssetSettings); none: the defaults. */
function assetFlag(flags: Set<string>): Partial<GlobalAssetOptions> {
  const flag = [...flags].find((f) => f.startsWith('--asset='));
  if (!flag) return {};
  const options = parseAssetSettings(flag.slice('--asset='.length));
  log(`global asset encoded with ${JSON.stringify(options)}`);
  return options;
}

async function ranking(dir: string, flags: Set<string>): Promise<void> {
  const started = Date.now();
  const ml = loadMovieLens(dir);
  const index = await movieLensIndex(ml);
  log(`${dir}: ${ml.ratings.length} interactions, ${index.items.length} candidate items`);
  let heads: RankingHeads | null = null;
  if (!flags.has('--no-heads')) {
    const where = join(MODELS_DIR, 'ranking-heads');
    heads = await OnnxRankingHeads.create({ ort: await nodeOrt(), reader: fileReader(where), where, backend: 'wasm' }).catch((e: Error) => {
      log(`ranking heads not used: ${e.message}`);
      return null;
    });
  }

  let splits = splitLeaveLastOut(ml.ratings);
  // the users of the test table; with --cold-start the validation table has users of its own (validationSplits)
  let validationSplits = splits;
  const coldStart = flags.has('--cold-start');
  let cold = new Set<number>();
  if (coldStart) {
    // two disjoint cold sets, both removed from every training history and asset: the test's (10% of the test targets) and
    // the validation's (10% of the other validation targets), so the rows are chosen on cold validation targets too
    const coldTest = coldItems(splits, 42);
    const coldValidation = coldItems(splits, 43, 'validation', coldTest);
    cold = new Set([...coldTest, ...coldValidation]);
    const warmTraining = (s: UserSplit): UserSplit => ({ ...s, train: s.train.filter((r) => !cold.has(r.movieId)) });
    validationSplits = splits.filter((s) => coldValidation.has(s.validation.movieId)).map(warmTraining);
    splits = splits.filter((s) => coldTest.has(s.test.movieId)).map(warmTraining);
    log(
      `cold start: ${coldTest.size} cold test items, ${splits.length} users whose test target is cold; ${coldValidation.size} cold validation items, ${validationSplits.length} users whose validation target is cold`,
    );
  }
  // on-device rule: the global asset sees only training interactions (never a validation or test target)
  const allSplits = splitLeaveLastOut(ml.ratings);
  const training: LoggedInteraction[] = [];
  for (const s of allSplits)
    for (const r of s.train) if (!cold.has(r.movieId)) training.push({ user: String(s.userId), item: String(r.movieId), timestamp: r.timestamp });
  log(`building the global model from ${training.length} training interactions`);
  const model = await cachedGlobalModel(training);
  // scored as a device holds it: encoded and decoded as the compact asset (defaults, or --asset=k100,kt30,mk12,mt6,l16 to measure others)
  const global = placeGlobalModel(model, index.indexOf, assetFlag(flags));

  const d = DEFAULT_RANKING_CONFIG;
  const variants: Variant[] = [
    { name: 'popularity (time-decayed, global asset)', config: d, global: true, diversity: false, popularityOnly: true },
    { name: 'content only', config: d, global: false, diversity: false },
    {
      name: '+ global asset (order-blind)',
      config: withConfig({ weights: { next: 0 }, sequence: { decay: 1, floor: 1 } }),
      global: true,
      diversity: false,
    },
    { name: '+ sequence weighting (default engine ranking)', config: d, global: true, diversity: false },
    ...(heads ? [{ name: '+ heads (multi-task re-ranking)', config: d, global: true, diversity: false, heads: true }] : []),
    engineVariant(heads),
  ];
  let sequenceModel: OnnxSequenceModel | null = null;
  if (flags.has('--sequence')) {
    // --seed=N: the trainer's seed (42 by default), to see how much the figures move between seeds
    const seed = [...flags].find((f) => f.startsWith('--seed='))?.slice('--seed='.length) ?? '42';
    if (!/^\d+$/.test(seed)) throw new Error(`--seed=${seed}: the trainer's seed is a non-negative integer (e.g. --seed=7)`);
    sequenceModel = await evaluationSequenceModel(allSplits, index, cold, log, seed);
    variants.push(...sequenceVariants(heads));
  }
  if (flags.has('--tune')) {
    for (const coldContent of [0.25, 0.5, 0.75, 1, 1.5]) {
      variants.push({ name: `tune coldContent=${coldContent}`, config: withConfig({ weights: { coldContent } }), global: true, diversity: false });
    }
  }
  const validation = await evaluate(variants, validationSplits, index, global, 'validation', cold, heads, sequenceModel);
  const test = flags.has('--tune') ? [] : await evaluate(variants, splits, index, global, 'test', cold, heads, sequenceModel);
  const seconds = Math.round((Date.now() - started) / 100) / 10;

  console.log(
    table(validation, `\nValidation (${validationSplits.length} users${coldStart ? ', cold-start: their validation target is cold' : ''})`),
  );
  if (test.length)
    console.log(table(test, `\nTest (${splits.length} users${coldStart ? ', cold-start' : ''}; validation interaction joins the history)`));
  // the engine's default pipeline: heads when shipped, then MMR diversity
  const main = (test.length ? test : validation).find((r) => r.name.startsWith('+ diversity')) as VariantResult;
  const popularity = (test.length ? test : validation)[0];
  console.log(`\nengine ranking: HR@10 ${main.hr10}, NDCG@10 ${main.ndcg10}; popularity on the same users: HR@10 ${popularity.hr10}; ${seconds} s`);
  const paired = sequenceModel && test.length ? sequencePaired(validation, test, main) : null;
  if (flags.has('--json')) {
    console.log(
      JSON.stringify({
        protocol: coldStart ? 'ranking-cold-start' : 'ranking',
        dataset: dir,
        users: splits.length,
        validationUsers: validationSplits.length,
        items: index.items.length,
        hr10: main.hr10,
        ndcg10: main.ndcg10,
        popularity: { hr10: popularity.hr10, ndcg10: popularity.ndcg10 },
        validation: Object.fromEntries(validation.map(({ ranks: _, ...r }) => [r.name, r])),
        ablation: Object.fromEntries(test.map(({ ranks: _, ...r }) => [r.name, r])),
        ...(paired ? { sequence: paired } : {}),
        seconds,
      }),
    );
  }
}

/** Weights of the behaviour model's next-item share the --sequence rows try (the default is chosen among them on the validation target). */
export const SEQUENCE_WEIGHTS = [0.25, 0.5, 1, 2] as const;
/** Temperatures of the share the --sequence rows try with each weight (RankingConfig.sequenceTemperature; 1: the model's own softmax). */
export const SEQUENCE_TEMPERATURES = [1, 2, 4] as const;
/** The `newItems` weights (RankingConfig.weights.coldSequence) the --sequence rows try on top of the default ranking. */
export const NEW_ITEMS_WEIGHTS = [0.25, 0.5, 1, 2] as const;

/**
 * The --sequence rows: the model alone, and the engine's default ranking (heads when shipped, MMR) with the
 * model's share at each of SEQUENCE_WEIGHTS and SEQUENCE_TEMPERATURES, without the heads, and with the conversion head.
 */
function sequenceVariants(heads: RankingHeads | null): Variant[] {
  const none = { content: 0, neighbour: 0, next: 0, popularity: 0, coldContent: 0, sequenceConversion: 0 };
  const combined = (w: number, withHeads: boolean, conversion = 0, temperature = 1, coldSequence = 0): Variant => ({
    ...engineVariant(withHeads ? heads : null),
    name: `engine${withHeads ? '' : ' without heads'} + behaviour model (sequence ${w}${temperature !== 1 ? `, temperature ${temperature}` : ''}${conversion ? `, conversion ${conversion}` : ''}${coldSequence ? `, new items by its content path ${coldSequence}` : ''})`,
    config: withConfig({ weights: { sequence: w, sequenceConversion: conversion, coldSequence }, sequenceTemperature: temperature }),
    sequence: true,
  });
  return [
    {
      name: 'behaviour model alone (next-item share)',
      config: withConfig({ weights: { ...none, sequence: 1 } }),
      global: true,
      diversity: false,
      sequence: true,
    },
    ...SEQUENCE_TEMPERATURES.flatMap((t) => SEQUENCE_WEIGHTS.map((w) => combined(w, true, 0, t))),
    ...(heads ? SEQUENCE_WEIGHTS.map((w) => combined(w, false)) : []),
    combined(1, true, 0.3),
    // items the global model never saw (the cold-start protocol's targets) ranked among themselves by the model's content path,
    // on top of the default ranking (its weight and temperature: what createRecommender({ newItems }) runs)
    ...NEW_ITEMS_WEIGHTS.map((c) => combined(DEFAULT_RANKING_CONFIG.weights.sequence, true, 0, DEFAULT_RANKING_CONFIG.sequenceTemperature, c)),
  ];
}

/**
 * The combined row of SEQUENCE_WEIGHTS x SEQUENCE_TEMPERATURES and the new-items rows (the engine as it ranks by default,
 * heads and MMR included) with the best validation NDCG@10 (then HR@10).
 */
export function chosenSequenceRow(validation: readonly VariantResult[]): VariantResult | undefined {
  const rows = validation.filter((r) =>
    /^engine \+ behaviour model \(sequence [0-9.]+(, temperature [0-9.]+)?(, new items by its content path [0-9.]+)?\)$/.test(r.name),
  );
  return rows.reduce<VariantResult | undefined>(
    (best, r) => (!best || r.ndcg10 > best.ndcg10 || (r.ndcg10 === best.ndcg10 && r.hr10 > best.hr10) ? r : best),
    undefined,
  );
}

/**
 * Prints (and returns) every behaviour-model row's test difference from the engine's default ranking, with a paired
 * bootstrap interval over users, and the weight the validation target chose.
 */
function sequencePaired(
  validation: readonly VariantResult[],
  test: readonly VariantResult[],
  engine: VariantResult,
): { chosen: string | null; chosenValidationNdcg10: number | null; rows: Record<string, PairedDifference> } {
  const chosen = chosenSequenceRow(validation);
  const rows: Record<string, PairedDifference> = {};
  console.log(`\nTest minus the engine's default ranking (${engine.name}), paired bootstrap over users (1,000 resamples, seed 42):`);
  console.log('| ranking | HR@10 diff | 95% CI | NDCG@10 diff | 95% CI |\n| --- | --- | --- | --- | --- |');
  for (const r of test) {
    if (!r.name.includes('behaviour model')) continue;
    const d = pairedBootstrap(r.ranks, engine.ranks);
    rows[r.name] = d;
    const mark = r.name === chosen?.name ? ' (chosen on validation)' : '';
    console.log(
      `| ${r.name}${mark} | ${d.hr10.toFixed(4)} | [${d.hr10Ci[0]}, ${d.hr10Ci[1]}] | ${d.ndcg10.toFixed(4)} | [${d.ndcg10Ci[0]}, ${d.ndcg10Ci[1]}] |`,
    );
  }
  if (chosen)
    console.log(
      `chosen on validation (best NDCG@10 of the combined rows): ${chosen.name}, validation NDCG@10 ${chosen.ndcg10}, HR@10 ${chosen.hr10}`,
    );
  return { chosen: chosen?.name ?? null, chosenValidationNdcg10: chosen?.ndcg10 ?? null, rows };
}

async function main(): Promise<void> {
  const [command, dir, ...rest] = process.argv.slice(2);
  const flags = new Set(rest);
  if (command === 'ranking' && dir) return ranking(dir, flags);
  if (command === 'ope' && dir) {
    const { parseOpeArgs, runOpe } = await import('./eval/ope');
    const { dir: d, campaign, json, options } = parseOpeArgs([dir, ...rest]);
    return runOpe(d, campaign, json, options);
  }
  if (command === 'similar' && dir) {
    const { runSimilar } = await import('./eval/similar');
    return runSimilar(dir, flags, cachedGlobalModel);
  }
  if (command === 'replay' && dir) {
    const { runReplay } = await import('./eval/replay');
    return runReplay(dir, flags, cachedGlobalModel);
  }
  process.stderr.write(
    'usage: npm run eval -- ranking <movielens-dir> [--cold-start] [--json] [--tune] [--sequence [--seed=42]]\n       npm run eval -- ope <open-bandit-dir> [--campaign <name>] [--json] [--min-evidence-clicks 20] [--learn-from random|random+bts]\n       npm run eval -- replay <movielens-dir> [--json]\n       npm run eval -- similar <movielens-dir> [--json]\n',
  );
  process.exit(2);
}

if (process.argv[1]?.endsWith('eval.ts')) await main();
