/**
 * npm run eval -- replay <movielens-dir> [--json] [--users=N] [--steps=T] [--seeds=S]
 *
 * Sequential simulation of exploration: for each replay user (every 4th user;
 * the global model is built only from the other users' interactions), walk their
 * last T interactions in time order. At each step the engine ranks with the
 * history so far (profile, score components, exclusions, MMR: the engine's own
 * code, without the heads for speed), the exploration layer composes a slate
 * of 10, and the step is a hit when the user's true next item is in it. Feedback
 * goes to the visitor's own bandit (a click on the hit item, impressions
 * without a click for the others), as on the device. Reports per exploration
 * setting, each with a paired bootstrap interval over users against exploration off:
 * - the cumulative hit rate;
 * - catalog coverage: the share of the catalog's items shown in at least one slate
 *   (all replay users together; averaged over the random streams);
 * - new interest: the share of users with at least one hit on an item of a genre
 *   their history had not held before that step (averaged over the random streams).
 *
 * --tune-prior: instead, on the tuning users (every 4th user, offset 1; the global
 * model then comes from the users of offsets 2 and 3 only, so neither reported
 * nor tuning users shaped it), measure per source how often its best remaining
 * item in an open slot was the next interaction: the population prior
 * (POPULATION_SOURCE_RATES in src/exploration/mixer.ts).
 */
import { rankForYou } from '../../src/ranking/pipeline';
import { DEFAULT_RANKING_CONFIG } from '../../src/ranking/score';
import { composeSlate, SlateMixer, sourceLists } from '../../src/exploration/mixer';
import { DEFAULT_EXPLORATION, type ExplorationConfig } from '../../src/exploration/config';
import { placeGlobalModel } from '../../src/global/global-model';
import { SOURCES, type Source } from '../../src/vocabulary';
import { ci95 } from './paired';
import { mulberry32 } from '../../src/math/random';
import type { GlobalModel } from '../../src/global/global-model';
import { movieLensIndex, profileFor } from '../data/ml-index';
import { loadMovieLens, type Interaction } from '../data/movielens';
import type { LoggedInteraction } from '../global/build';

const log = (m: string): void => void process.stderr.write(`[replay] ${m}\n`);

export const REPLAY_SETTINGS: { name: string; config: ExplorationConfig }[] = [
  { name: 'exploration off', config: { policy: 'off', rate: 0, decay: 0.98, draws: 100 } },
  { name: 'thompson, population prior strength 1000 (the default)', config: { ...DEFAULT_EXPLORATION, draws: 100 } },
  // the uniform floor's candidates, chosen among on the tuning users by a rule fixed before that run (the largest
  // share whose hit-rate difference against exploration off is at least -0.0005 and whose coverage gain interval
  // lies above 0: 0.2), then judged on the reported users (see DEFAULT_EXPLORATION for the outcome)
  ...[0.05, 0.1, 0.2, 0.3].map((share) => ({
    name: `thompson, population prior, uniform floor ${share}`,
    config: { ...DEFAULT_EXPLORATION, uniformShare: share, draws: 100 },
  })),
  { name: 'uniform floor 0.2, rate 0.1', config: { ...DEFAULT_EXPLORATION, uniformShare: 0.2, rate: 0.1, draws: 100 } },
  { name: 'uniform floor 0.2, rate 0.5', config: { ...DEFAULT_EXPLORATION, uniformShare: 0.2, rate: 0.5, draws: 100 } },
  { name: 'uniform floor 0.2, population prior strength 200', config: { ...DEFAULT_EXPLORATION, uniformShare: 0.2, priorStrength: 200, draws: 100 } },
  { name: 'thompson, uniform prior', config: { ...DEFAULT_EXPLORATION, prior: 'uniform', draws: 100 } },
  {
    name: 'contextual (LinTS) behind the conservative switch (100 observations), uniform floor 0.2',
    config: { ...DEFAULT_EXPLORATION, policy: 'contextual', uniformShare: 0.2, draws: 100 },
  },
  // (the floor only acts where the switch hands a slot to the prior, so it would change nothing here)
  { name: 'contextual (LinTS) without the switch', config: { ...DEFAULT_EXPLORATION, policy: 'contextual', minEvidence: 0, draws: 100 } },
];

