/**
 * Off-policy evaluation on logged bandit feedback (Open Bandit format), per
 * docs/evaluation.md section 2.
 *
 *   node --import tsx tools/eval-ope.ts <dir> --campaign <name> [--json]
 *
 * Reads <dir>/random/<campaign>.csv, <dir>/bts/<campaign>.csv and the item
 * context (<dir>/item_context.csv, or the copy beside the random log). Each row
 * is one (impression, position) with the logged item and the logging policy's
 * propensity of that item at that position, so every estimator works per
 * position-aware action: pi(item | context, position).
 *
 * Estimators (kept apart from the policies, as in Open Bandit Pipeline):
 *   IPS   = mean(w r),  w = pi_e(a|x,k) / pi_b(a|x,k)
 *   SNIPS = sum(w r) / sum(w)
 *   DR    = mean( sum_a pi_e(a|x,k) q(a,k) + w (r - q(a_i,k)) )
 * each with a percentile bootstrap interval (1,000 resamples, seed 42).
 *
 * Policies: (a) the uniform random policy (sanity check: its interval must hold
 * its observed CTR); (b) the engine's contextual policy, the LinTS bandit of
 * src/exploration/bandit.ts over user/item context features, learned on the first half
 * of the random log in time order and frozen, estimated on the second half; the
 * slate is built by the engine's `epsilonGreedySlate` and its propensities.
 * Variants in the table: greedy (no exploration), LinUCB, online learning through
 * the evaluation half (replay), learning also from the bts rows logged before the
 * evaluation half (the default main policy when a bts log exists; `--learn-from random`
 * learns from the random half only), and
 * Thompson sampling itself with Monte Carlo propensities.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  conservativeSlate,
  estimateSlatePropensities,
  greedyOrder,
  uniformSlate,
  LinearThompsonBandit,
  LinUCBBandit,
  type LinearBandit,
  type RandomSource,
} from '../../src/exploration/bandit';
import { mulberry32 } from '../../src/math/random';
import { parseCsv } from '../data/csv';

const log = (msg: string): void => void process.stderr.write(`[ope] ${msg}\n`);

// ---------------------------------------------------------------------------
// Estimators (pure)
// ---------------------------------------------------------------------------

/** Per-row inputs of the estimators, aligned arrays over the evaluation rows. */
export interface OpeInputs {
  /** Observed reward r_i (a click: 0/1). */
  reward: ArrayLike<number>;
  /** Logging policy's probability of the logged action, pi_b(a_i | x_i, k_i). */
  loggingPropensity: ArrayLike<number>;
  /** Evaluated policy's probability of the logged action, pi_e(a_i | x_i, k_i). */
  targetPropensity: ArrayLike<number>;
  /** Reward model at the logged action, q(x_i, a_i, k_i) (DR only; 0 when absent). */
  rewardHat?: ArrayLike<number>;
  /** Reward model averaged over the evaluated policy, sum_a pi_e(a|x_i,k_i) q(x_i,a,k_i) (DR only). */
  targetRewardHat?: ArrayLike<number>;
}

export interface OpeEstimates {
  ips: number;
  snips: number;
  dr: number;
}

export type Interval = [number, number];

export interface OpeIntervals {
  ips: Interval;
  snips: Interval;
  dr: Interval;
}

/**
 * IPS, SNIPS and DR over `indices` (all rows when omitted; repeated indices count
 * repeatedly, which is how the bootstrap resamples). SNIPS is 0 when no row has
 * positive weight.
 */
export function opeEstimates(inputs: OpeInputs, indices?: ArrayLike<number>): OpeEstimates {
  const n = indices ? indices.length : inputs.reward.length;
  const { reward, loggingPropensity: pb, targetPropensity: pe, rewardHat, targetRewardHat } = inputs;
  let ips = 0;
  let weights = 0;
  let dr = 0;
  for (let t = 0; t < n; t++) {
    const i = indices ? indices[t] : t;
    const w = pe[i] / pb[i];
    const r = reward[i];
    ips += w * r;
    weights += w;
    const q = rewardHat ? rewardHat[i] : 0;
    const qe = targetRewardHat ? targetRewardHat[i] : 0;
    dr += qe + w * (r - q);
  }
  if (n === 0) return { ips: 0, snips: 0, dr: 0 };
  return { ips: ips / n, snips: weights > 0 ? ips / weights : 0, dr: dr / n };
}

export const ipsEstimate = (inputs: OpeInputs, indices?: ArrayLike<number>): number => opeEstimates(inputs, indices).ips;
export const snipsEstimate = (inputs: OpeInputs, indices?: ArrayLike<number>): number => opeEstimates(inputs, indices).snips;
export const drEstimate = (inputs: OpeInputs, indices?: ArrayLike<number>): number => opeEstimates(inputs, indices).dr;

/** Linear-interpolated quantile (numpy's default) of an ascending array. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface BootstrapOptions {
  /** Number of resamples. Default 1000. */
  resamples?: number;
  /** Seed of the resampling (mulberry32). Default 42. */
  seed?: number;
  /** Coverage of the interval. Default 0.95. */
  level?: number;
}

export interface BootstrapResult {
  /** Percentile intervals, one per input. */
  intervals: OpeIntervals[];
  /** Replicate estimates, `replicates[input][resample]`. */
  replicates: OpeEstimates[][];
}

/**
 * Percentile bootstrap of IPS/SNIPS/DR for several policies over the same rows.
 * Every input sees the same resampled rows (paired), so differences between
 * policies can be bootstrapped from `replicates` too. Deterministic given the seed.
 */
export function bootstrapOpe(inputs: readonly OpeInputs[], options: BootstrapOptions = {}): BootstrapResult {
  const resamples = options.resamples ?? 1000;
  const level = options.level ?? 0.95;
  const rand = mulberry32(options.seed ?? 42);
  const n = inputs.length ? inputs[0].reward.length : 0;
  for (const x of inputs) if (x.reward.length !== n) throw new RangeError('bootstrapOpe: every input must cover the same rows');
  const replicates = inputs.map(() => [] as OpeEstimates[]);
  const idx = new Int32Array(n);
  for (let b = 0; b < resamples; b++) {
    for (let t = 0; t < n; t++) idx[t] = Math.floor(rand() * n);
    inputs.forEach((x, k) => replicates[k].push(opeEstimates(x, idx)));
  }
  const intervals = replicates.map((reps) => ({
    ips: percentileInterval(
      reps.map((r) => r.ips),
      level,
    ),
    snips: percentileInterval(
      reps.map((r) => r.snips),
      level,
    ),
    dr: percentileInterval(
      reps.map((r) => r.dr),
      level,
    ),
  }));
  return { intervals, replicates };
}

