/**
 * npm run eval -- replay <movielens-dir> [--json] [--users N] [--steps T]
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
 */
import { DEFAULT_RANKING_CONFIG, applyExclusions, linearScore, mmrSelect, scoreComponents } from '../../src/model/ranking';
import { contextFeatures, SlateMixer, sourceLists, type ExplorationConfig } from '../../src/model/exploration';
import { mulberry32 } from '../../src/model/random';
import type { GlobalModel } from '../../src/model/global-model';
import { globalContext, movieLensIndex, profileFor } from '../data/ml-index';
import { loadMovieLens, type Interaction } from '../data/movielens';
import type { LoggedInteraction } from '../global/build';

const log = (m: string): void => void process.stderr.write(`[replay] ${m}\n`);

export const REPLAY_SETTINGS: { name: string; config: ExplorationConfig }[] = [
  { name: 'exploration off', config: { policy: 'off', rate: 0, decay: 0.98, draws: 100 } },
  { name: 'thompson (default: rate 0.2)', config: { policy: 'thompson', rate: 0.2, decay: 0.98, draws: 100 } },
  { name: 'thompson, rate 0.5', config: { policy: 'thompson', rate: 0.5, decay: 0.98, draws: 100 } },
  { name: 'contextual (LinTS, rate 0.2)', config: { policy: 'contextual', rate: 0.2, decay: 0.98, draws: 100 } },
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
  const replayUsers = users.filter((_, i) => i % 4 === 0).slice(0, maxUsers);
  const replaySet = new Set(replayUsers);
  const training: LoggedInteraction[] = [];
  for (const u of users) if (!replaySet.has(u)) for (const r of byUser.get(u) as Interaction[]) training.push({ user: String(u), item: String(r.movieId), timestamp: r.timestamp });
  log(`${replayUsers.length} replay users, global model from the other ${users.length - replaySet.size} users (${training.length} interactions)`);
  const global = globalContext(globalModelFor(training), index);
  const config = DEFAULT_RANKING_CONFIG;
  const hits = REPLAY_SETTINGS.map(() => 0);
  const curve = REPLAY_SETTINGS.map(() => [] as number[]);
  let total = 0;
  for (const [n, u] of replayUsers.entries()) {
    const seq = (byUser.get(u) as Interaction[]).slice().sort((a, b) => a.timestamp - b.timestamp || a.movieId - b.movieId);
    const start = Math.max(3, seq.length - steps);
    const mixers = REPLAY_SETTINGS.map((s) => new SlateMixer(s.config));
    const rands = REPLAY_SETTINGS.map((_, si) => mulberry32(1000 * u + si));
    for (let t = start; t < seq.length; t++) {
      const target = index.indexOf.get(String(seq[t].movieId));
      if (target === undefined) continue;
      const profile = profileFor(seq.slice(0, t), index);
      const components = scoreComponents(index, profile, global, config);
      const scores = linearScore(components, index, profile, config);
      applyExclusions(scores, index, {}, profile.seen, true);
      const ranked = mmrSelect(scores, index.matrix, k, config.mmrLambda);
      const features = contextFeatures(components, index.prior);
      total++;
      REPLAY_SETTINGS.forEach((_, si) => {
        const lists = sourceLists(components, scores, index.prior, ranked, k, rands[si]);
        const slate = mixers[si].compose(lists, k, rands[si], features);
        const hit = slate.some((s) => s.item === target);
        if (hit) hits[si]++;
        for (const s of slate) mixers[si].feedback(s, s.item === target ? 1 : 0);
      });
    }
    REPLAY_SETTINGS.forEach((_, si) => curve[si].push(hits[si] / Math.max(1, total)));
    if ((n + 1) % 25 === 0) log(`${n + 1}/${replayUsers.length} users, ${total} steps (${((Date.now() - started) / 1000).toFixed(0)} s): ${REPLAY_SETTINGS.map((s, si) => `${s.name} ${(hits[si] / total).toFixed(4)}`).join(', ')}`);
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  console.log(`\nReplay: ${replayUsers.length} users, their last ${steps} interactions each, ${total} steps, slate of ${k}; cumulative hit rate`);
  console.log('| setting | hits | cumulative hit rate | after 25% of users | after 50% | after 75% |\n| --- | --- | --- | --- | --- | --- |');
  const at = (c: number[], f: number): string => (c[Math.max(0, Math.ceil(c.length * f) - 1)] ?? 0).toFixed(4);
  REPLAY_SETTINGS.forEach((s, si) => console.log(`| ${s.name} | ${hits[si]} | ${(hits[si] / total).toFixed(4)} | ${at(curve[si], 0.25)} | ${at(curve[si], 0.5)} | ${at(curve[si], 0.75)} |`));
  console.log(`${seconds} s`);
  if (flags.has('--json')) {
    console.log(JSON.stringify({ protocol: 'replay', dataset: dir, users: replayUsers.length, steps: total, k, hit_rate: Object.fromEntries(REPLAY_SETTINGS.map((s, si) => [s.name, Math.round((hits[si] / total) * 1e4) / 1e4])), seconds }));
  }
}