/**
 * Bias-corrected percentile interval: coverage counts distinct items, and a resample
 * with repeated users holds fewer distinct ones, so the replicates sit below the point
 * estimate; the interval is shifted by that bias (point - mean of the replicates).
 */
function biasCorrectedCi95(point: number, v: readonly number[]): [number, number] {
  const bias = point - v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const [lo, hi] = ci95(v);
  return [Math.round((lo + bias) * 1e4) / 1e4, Math.round((hi + bias) * 1e4) / 1e4];
}

/**
 * Catalog coverage of a set of users: distinct items shown to any of them over the
 * catalog size, averaged over the random streams. `shown[stream][user]` holds the
 * distinct items shown to that user in that stream; `pick` the users (repeats allowed).
 */
export function coverageOf(
  shown: readonly (readonly Int32Array[])[],
  pick: readonly number[],
  catalogSize: number,
  stamp = new Int32Array(catalogSize),
  mark = { n: 0 },
): number {
  let total = 0;
  for (const stream of shown) {
    const id = ++mark.n;
    let distinct = 0;
    for (const u of pick)
      for (const item of stream[u])
        if (stamp[item] !== id) {
          stamp[item] = id;
          distinct++;
        }
    total += distinct / catalogSize;
  }
  return total / Math.max(1, shown.length);
}