/** Central percentile interval of `values` at coverage `level`. */
export function percentileInterval(values: readonly number[], level = 0.95): Interval {
  const sorted = Float64Array.from(values).sort();
  const a = (1 - level) / 2;
  return [quantile(sorted, a), quantile(sorted, 1 - a)];
}

/**
 * Kish effective sample size of a policy's importance weights w = pi_e / pi_b over
 * the rows: (sum w)^2 / sum w^2. The number of rows the estimate effectively rests
 * on: n for the logging policy itself, small when a few rows carry all the weight.
 */
export function effectiveSampleSize(inputs: OpeInputs, indices?: ArrayLike<number>): number {
  const n = indices ? indices.length : inputs.reward.length;
  let s = 0;
  let s2 = 0;
  for (let t = 0; t < n; t++) {
    const i = indices ? indices[t] : t;
    const w = inputs.targetPropensity[i] / inputs.loggingPropensity[i];
    s += w;
    s2 += w * w;
  }
  return s2 > 0 ? (s * s) / s2 : 0;
}

/** Point difference a - b and its interval from paired replicates (the same resampled rows for both). */
export interface PairedDifference {
  estimates: OpeEstimates;
  intervals: OpeIntervals;
  /** Share of resamples where a's SNIPS is above b's. */
  snipsPositiveShare: number;
}

/**
 * Paired bootstrap difference a - b: every replicate of a is compared with the
 * replicate of b computed on the same resampled rows (`bootstrapOpe` resamples
 * once for all inputs), so the interval holds only the variation of the difference.
 */
export function pairedDifference(
  a: { estimates: OpeEstimates; replicates: readonly OpeEstimates[] },
  b: { estimates: OpeEstimates; replicates: readonly OpeEstimates[] },
  level = 0.95,
): PairedDifference {
  if (a.replicates.length !== b.replicates.length) throw new RangeError('pairedDifference: both need the same resamples');
  const diff = (key: keyof OpeEstimates): number[] => a.replicates.map((r, i) => r[key] - b.replicates[i][key]);
  const snips = diff('snips');
  return {
    estimates: { ips: a.estimates.ips - b.estimates.ips, snips: a.estimates.snips - b.estimates.snips, dr: a.estimates.dr - b.estimates.dr },
    intervals: { ips: percentileInterval(diff('ips'), level), snips: percentileInterval(snips, level), dr: percentileInterval(diff('dr'), level) },
    snipsPositiveShare: snips.length ? snips.filter((d) => d > 0).length / snips.length : 0,
  };
}

// ---------------------------------------------------------------------------
// Open Bandit logs
// ---------------------------------------------------------------------------

/** One logged (impression, position). */
export interface LoggedAction {
  /** Time in ms (NaN when unparsable); rows are ordered by it, then by file order. */
  time: number;
  item: number;
  /** 0-based position in the slate. */
  position: number;
  click: number;
  /** Logging policy's propensity of `item` at `position`. */
  propensity: number;
  /** Categorical user features (as logged). */
  user: string[];
  /** User-item affinity for every item id (empty when the log has none). */
  affinity: Float64Array;
}

export interface BanditLog {
  path: string;
  actions: LoggedAction[];
  userFeatureNames: string[];
}

function columnIndex(header: string[], names: string[], path: string, required: boolean): number {
  for (const name of names) {
    const i = header.findIndex((h) => h.trim().toLowerCase() === name);
    if (i >= 0) return i;
  }
  if (required)
    throw new Error(
      `${path}: no column named ${names.join(' or ')}; expected the Open Bandit format (timestamp,item_id,position,click,propensity_score,...)`,
    );
  return -1;
}

