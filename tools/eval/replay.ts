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
 * without a click for the others), as on the device. Reports the cumulative hit
 * rate per exploration setting.
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
import { mulberry32 } from '../../src/math/random';
import type { GlobalModel } from '../../src/global/global-model';
import { movieLensIndex, profileFor } from '../data/ml-index';
import { loadMovieLens, type Interaction } from '../data/movielens';
import type { LoggedInteraction } from '../global/build';

const log = (m: string): void => void process.stderr.write(`[replay] ${m}\n`);

export const REPLAY_SETTINGS: { name: string; config: ExplorationConfig }[] = [
  { name: 'exploration off', config: { policy: 'off', rate: 0, decay: 0.98, draws: 100 } },
  { name: 'thompson, population prior strength 1000 (the default)', config: { ...DEFAULT_EXPLORATION, draws: 100 } },
  { name: 'thompson, population prior, rate 0.1', config: { ...DEFAULT_EXPLORATION, rate: 0.1, draws: 100 } },
  { name: 'thompson, population prior, rate 0.5', config: { ...DEFAULT_EXPLORATION, rate: 0.5, draws: 100 } },
  { name: 'thompson, population prior strength 50', config: { ...DEFAULT_EXPLORATION, priorStrength: 50, draws: 100 } },
  { name: 'thompson, population prior strength 200', config: { ...DEFAULT_EXPLORATION, priorStrength: 200, draws: 100 } },
  { name: 'thompson, uniform prior', config: { ...DEFAULT_EXPLORATION, prior: 'uniform', draws: 100 } },
  { name: 'contextual (LinTS)', config: { ...DEFAULT_EXPLORATION, policy: 'contextual', draws: 100 } },
];

export async function runReplay(dir: string, flags: Set<string>, globalModelFor: (training: LoggedInteraction[]) => GlobalModel): Promise<void> {
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
  const global = placeGlobalModel(globalModelFor(training), index.indexOf);
  const sourceHits: Record<Source, number> = { ranked: 0, content: 0, global: 0, trending: 0, explore: 0 };
  let openSlotSteps = 0;
  const config = DEFAULT_RANKING_CONFIG;
  const hits = REPLAY_SETTINGS.map(() => 0);
  const userHits = REPLAY_SETTINGS.map(() => [] as number[]);
  const userSteps: number[] = [];
  const curve = REPLAY_SETTINGS.map(() => [] as number[]);
  let total = 0;
  for (const [n, u] of replayUsers.entries()) {
    const seq = (byUser.get(u) as Interaction[]).slice().sort((a, b) => a.timestamp - b.timestamp || a.movieId - b.movieId);
    const start = Math.max(3, seq.length - steps);
    const mixers = REPLAY_SETTINGS.map((s) => Array.from({ length: seeds }, () => new SlateMixer(s.config)));
    const before = [...hits];
    const totalBefore = total;
    const rands = REPLAY_SETTINGS.map((_, si) => Array.from({ length: seeds }, (_, r) => mulberry32(100_000 * r + 1000 * u + si)));
    for (let t = start; t < seq.length; t++) {
      const target = index.indexOf.get(String(seq[t].movieId));
      if (target === undefined) continue;
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
          if (slate.some((s) => s.item === target)) hits[si] += 1 / seeds;
          for (const s of slate) mixers[si][r].feedback(s, s.item === target ? 1 : 0);
        }
      });
    }
    REPLAY_SETTINGS.forEach((_, si) => curve[si].push(hits[si] / Math.max(1, total)));
    REPLAY_SETTINGS.forEach((_, si) => userHits[si].push(hits[si] - before[si]));
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
  console.log('| setting | hits | cumulative hit rate | after 25% of users | after 50% | after 75% |\n| --- | --- | --- | --- | --- | --- |');
  const at = (c: number[], f: number): string => (c[Math.max(0, Math.ceil(c.length * f) - 1)] ?? 0).toFixed(4);
  REPLAY_SETTINGS.forEach((s, si) =>
    console.log(
      `| ${s.name} | ${hits[si].toFixed(1)} | ${(hits[si] / total).toFixed(4)} | ${at(curve[si], 0.25)} | ${at(curve[si], 0.5)} | ${at(curve[si], 0.75)} |`,
    ),
  );
  // paired bootstrap over users: each setting's hit rate minus exploration off's
  const rand = mulberry32(42);
  const lift = REPLAY_SETTINGS.map(() => [] as number[]);
  for (let b = 0; b < 1000; b++) {
    const pick = userSteps.map(() => Math.floor(rand() * userSteps.length));
    const steps = pick.reduce((n, u) => n + userSteps[u], 0);
    REPLAY_SETTINGS.forEach((_, si) => lift[si].push(pick.reduce((n, u) => n + userHits[si][u] - userHits[0][u], 0) / Math.max(1, steps)));
  }
  const ci = (v: number[]): [number, number] => {
    const s2 = [...v].sort((a, b) => a - b);
    return [Math.round(s2[25] * 1e4) / 1e4, Math.round(s2[974] * 1e4) / 1e4];
  };
  console.log('\nhit rate minus exploration off, paired bootstrap over users (1,000 resamples, seed 42):');
  REPLAY_SETTINGS.forEach((s, si) => si > 0 && console.log(`  ${s.name}: ${((hits[si] - hits[0]) / total).toFixed(4)} [${ci(lift[si]).join(', ')}]`));
  console.log(`${seconds} s`);
  if (flags.has('--json')) {
    console.log(
      JSON.stringify({
        protocol: 'replay',
        dataset: dir,
        users: replayUsers.length,
        steps: total,
        k,
        seeds,
        hit_rate: Object.fromEntries(REPLAY_SETTINGS.map((s, si) => [s.name, Math.round((hits[si] / total) * 1e4) / 1e4])),
        lift_vs_off_ci: Object.fromEntries(REPLAY_SETTINGS.slice(1).map((s, si) => [s.name, ci(lift[si + 1])])),
        seconds,
      }),
    );
  }
}