export async function runReplay(
  dir: string,
  flags: Set<string>,
  globalModelFor: (training: LoggedInteraction[]) => Promise<GlobalModel>,
): Promise<void> {
  const started = Date.now();
  const args = [...flags];
  const num = (name: string, fallback: number): number => {
    const a = args.find((x) => x.startsWith(`${name}=`));
    return a ? Number(a.split('=')[1]) : fallback;
  };
  const maxUsers = num('--users', 150);
  const steps = num('--steps', 30);
  // each setting runs with several random streams per user; hits are averaged over them
  const seeds = num('--seeds', 5);
  const k = 10;
  const ml = loadMovieLens(dir);
  const index = await movieLensIndex(ml);
  const byUser = new Map<number, Interaction[]>();
  for (const r of ml.ratings) {
    const l = byUser.get(r.userId);
    if (l) l.push(r);
    else byUser.set(r.userId, [r]);
  }
  const users = [...byUser.keys()].sort((a, b) => a - b);
  const tune = flags.has('--tune-prior');
  // --tuning-users: run the settings on the tuning users (to choose the exploration defaults), not the reported ones
  const onTuning = tune || flags.has('--tuning-users');
  const replayUsers = users.filter((_, i) => i % 4 === (onTuning ? 1 : 0)).slice(0, maxUsers);
  const modelUsers = users.filter((_, i) => (onTuning ? i % 4 >= 2 : i % 4 !== 0));
  const training: LoggedInteraction[] = [];
  for (const u of modelUsers)
    for (const r of byUser.get(u) as Interaction[]) training.push({ user: String(u), item: String(r.movieId), timestamp: r.timestamp });
  log(
    `${replayUsers.length} ${tune ? 'tuning' : 'replay'} users, global model from ${modelUsers.length} other users (${training.length} interactions)`,
  );
  const global = placeGlobalModel(await globalModelFor(training), index.indexOf);
  const sourceHits: Record<Source, number> = { ranked: 0, content: 0, global: 0, trending: 0, explore: 0 };
  let openSlotSteps = 0;
  const config = DEFAULT_RANKING_CONFIG;
  const hits = REPLAY_SETTINGS.map(() => 0);
  const userHits = REPLAY_SETTINGS.map(() => [] as number[]);
  const userSteps: number[] = [];
  const curve = REPLAY_SETTINGS.map(() => [] as number[]);
  // per setting, stream and user: the distinct items shown; per setting and user: share of streams with a new-interest hit
  const shownItems = REPLAY_SETTINGS.map(() => Array.from({ length: seeds }, () => [] as Int32Array[]));
  const userNew = REPLAY_SETTINGS.map(() => [] as number[]);
  const genresOf = new Map<number, string[]>();
  for (const m of ml.movies) {
    const i = index.indexOf.get(String(m.movieId));
    if (i !== undefined) genresOf.set(i, m.genres);
  }
  let total = 0;
  for (const [n, u] of replayUsers.entries()) {
    const seq = (byUser.get(u) as Interaction[]).slice().sort((a, b) => a.timestamp - b.timestamp || a.movieId - b.movieId);
    const start = Math.max(3, seq.length - steps);
    const mixers = REPLAY_SETTINGS.map((s) => Array.from({ length: seeds }, () => new SlateMixer(s.config)));
    const before = [...hits];
    const totalBefore = total;
    const rands = REPLAY_SETTINGS.map((_, si) => Array.from({ length: seeds }, (_, r) => mulberry32(100_000 * r + 1000 * u + si)));
    const seen = REPLAY_SETTINGS.map(() => Array.from({ length: seeds }, () => new Set<number>()));
    const foundNew = REPLAY_SETTINGS.map(() => new Uint8Array(seeds));
    const knownGenres = new Set<string>();
    for (const r of seq.slice(0, start)) for (const g of genresOf.get(index.indexOf.get(String(r.movieId)) ?? -1) ?? []) knownGenres.add(g);
    for (let t = start; t < seq.length; t++) {
      const target = index.indexOf.get(String(seq[t].movieId));
      if (t > start) for (const g of genresOf.get(index.indexOf.get(String(seq[t - 1].movieId)) ?? -1) ?? []) knownGenres.add(g);
      if (target === undefined) continue;
      const newInterest = (genresOf.get(target) ?? []).some((g) => !knownGenres.has(g));
      const profile = profileFor(seq.slice(0, t), index);
      // the engine's pipeline (without the heads, for speed) and its slate composition
      const ranking = await rankForYou({ catalog: index, global, profile, config }, { k });
      const { components, scores, slate: ranked } = ranking;
      total++;
      if (tune) {
        // counterfactual per source: its best item not already in the slots before each open slot
        const fixed = k - new SlateMixer(DEFAULT_EXPLORATION).openSlots(k);
        const lists = sourceLists(components, scores, index.prior, ranked, k, rands[0][0]);
        for (let slot = fixed; slot < k; slot++) {
          const used = new Set(ranked.slice(0, slot));
          openSlotSteps++;
          for (const source of SOURCES) if (lists[source].find((i) => !used.has(i)) === target) sourceHits[source]++;
        }
        continue;
      }
      REPLAY_SETTINGS.forEach((_, si) => {
        for (let r = 0; r < seeds; r++) {
          const slate = composeSlate(mixers[si][r], ranking, index.prior, k, rands[si][r]);
          const hit = slate.some((s) => s.item === target);
          if (hit) hits[si] += 1 / seeds;
          if (hit && newInterest) foundNew[si][r] = 1;
          for (const s of slate) seen[si][r].add(s.item);
          for (const s of slate) mixers[si][r].feedback(s, s.item === target ? 1 : 0);
        }
      });
    }
    REPLAY_SETTINGS.forEach((_, si) => curve[si].push(hits[si] / Math.max(1, total)));
    REPLAY_SETTINGS.forEach((_, si) => userHits[si].push(hits[si] - before[si]));
    REPLAY_SETTINGS.forEach((_, si) => {
      for (let r = 0; r < seeds; r++) shownItems[si][r].push(Int32Array.from(seen[si][r]));
      userNew[si].push(foundNew[si].reduce((a, b) => a + b, 0) / seeds);
    });
    userSteps.push(total - totalBefore);
    if ((n + 1) % 25 === 0 && !tune)
      log(
        `${n + 1}/${replayUsers.length} users, ${total} steps (${((Date.now() - started) / 1000).toFixed(0)} s): ${REPLAY_SETTINGS.map((s, si) => `${s.name} ${(hits[si] / total).toFixed(4)}`).join(', ')}`,
      );
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  if (tune) {
    const rates = Object.fromEntries(SOURCES.map((s) => [s, Math.round((sourceHits[s] / Math.max(1, openSlotSteps)) * 1e4) / 1e4]));
    console.log(
      `\nPopulation prior from ${replayUsers.length} tuning users, ${openSlotSteps} open-slot steps: hit rate of each source's best remaining item`,
    );
    console.log(JSON.stringify(rates));
    return;
  }
  console.log(
    `\nReplay: ${replayUsers.length} users, their last ${steps} interactions each, ${total} steps, slate of ${k}; cumulative hit rate (hits averaged over ${seeds} random streams per setting)`,
  );
  const catalogSize = index.items.length;
  const stamp = new Int32Array(catalogSize);
  const mark = { n: 0 };
  const everyone = userSteps.map((_, u) => u);
  const coverage = REPLAY_SETTINGS.map((_, si) => coverageOf(shownItems[si], everyone, catalogSize, stamp, mark));
  const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  const newShare = REPLAY_SETTINGS.map((_, si) => mean(userNew[si]));
  // paired bootstrap over users: each setting minus exploration off, on the same resampled users
  const rand = mulberry32(42);
  const lift = REPLAY_SETTINGS.map(() => [] as number[]);
  const coverageLift = REPLAY_SETTINGS.map(() => [] as number[]);
  const newLift = REPLAY_SETTINGS.map(() => [] as number[]);
  for (let b = 0; b < 1000; b++) {
    const pick = userSteps.map(() => Math.floor(rand() * userSteps.length));
    const steps = pick.reduce((n, u) => n + userSteps[u], 0);
    const offCoverage = coverageOf(shownItems[0], pick, catalogSize, stamp, mark);
    REPLAY_SETTINGS.forEach((_, si) => {
      if (si === 0) return;
      lift[si].push(pick.reduce((n, u) => n + userHits[si][u] - userHits[0][u], 0) / Math.max(1, steps));
      coverageLift[si].push(coverageOf(shownItems[si], pick, catalogSize, stamp, mark) - offCoverage);
      newLift[si].push(pick.reduce((n, u) => n + userNew[si][u] - userNew[0][u], 0) / pick.length);
    });
  }
  const f4 = (x: number): string => x.toFixed(4);
  console.log('| setting | hits | cumulative hit rate | after 25% of users | after 50% | after 75% | coverage | new-interest users |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const at = (c: number[], f: number): string => (c[Math.max(0, Math.ceil(c.length * f) - 1)] ?? 0).toFixed(4);
  REPLAY_SETTINGS.forEach((s, si) =>
    console.log(
      `| ${s.name} | ${hits[si].toFixed(1)} | ${f4(hits[si] / total)} | ${at(curve[si], 0.25)} | ${at(curve[si], 0.5)} | ${at(curve[si], 0.75)} | ${f4(coverage[si])} | ${f4(newShare[si])} |`,
    ),
  );
  console.log(
    `\ncoverage: share of the ${catalogSize} catalog items shown in at least one slate; new-interest users: share of users with a hit on a genre new to their history`,
  );
  console.log('minus exploration off, paired bootstrap over users (1,000 resamples, seed 42; the coverage interval bias-corrected):');
  console.log(
    '| setting | hit rate diff | 95% CI | coverage diff | 95% CI | new-interest diff | 95% CI |\n| --- | --- | --- | --- | --- | --- | --- |',
  );
  REPLAY_SETTINGS.forEach(
    (s, si) =>
      si > 0 &&
      console.log(
        `| ${s.name} | ${f4((hits[si] - hits[0]) / total)} | [${ci95(lift[si]).join(', ')}] | ${f4(coverage[si] - coverage[0])} | [${biasCorrectedCi95(coverage[si] - coverage[0], coverageLift[si]).join(', ')}] | ${f4(newShare[si] - newShare[0])} | [${ci95(newLift[si]).join(', ')}] |`,
      ),
  );
  console.log(`${seconds} s`);
  if (flags.has('--json')) {
    const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
    const per = <T>(fn: (si: number) => T, from = 0): Record<string, T> =>
      Object.fromEntries(REPLAY_SETTINGS.slice(from).map((s, i) => [s.name, fn(i + from)]));
    console.log(
      JSON.stringify({
        protocol: 'replay',
        dataset: dir,
        users: replayUsers.length,
        steps: total,
        k,
        seeds,
        catalog_items: catalogSize,
        hit_rate: per((si) => r4(hits[si] / total)),
        lift_vs_off_ci: per((si) => ci95(lift[si]), 1),
        coverage: per((si) => r4(coverage[si])),
        coverage_lift_vs_off: per((si) => r4(coverage[si] - coverage[0]), 1),
        coverage_lift_vs_off_ci: per((si) => biasCorrectedCi95(coverage[si] - coverage[0], coverageLift[si]), 1),
        new_interest_share: per((si) => r4(newShare[si])),
        new_interest_lift_vs_off: per((si) => r4(newShare[si] - newShare[0]), 1),
        new_interest_lift_vs_off_ci: per((si) => ci95(newLift[si]), 1),
        default_setting: REPLAY_SETTINGS[1].name,
        seconds,
      }),
    );
  }
}