/** Reads one Open Bandit log (any campaign), sorted by time (stable). */
export function readBanditLog(path: string): BanditLog {
  if (!existsSync(path))
    throw new Error(`${path} not found: pass a directory laid out like data/open-bandit (random/<campaign>.csv, bts/<campaign>.csv)`);
  const [rawHeader, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  if (!rawHeader) throw new Error(`${path} is empty`);
  const header = rawHeader.map((h) => h.replace(/^\uFEFF/, ''));
  const cTime = columnIndex(header, ['timestamp', 'time'], path, false);
  const cItem = columnIndex(header, ['item_id', 'action'], path, true);
  const cPos = columnIndex(header, ['position', 'slot'], path, false);
  const cClick = columnIndex(header, ['click', 'reward'], path, true);
  const cProp = columnIndex(header, ['propensity_score', 'action_prob', 'pscore'], path, true);
  const userCols: number[] = [];
  const affinityCols = new Map<number, number>();
  header.forEach((h, i) => {
    if (/^user_feature/i.test(h)) userCols.push(i);
    const m = /^user[-_]item[-_]affinity[-_]?(\d+)$/i.exec(h);
    if (m) affinityCols.set(Number(m[1]), i);
  });
  const maxAffinityItem = affinityCols.size ? Math.max(...affinityCols.keys()) : -1;
  const actions: LoggedAction[] = [];
  let skipped = 0;
  for (const r of rows) {
    if (r.length < 2) continue; // blank line
    const item = Number(r[cItem]);
    const click = Number(r[cClick]);
    const propensity = Number(r[cProp]);
    const position = cPos >= 0 ? Number(r[cPos]) : 0;
    if (!Number.isInteger(item) || item < 0 || !Number.isFinite(click) || !(propensity > 0 && propensity <= 1) || !Number.isFinite(position)) {
      skipped++;
      continue;
    }
    const affinity = new Float64Array(maxAffinityItem + 1);
    for (const [a, c] of affinityCols) {
      const v = Number(r[c]);
      affinity[a] = Number.isFinite(v) ? v : 0;
    }
    const time = cTime >= 0 ? Date.parse(r[cTime].trim().replace(' ', 'T')) : NaN;
    actions.push({ time, item, position, click, propensity, user: userCols.map((c) => r[c] ?? ''), affinity });
  }
  if (skipped) log(`${path}: skipped ${skipped} malformed rows`);
  if (!actions.length) throw new Error(`${path} holds no usable rows`);
  // positions as 0-based whatever the log's base (Open Bandit counts from 1)
  const minPos = Math.min(...actions.map((a) => a.position));
  for (const a of actions) a.position -= minPos;
  const order = actions.map((a, i) => ({ a, i }));
  order.sort((x, y) => {
    const tx = Number.isNaN(x.a.time) ? Infinity : x.a.time;
    const ty = Number.isNaN(y.a.time) ? Infinity : y.a.time;
    return tx !== ty ? tx - ty : x.i - y.i;
  });
  return { path, actions: order.map((o) => o.a), userFeatureNames: userCols.map((c) => header[c]) };
}

/** Item context: per item id, numeric features and categorical features. */
export interface ItemContext {
  path: string;
  numericNames: string[];
  categoricalNames: string[];
  numeric: Map<number, number[]>;
  categorical: Map<number, string[]>;
}

export function readItemContext(path: string): ItemContext {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'));
  if (!header) throw new Error(`${path} is empty`);
  const cItem = columnIndex(header, ['item_id'], path, true);
  const body = rows.filter((r) => r.length > 1);
  const featureCols = header.map((h, i) => ({ h, i })).filter(({ h, i }) => i !== cItem && h.trim() !== '' && !/^unnamed/i.test(h));
  const isNumeric = (i: number): boolean => body.every((r) => r[i] !== undefined && r[i].trim() !== '' && Number.isFinite(Number(r[i])));
  const num = featureCols.filter(({ i }) => isNumeric(i));
  const cat = featureCols.filter(({ i }) => !isNumeric(i));
  const numeric = new Map<number, number[]>();
  const categorical = new Map<number, string[]>();
  for (const r of body) {
    const id = Number(r[cItem]);
    if (!Number.isInteger(id) || id < 0) continue;
    numeric.set(
      id,
      num.map(({ i }) => Number(r[i])),
    );
    categorical.set(
      id,
      cat.map(({ i }) => r[i] ?? ''),
    );
  }
  return { path, numericNames: num.map((c) => c.h), categoricalNames: cat.map((c) => c.h), numeric, categorical };
}

function findItemContext(dir: string): string | null {
  // the random log's own copy first: the policy is learned and evaluated on it
  for (const p of [join(dir, 'random', 'item_context.csv'), join(dir, 'item_context.csv'), join(dir, 'bts', 'item_context.csv')])
    if (existsSync(p)) return p;
  return null;
}

// ---------------------------------------------------------------------------
// Features for the contextual policy
// ---------------------------------------------------------------------------

/** FNV-1a 32-bit, for hashing high-cardinality categories into buckets. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Maps (user context, item, position) to a feature vector:
 * [position one-hot | item numeric (standardized) | item categorical one-hot
 * (hashed into 8 buckets beyond 16 values) | log1p(user-item affinity)].
 * The position one-hot doubles as the intercept. Items without context get zeros.
 */
export class ContextFeatures {
  readonly dimension: number;
  private readonly itemBlock = new Map<number, Float64Array>();
  private readonly itemOffset: number;
  private readonly affinityOffset: number;

  constructor(
    readonly items: number,
    readonly positions: number,
    context: ItemContext | null,
    withAffinity: boolean,
  ) {
    let itemDims = 0;
    if (context) {
      const numCount = context.numericNames.length;
      const stats = Array.from({ length: numCount }, (_, f) => {
        const vals = [...context.numeric.values()].map((v) => v[f]);
        const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
        const sd = Math.sqrt(vals.reduce((s, v) => s + (v - mean) ** 2, 0) / vals.length) || 1;
        return { mean, sd };
      });
      const vocab = context.categoricalNames.map((_, f) => [...new Set([...context.categorical.values()].map((v) => v[f]))].sort());
      const width = vocab.map((v) => (v.length <= 16 ? v.length : 8));
      itemDims = numCount + width.reduce((s, w) => s + w, 0);
      for (let item = 0; item < items; item++) {
        const block = new Float64Array(itemDims);
        const nv = context.numeric.get(item);
        const cv = context.categorical.get(item);
        if (nv && cv) {
          nv.forEach((v, f) => (block[f] = (v - stats[f].mean) / stats[f].sd));
          let off = numCount;
          cv.forEach((v, f) => {
            const slot = vocab[f].length <= 16 ? vocab[f].indexOf(v) : hash32(`${f}:${v}`) % 8;
            if (slot >= 0) block[off + slot] = 1;
            off += width[f];
          });
        }
        this.itemBlock.set(item, block);
      }
    }
    this.itemOffset = positions;
    this.affinityOffset = positions + itemDims;
    this.dimension = this.affinityOffset + (withAffinity ? 1 : 0);
  }

  /** Feature vector of showing `item` at `position` to the user of `action`. */
  vector(action: LoggedAction, item: number, position: number): Float64Array {
    const x = new Float64Array(this.dimension);
    x[Math.min(position, this.positions - 1)] = 1;
    const block = this.itemBlock.get(item);
    if (block) x.set(block, this.itemOffset);
    if (this.affinityOffset < this.dimension) x[this.affinityOffset] = Math.log1p(Math.max(0, action.affinity[item] ?? 0));
    return x;
  }
}

// ---------------------------------------------------------------------------
// Policies evaluated
// ---------------------------------------------------------------------------

/** Reward model for DR: per (item, position) CTR on the training rows, shrunk towards the position's CTR. */
export function fitPositionItemCtr(train: readonly LoggedAction[], items: number, positions: number, strength = 100): Float64Array[] {
  const clicks = Array.from({ length: positions }, () => new Float64Array(items));
  const shows = Array.from({ length: positions }, () => new Float64Array(items));
  let allClicks = 0;
  for (const a of train) {
    if (a.item >= items || a.position >= positions) continue;
    clicks[a.position][a.item] += a.click;
    shows[a.position][a.item] += 1;
    allClicks += a.click;
  }
  const overall = (allClicks + 1) / (train.length + 2);
  return clicks.map((row, k) => {
    const c = row.reduce((s, v) => s + v, 0);
    const n = shows[k].reduce((s, v) => s + v, 0);
    const positionCtr = (c + strength * overall) / (n + strength);
    return row.map((ck, a) => (ck + strength * positionCtr) / (shows[k][a] + strength));
  });
}

/** Per-row quantities of one Monte Carlo batch (or of the exact distribution). */
interface TargetRows {
  /** pi_e(logged item | x, k) */
  target: Float64Array;
  /** sum_a pi_e(a | x, k) q(a, k) */
  targetRewardHat: Float64Array;
}

/** The per-row quantities a policy contributes to the estimators. */
interface PolicyRows extends TargetRows {
  name: string;
  /** Monte Carlo draws per row (0: the propensities are exact). */
  draws: number;
  /** The same quantities from independent Monte Carlo batches (empty when exact): their spread is the Monte Carlo error. */
  batches: TargetRows[];
  /** Conservative policies: the share of evaluation rows where the switch was engaged (the policy was the prior). */
  engagedShare?: number;
}

/** A policy as its distribution over items at each position, for one logged context. */
type RowDistribution = (action: LoggedAction) => Float64Array[];

/** Writes row i's quantities for the logged action `a` under the per-position distribution `rows`. */
function targetRows(a: LoggedAction, rows: readonly Float64Array[], q: Float64Array[], into: TargetRows, i: number): void {
  const p = rows[Math.min(a.position, rows.length - 1)];
  into.target[i] = p[a.item] ?? 0;
  const qk = q[Math.min(a.position, q.length - 1)];
  let s = 0;
  for (let j = 0; j < p.length; j++) s += p[j] * qk[j];
  into.targetRewardHat[i] = s;
}

const emptyRows = (n: number): TargetRows => ({ target: new Float64Array(n), targetRewardHat: new Float64Array(n) });

function policyRows(name: string, evalRows: readonly LoggedAction[], dist: RowDistribution, q: Float64Array[]): PolicyRows {
  const out: PolicyRows = { name, draws: 0, batches: [], ...emptyRows(evalRows.length) };
  evalRows.forEach((a, i) => targetRows(a, dist(a), q, out, i));
  return out;
}

/** Average of per-position distributions. */
function meanDistribution(batches: readonly Float64Array[][]): Float64Array[] {
  return batches[0].map((row, k) => Float64Array.from(row, (_, c) => batches.reduce((s, b) => s + b[k][c], 0) / batches.length));
}

/**
 * A Monte Carlo policy: `dist(action, drawsPerBatch)` returns one distribution per
 * batch (independent draws); the policy's propensities are their mean (all the draws
 * together), and the batches' spread gives the Monte Carlo error of every estimate.
 */
function monteCarloPolicyRows(
  name: string,
  evalRows: readonly LoggedAction[],
  dist: (action: LoggedAction) => Float64Array[][],
  q: Float64Array[],
  draws: number,
  batches: number,
): PolicyRows {
  const n = evalRows.length;
  const out: PolicyRows = { name, draws, batches: Array.from({ length: batches }, () => emptyRows(n)), ...emptyRows(n) };
  evalRows.forEach((a, i) => {
    const per = dist(a);
    if (per.length !== batches) throw new RangeError(`${name}: expected ${batches} Monte Carlo batches, got ${per.length}`);
    targetRows(a, meanDistribution(per), q, out, i);
    per.forEach((d, b) => targetRows(a, d, q, out.batches[b], i));
  });
  return out;
}

/** Monte Carlo error of a policy's estimates and propensities (zeros for exact policies). */
export interface MonteCarloError {
  draws: number;
  batches: number;
  /** Standard error of each estimate due to the Monte Carlo propensities (spread of the batches / sqrt(batches)). */
  se: OpeEstimates;
  /** Largest and mean standard error of a row's target propensity. */
  propensityMaxSe: number;
  propensityMeanSe: number;
}

export function monteCarloError(rows: PolicyRows, base: Omit<OpeInputs, 'targetPropensity' | 'targetRewardHat'>): MonteCarloError {
  const B = rows.batches.length;
  const zero = { ips: 0, snips: 0, dr: 0 };
  if (B < 2) return { draws: rows.draws, batches: B, se: zero, propensityMaxSe: 0, propensityMeanSe: 0 };
  const ests = rows.batches.map((b) => opeEstimates({ ...base, targetPropensity: b.target, targetRewardHat: b.targetRewardHat }));
  const sd = (xs: number[]): number => {
    const m = xs.reduce((s, v) => s + v, 0) / xs.length;
    return Math.sqrt(xs.reduce((s, v) => s + (v - m) ** 2, 0) / (xs.length - 1));
  };
  // batches that are all the same (the switch engaged everywhere) differ only by rounding: no Monte Carlo error
  const se = (key: keyof OpeEstimates): number => {
    const v = sd(ests.map((e) => e[key])) / Math.sqrt(B);
    return v < 1e-15 ? 0 : v;
  };
  let maxSe = 0;
  let sumSe = 0;
  for (let i = 0; i < rows.target.length; i++) {
    const s = sd(rows.batches.map((b) => b.target[i])) / Math.sqrt(B);
    maxSe = Math.max(maxSe, s);
    sumSe += s;
  }
  return {
    draws: rows.draws,
    batches: B,
    se: { ips: se('ips'), snips: se('snips'), dr: se('dr') },
    propensityMaxSe: maxSe,
    propensityMeanSe: sumSe / rows.target.length,
  };
}

/** Whether the Monte Carlo error is small against the bootstrap interval: its 95% half-width at most `share` of the interval's half-width, for every estimator. */
export function monteCarloBelowInterval(error: MonteCarloError, intervals: OpeIntervals, share = 0.1): boolean {
  return (['ips', 'snips', 'dr'] as const).every((k) => 1.96 * error.se[k] <= share * ((intervals[k][1] - intervals[k][0]) / 2));
}

/** Epsilon-greedy slate over fixed scores: the same distribution `epsilonGreedySlate` samples from. */
function epsilonGreedyDistribution(scores: ArrayLike<number>, positions: number, exploration: number): Float64Array[] {
  const n = scores.length;
  return greedyOrder(scores, positions).map((greedy) => {
    const row = new Float64Array(n).fill(exploration / n);
    row[greedy] += 1 - exploration;
    return row;
  });
}

function candidateVectors(features: ContextFeatures, action: LoggedAction): Float64Array[] {
  // position is the same for every candidate, so it shifts all scores alike and leaves the ranking unchanged
  return Array.from({ length: features.items }, (_, item) => features.vector(action, item, 0));
}

// ---------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------

/** Which rows the engine's policy learns from: always before the evaluation half in time. */
export type LearnFrom = 'random' | 'random+bts';

export interface OpeOptions {
  /**
   * 'random': the first half of the random log only.
   * 'random+bts' (default when the bts log has rows before the evaluation half): also the bts
   * log's rows logged before the evaluation half begins (never a row of the evaluation window).
   */
  learnFrom?: LearnFrom;
  /** Exploration of the epsilon-greedy variants (probability of a uniformly random slate). Default 0.1. */
  exploration?: number;
  /** Ridge prior of the linear bandit. Default 1. */
  ridge?: number;
  /** Monte Carlo draws per row for the Thompson-sampling policies, before any doubling (0 skips the plain Thompson variant). Default 200. */
  thompsonDraws?: number;
  /**
   * The conservative switch's threshold, in effective clicks: the policy is the uniform prior
   * for a context while its posterior's evidence behind the slate it favours (the least supported
   * of its items, in observations, times the learning rows' CTR) is below it. Default 20.
   */
  minEvidenceClicks?: number;
  /** Share of the prior mixed into the released policy. Default 0.1. */
  floor?: number;
  /** Bootstrap resamples. Default 1000. */
  resamples?: number;
  /** Bootstrap seed. Default 42. */
  seed?: number;
}

interface Row {
  name: string;
  estimates: OpeEstimates;
  intervals: OpeIntervals;
  ess: number;
  diff: PairedDifference;
  mc: MonteCarloError;
  mcBelowInterval: boolean;
  engagedShare?: number;
}

const round = (x: number, digits = 6): number => Number(x.toFixed(digits));
const roundInterval = (x: Interval): Interval => [round(x[0]), round(x[1])];

/** The campaigns a directory holds (the CSV files of its random/ folder). */
export function listCampaigns(dir: string): string[] {
  const d = join(dir, 'random');
  return existsSync(d)
    ? readdirSync(d)
        .filter((f) => f.endsWith('.csv') && f !== 'item_context.csv')
        .map((f) => f.slice(0, -4))
        .sort()
    : [];
}

export async function runOpe(dir: string, campaign: string, json: boolean, options: OpeOptions = {}): Promise<void> {
  const started = Date.now();
  const exploration = options.exploration ?? 0.1;
  const ridge = options.ridge ?? 1;
  const draws = options.thompsonDraws ?? 200;
  const minEvidenceClicks = options.minEvidenceClicks ?? 20;
  const floor = options.floor ?? 0.1;
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 42;
  const batches = 10;
  let learnFrom: LearnFrom = options.learnFrom ?? 'random';

  const randomPath = join(dir, 'random', `${campaign}.csv`);
  if (!existsSync(randomPath)) {
    const found = listCampaigns(dir);
    throw new Error(
      `${randomPath} not found: ${found.length ? `campaigns in ${dir}: ${found.join(', ')}` : `pass a directory laid out like data/open-bandit (random/<campaign>.csv, optionally bts/<campaign>.csv and item_context.csv)`}`,
    );
  }
  const randomLog = readBanditLog(randomPath);
  const btsPath = join(dir, 'bts', `${campaign}.csv`);
  const btsLog = existsSync(btsPath) ? readBanditLog(btsPath) : null;
  if (!btsLog) log(`${btsPath} not found: its observed CTR is left out`);
  const contextPath = findItemContext(dir);
  const context = contextPath ? readItemContext(contextPath) : null;
  if (!context) log(`no item_context.csv in ${dir}: the policy uses position and affinity features only`);
  const actions = randomLog.actions;
  log(
    `${randomLog.path}: ${actions.length} rows, ${actions.reduce((s, a) => s + a.click, 0)} clicks${btsLog ? `; ${btsLog.path}: ${btsLog.actions.length} rows` : ''}`,
  );

  const maxItem = Math.max(...actions.map((a) => a.item), ...(context ? [...context.numeric.keys()] : []));
  const items = maxItem + 1;
  const positions = Math.max(...actions.map((a) => a.position)) + 1;
  const ctr = (rows: readonly LoggedAction[]): number => (rows.length ? rows.reduce((s, a) => s + a.click, 0) / rows.length : 0);

  // learn on the first half in time order, estimate on the second half
  if (actions.length < 2) throw new Error(`${randomLog.path}: need at least 2 rows to learn on one half and estimate on the other`);
  const half = Math.floor(actions.length / 2);
  const train = actions.slice(0, half);
  const evalRows = actions.slice(half);
  log(
    `train ${train.length} rows (${train.reduce((s, a) => s + a.click, 0)} clicks), evaluate ${evalRows.length} rows (${evalRows.reduce((s, a) => s + a.click, 0)} clicks); ${items} items, ${positions} positions`,
  );

  const withAffinity = actions.some((a) => a.affinity.length > 0);
  const features = new ContextFeatures(items, positions, context, withAffinity);
  // reward noise of a click: LinTS samples with the posterior of a Gaussian model of that variance
  const trainCtr = Math.min(0.5, Math.max(1e-3, ctr(train)));
  const noise = Math.sqrt(trainCtr * (1 - trainCtr));
  // bts rows logged before the evaluation half begins (never rows of the evaluation window)
  const cutoff = evalRows[0].time;
  const earlierBts = btsLog && !Number.isNaN(cutoff) ? btsLog.actions.filter((a) => a.time < cutoff && a.item < items && a.position < positions) : [];
  // default: learn from every row logged before the evaluation half (random and, when present, bts)
  if (options.learnFrom === undefined) learnFrom = earlierBts.length ? 'random+bts' : 'random';
  if (learnFrom === 'random+bts' && !earlierBts.length)
    throw new Error(`--learn-from random+bts: no bts rows logged before the evaluation half (${btsPath})`);
  const learningRows = (source: LearnFrom): LoggedAction[] => (source === 'random+bts' ? [...train, ...earlierBts] : train);
  const learn = <B extends LinearBandit>(bandit: B, source: LearnFrom, centre = 0): B => {
    // the random log is uniform, so every row counts once; Bernoulli TS in the bts log ignores the
    // user context, so its rows do not bias a model of reward given (context, item, position) either
    for (const a of learningRows(source)) bandit.update(features.vector(a, a.item, a.position), a.click - centre);
    return bandit;
  };
  const sourceName = (source: LearnFrom): string =>
    source === 'random' ? `first ${train.length} random rows` : `first ${train.length} random rows + ${earlierBts.length} earlier bts rows`;
  const lints = learn(new LinearThompsonBandit({ dimension: features.dimension, ridge, exploration: noise }), learnFrom);
  const linucb = learn(new LinUCBBandit({ dimension: features.dimension, ridge, exploration: noise }), learnFrom);
  // the engine's policy: posterior sampling around the population CTR (rewards centred on the learning rows'
  // CTR, so an item without evidence sits at the population's rate with the prior's width), behind the switch
  const learnedCtr = ctr(learningRows(learnFrom));
  const centred = learn(new LinearThompsonBandit({ dimension: features.dimension, ridge, exploration: noise }), learnFrom, learnedCtr);
  log(`LinTS/LinUCB learned on the ${sourceName(learnFrom)} over d=${features.dimension} features (ridge ${ridge}, noise ${noise.toFixed(4)})`);

  const q = fitPositionItemCtr(train, items, positions);
  const reward = Float64Array.from(evalRows, (a) => a.click);
  const logging = Float64Array.from(evalRows, (a) => a.propensity);
  const rewardHat = Float64Array.from(evalRows, (a) => q[a.position][a.item] ?? 0);
  const base = { reward, loggingPropensity: logging, rewardHat };

  const meanScores = (bandit: LinearBandit, a: LoggedAction): Float64Array => bandit.means(candidateVectors(features, a));
  const epsilonGreedy =
    (bandit: LinearBandit, e: number): RowDistribution =>
    (a) =>
      epsilonGreedyDistribution(meanScores(bandit, a), positions, e);
  const uniformRows = uniformSlate(items, positions);
  const uniform: RowDistribution = () => uniformRows;

  // posterior sampling (Thompson) slates of a bandit, by Monte Carlo in independent batches
  const thompsonBatches = (bandit: LinearBandit, xs: Float64Array[], perBatch: number, rand: RandomSource): Float64Array[][] =>
    Array.from({ length: batches }, () => estimateSlatePropensities((r) => bandit.scores(xs, r), items, positions, perBatch, rand));
  /** The evidence behind the slate the posterior favours, in effective clicks: its least supported item's. */
  const evidenceClicks = (bandit: LinearBandit, xs: Float64Array[]): number =>
    Math.min(...greedyOrder(bandit.means(xs), positions).map((i) => bandit.evidence(xs[i]))) * learnedCtr;
  let evidence: number[] = [];
  const conservativeRows = (totalDraws: number, withSwitch: boolean): PolicyRows => {
    const rand: RandomSource = mulberry32(seed);
    if (withSwitch) evidence = [];
    let engaged = 0;
    const perBatch = Math.max(1, Math.round(totalDraws / batches));
    const rows = monteCarloPolicyRows(
      withSwitch
        ? `engine: posterior sampling around the population CTR, conservative switch (below ${minEvidenceClicks} effective clicks: uniform; floor ${floor})`
        : 'same posterior sampling without the conservative switch',
      evalRows,
      (a) => {
        const xs = candidateVectors(features, a);
        const ev = withSwitch ? evidenceClicks(centred, xs) : Infinity;
        if (withSwitch) evidence.push(ev);
        const options = { minEvidence: minEvidenceClicks, floor: withSwitch ? floor : 0 };
        // the Monte Carlo batches are only drawn once the switch is released
        const first = conservativeSlate(
          () => estimateSlatePropensities((r) => centred.scores(xs, r), items, positions, perBatch, rand),
          uniformRows,
          ev,
          options,
        );
        if (first.engaged) {
          engaged++;
          return Array.from({ length: batches }, () => first.rows);
        }
        return [
          first.rows,
          ...Array.from(
            { length: batches - 1 },
            () =>
              conservativeSlate(
                () => estimateSlatePropensities((r) => centred.scores(xs, r), items, positions, perBatch, rand),
                uniformRows,
                ev,
                options,
              ).rows,
          ),
        ];
      },
      q,
      perBatch * batches,
      batches,
    );
    rows.engagedShare = engaged / evalRows.length;
    return rows;
  };
  // Monte Carlo draws: doubled until the error is below a tenth of every interval's half-width (at most 16x)
  const t0 = Date.now();
  let mainDraws = Math.max(batches, draws);
  let main = conservativeRows(mainDraws, true);
  for (;;) {
    const inputs: OpeInputs = { ...base, targetPropensity: main.target, targetRewardHat: main.targetRewardHat };
    const ok = monteCarloBelowInterval(monteCarloError(main, base), bootstrapOpe([inputs], { resamples: 200, seed }).intervals[0]);
    if (ok || mainDraws >= 16 * Math.max(batches, draws)) break;
    mainDraws *= 2;
    log(`Monte Carlo error above a tenth of the interval: ${mainDraws} draws per row`);
    main = conservativeRows(mainDraws, true);
  }
  const evidenceSorted = Float64Array.from(evidence).sort();
  const evidenceQuantiles = [0, 0.5, 0.9, 1].map((p) => round(quantile(evidenceSorted, p), 3));
  log(`evidence behind the favoured slates (effective clicks) min/median/p90/max: ${evidenceQuantiles.join(' / ')}`);
  log(
    `engine policy: switch engaged on ${((main.engagedShare ?? 0) * 100).toFixed(1)}% of evaluation rows; propensities from ${main.draws} draws/row in ${Date.now() - t0} ms`,
  );

  const policies: PolicyRows[] = [policyRows('uniform random', evalRows, uniform, q), main, conservativeRows(mainDraws, false)];
  policies.push(
    policyRows(
      `LinTS posterior mean, epsilon-greedy slate (exploration ${exploration}); the former engine policy`,
      evalRows,
      epsilonGreedy(lints, exploration),
      q,
    ),
    policyRows('same, greedy slate (exploration 0)', evalRows, epsilonGreedy(lints, 0), q),
    policyRows(
      `LinUCB, epsilon-greedy slate (exploration ${exploration})`,
      evalRows,
      (a) => epsilonGreedyDistribution(linucb.scores(candidateVectors(features, a)), positions, exploration),
      q,
    ),
  );
  {
    // the epsilon-greedy policy keeps learning online through the evaluation half (replay / progressive
    // validation): row t is scored by the policy learned from the rows before t, never from row t
    const online = LinearThompsonBandit.fromJSON(lints.toJSON());
    const rows = policyRows('epsilon-greedy LinTS learning online through the evaluation half (replay)', evalRows, uniform, q);
    evalRows.forEach((a, i) => {
      const p = epsilonGreedyDistribution(meanScores(online, a), positions, exploration)[a.position];
      rows.target[i] = p[a.item];
      const qk = q[a.position];
      rows.targetRewardHat[i] = 0;
      for (let j = 0; j < p.length; j++) rows.targetRewardHat[i] += p[j] * qk[j];
      online.update(features.vector(a, a.item, a.position), a.click);
    });
    policies.push(rows);
  }
  const other: LearnFrom = learnFrom === 'random' ? 'random+bts' : 'random';
  if (other === 'random' || earlierBts.length) {
    const alt = learn(new LinearThompsonBandit({ dimension: features.dimension, ridge, exploration: noise }), other);
    policies.push(policyRows(`epsilon-greedy LinTS learned on the ${sourceName(other)} instead`, evalRows, epsilonGreedy(alt, exploration), q));
  }
  if (options.thompsonDraws !== 0) {
    const rand: RandomSource = mulberry32(seed + 1);
    const perBatch = Math.max(1, Math.round(mainDraws / batches));
    policies.push(
      monteCarloPolicyRows(
        'LinTS Thompson sampling (rewards not centred, no switch)',
        evalRows,
        (a) => thompsonBatches(lints, candidateVectors(features, a), perBatch, rand),
        q,
        perBatch * batches,
        batches,
      ),
    );
  }
  const inputs: OpeInputs[] = policies.map((p) => ({ ...base, targetPropensity: p.target, targetRewardHat: p.targetRewardHat }));
  const t1 = Date.now();
  const boot = bootstrapOpe(inputs, { resamples, seed });
  log(`bootstrap (${resamples} resamples, seed ${seed}) in ${Date.now() - t1} ms`);
  const rows: Row[] = policies.map((p, k) => {
    const estimates = opeEstimates(inputs[k]);
    const mc = monteCarloError(p, base);
    return {
      name: p.name,
      estimates,
      intervals: boot.intervals[k],
      ess: effectiveSampleSize(inputs[k]),
      diff: pairedDifference({ estimates, replicates: boot.replicates[k] }, { estimates: opeEstimates(inputs[0]), replicates: boot.replicates[0] }),
      mc,
      mcBelowInterval: monteCarloBelowInterval(mc, boot.intervals[k]),
      engagedShare: p.engagedShare,
    };
  });

  const observed = { random: ctr(actions), bts: btsLog ? ctr(btsLog.actions) : null, random_eval_half: ctr(evalRows) };
  const random = rows[0];
  const policy = rows[1];
  const sanity =
    random.intervals.snips[0] <= observed.random &&
    observed.random <= random.intervals.snips[1] &&
    random.intervals.ips[0] <= observed.random &&
    observed.random <= random.intervals.ips[1];
  const seconds = Math.round((Date.now() - started) / 100) / 10;

  const f = (x: number): string => x.toFixed(4);
  const ci = (x: Interval): string => `[${f(x[0])}, ${f(x[1])}]`;
  console.log(`\nOff-policy evaluation, campaign "${campaign}" (${dir})`);
  console.log(
    `observed on-policy CTR: random ${f(observed.random)} (${actions.length} rows)${btsLog ? `, bts ${f(observed.bts as number)} (${btsLog.actions.length} rows)` : ''}`,
  );
  console.log(
    `learned on the ${sourceName(learnFrom)} (before the evaluation half in time), estimated on the last ${evalRows.length} random rows (${reward.reduce((s, v) => s + v, 0)} clicks, observed CTR ${f(observed.random_eval_half)})\n`,
  );
  console.log('| policy | ESS | IPS | IPS 95% CI | SNIPS | SNIPS 95% CI | DR | DR 95% CI |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.ess.toFixed(0)} | ${f(r.estimates.ips)} | ${ci(r.intervals.ips)} | ${f(r.estimates.snips)} | ${ci(r.intervals.snips)} | ${f(r.estimates.dr)} | ${ci(r.intervals.dr)} |`,
    );
  console.log('\npolicy minus uniform random, paired bootstrap (the same resampled rows for both):');
  console.log('| policy | IPS diff | 95% CI | SNIPS diff | 95% CI | DR diff | 95% CI | Monte Carlo SE of SNIPS (draws/row) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows.slice(1))
    console.log(
      `| ${r.name} | ${f(r.diff.estimates.ips)} | ${ci(r.diff.intervals.ips)} | ${f(r.diff.estimates.snips)} | ${ci(r.diff.intervals.snips)} | ${f(r.diff.estimates.dr)} | ${ci(r.diff.intervals.dr)} | ${r.mc.draws ? `${r.mc.se.snips.toExponential(2)} (${r.mc.draws})` : 'exact'} |`,
    );
  console.log(
    `\nsanity: the uniform random policy's IPS and SNIPS intervals ${sanity ? 'contain' : 'DO NOT contain'} its observed CTR ${f(observed.random)}`,
  );
  const below = policy.diff.intervals.snips[1] < 0;
  const above = policy.diff.intervals.snips[0] > 0;
  console.log(
    `engine policy: SNIPS minus random ${f(policy.diff.estimates.snips)}, 95% CI ${ci(policy.diff.intervals.snips)}: ${below ? 'significantly BELOW random' : above ? 'significantly above random' : 'not significantly different from random'}; ESS ${policy.ess.toFixed(0)} of ${evalRows.length} rows; switch engaged on ${((policy.engagedShare ?? 0) * 100).toFixed(1)}% of rows`,
  );
  console.log(
    `Monte Carlo error of its propensities (${policy.mc.draws} draws/row, ${policy.mc.batches} batches): SE of IPS ${policy.mc.se.ips.toExponential(2)}, SNIPS ${policy.mc.se.snips.toExponential(2)}, DR ${policy.mc.se.dr.toExponential(2)}; largest propensity SE ${policy.mc.propensityMaxSe.toExponential(2)}; ${policy.mcBelowInterval ? 'below' : 'NOT below'} a tenth of each interval's half-width; ${seconds} s`,
  );

  if (json) {
    const est = (r: Row): Record<string, unknown> => ({
      ips: round(r.estimates.ips),
      snips: round(r.estimates.snips),
      dr: round(r.estimates.dr),
      snips_ci: roundInterval(r.intervals.snips),
      ips_ci: roundInterval(r.intervals.ips),
      dr_ci: roundInterval(r.intervals.dr),
      ess: round(r.ess, 1),
      diff_vs_random: {
        ips: round(r.diff.estimates.ips),
        snips: round(r.diff.estimates.snips),
        dr: round(r.diff.estimates.dr),
        ips_ci: roundInterval(r.diff.intervals.ips),
        snips_ci: roundInterval(r.diff.intervals.snips),
        dr_ci: roundInterval(r.diff.intervals.dr),
        snips_positive_share: round(r.diff.snipsPositiveShare, 4),
      },
      monte_carlo: {
        draws_per_row: r.mc.draws,
        batches: r.mc.batches,
        se: { ips: Number(r.mc.se.ips.toPrecision(3)), snips: Number(r.mc.se.snips.toPrecision(3)), dr: Number(r.mc.se.dr.toPrecision(3)) },
        propensity_max_se: Number(r.mc.propensityMaxSe.toPrecision(3)),
        propensity_mean_se: Number(r.mc.propensityMeanSe.toPrecision(3)),
        below_tenth_of_interval: r.mcBelowInterval,
      },
      ...(r.engagedShare === undefined ? {} : { switch_engaged_share: round(r.engagedShare, 4) }),
    });
    const out = {
      protocol: 'ope',
      dataset: dir,
      campaign,
      rows: actions.length,
      rows_bts: btsLog ? btsLog.actions.length : 0,
      train_rows: train.length,
      learning_rows: learningRows(learnFrom).length,
      eval_rows: evalRows.length,
      eval_clicks: reward.reduce((s, v) => s + v, 0),
      items,
      positions,
      features: features.dimension,
      learn_from: learnFrom,
      conservative: { min_evidence_clicks: minEvidenceClicks, floor, evidence_clicks_min_median_p90_max: evidenceQuantiles },
      observed_ctr: {
        random: round(observed.random),
        bts: observed.bts === null ? null : round(observed.bts),
        random_eval_half: round(observed.random_eval_half),
      },
      estimates: { random: est(random), policy: { ...est(policy), name: policy.name } },
      variants: rows.slice(2).map((r) => ({ name: r.name, ...est(r) })),
      snips_lift_ci: roundInterval(policy.diff.intervals.snips),
      snips_lift_positive_share: round(policy.diff.snipsPositiveShare, 4),
      policy_not_below_random: !below,
      policy_above_random: above,
      sanity_random_ci_contains_observed: sanity,
      bootstrap: { resamples, seed },
      wall_s: seconds,
    };
    console.log(JSON.stringify(out));
  }
}

export const OPE_USAGE =
  'usage: npm run eval -- ope <open-bandit-dir> [--campaign <name>] [--json] [--learn-from random|random+bts] [--min-evidence-clicks 20] [--floor 0.1] [--exploration 0.1] [--ridge 1] [--thompson-draws 200] [--resamples 1000] [--seed 42]\n' +
  '       (<open-bandit-dir> holds random/<campaign>.csv, optionally bts/<campaign>.csv and item_context.csv; a path to random/<campaign>.csv works too; without --campaign, the only campaign there)';

export interface OpeCommand {
  dir: string;
  campaign: string;
  json: boolean;
  options: OpeOptions;
}

/** Parses the ope command's arguments (after `ope`): the directory (or a random/<campaign>.csv file), --campaign and the options. */
export function parseOpeArgs(args: readonly string[]): OpeCommand {
  let dir: string | undefined;
  let campaign: string | undefined;
  let json = false;
  const options: OpeOptions = {};
  const numeric: Record<string, 'exploration' | 'ridge' | 'thompsonDraws' | 'resamples' | 'seed' | 'minEvidenceClicks' | 'floor'> = {
    '--exploration': 'exploration',
    '--ridge': 'ridge',
    '--thompson-draws': 'thompsonDraws',
    '--resamples': 'resamples',
    '--seed': 'seed',
    '--min-evidence-clicks': 'minEvidenceClicks',
    '--floor': 'floor',
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--json') json = true;
    else if (flag === '--campaign') campaign = value();
    else if (flag === '--learn-from') {
      const v = value();
      if (v !== 'random' && v !== 'random+bts') throw new Error(`--learn-from is random or random+bts, got ${v}`);
      options.learnFrom = v;
    } else if (flag in numeric) {
      const v = Number(value());
      if (!Number.isFinite(v)) throw new Error(`${flag} needs a number`);
      options[numeric[flag]] = v;
    } else if (!flag.startsWith('-') && dir === undefined) dir = flag;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!dir) throw new Error('the Open Bandit directory is missing');
  if (dir.endsWith('.csv')) {
    // a campaign's random log: <dir>/random/<campaign>.csv
    campaign ??= basename(dir, '.csv');
    dir = dirname(dirname(dir));
  }
  if (campaign === undefined) {
    const found = listCampaigns(dir);
    if (found.length !== 1)
      throw new Error(`--campaign is missing: ${found.length ? `${dir} holds ${found.join(', ')}` : `no random/<campaign>.csv in ${dir}`}`);
    campaign = found[0];
  }
  return { dir, campaign, json, options };
}
