/**
 * Bandit layer: exploration over any scorer, with logged propensities so that
 * every choice can be evaluated off-policy later (IPS, SNIPS, DR).
 *
 * - `BetaBandit`: Beta-Bernoulli Thompson sampling per arm, with exponential
 *   forgetting towards the prior so that it follows changing taste.
 * - `LinearThompsonBandit` (LinTS) and `LinUCBBandit`: contextual bandits over a
 *   feature vector (one vector per candidate), ridge prior, Sherman-Morrison
 *   updates of the posterior covariance, the same forgetting.
 * - `epsilonGreedySlate` / `slatePropensities`: turn per-candidate scores into a
 *   ranked slate where every shown candidate carries the probability it had of
 *   being shown at its position; `estimateSlatePropensities` does the same by
 *   Monte Carlo for randomized scorers such as Thompson sampling.
 *
 * Everything here is pure and deterministic given the `rand` passed in (use
 * `mulberry32(seed)` from ./random), runs in the browser and in Node, and its
 * state is a plain, JSON- and structured-clone-safe object (`toJSON`/`fromJSON`).
 */
import { RecommenderError } from '../errors';
import { cholesky, invertSpd } from '../math/linalg';

/** A uniform random source on [0, 1), e.g. `mulberry32(seed)`. */
export type RandomSource = () => number;

/** Catalog id of an arm (an item, a strategy, a slot...). */
export type ArmId = string;

// ---------------------------------------------------------------------------
// Random variates (deterministic given `rand`)
// ---------------------------------------------------------------------------

/** A standard normal variate (Box-Muller; consumes two uniforms). */
export function sampleStandardNormal(rand: RandomSource): number {
  const u1 = 1 - rand(); // (0, 1]
  const u2 = rand();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A Gamma(shape, 1) variate (Marsaglia-Tsang; shape < 1 by the boost U^(1/shape)). */
export function sampleGamma(shape: number, rand: RandomSource): number {
  if (!(shape > 0) || !Number.isFinite(shape)) throw new RangeError(`sampleGamma: shape must be a positive finite number, got ${shape}`);
  if (shape < 1) {
    const boost = Math.pow(1 - rand(), 1 / shape);
    return sampleGamma(shape + 1, rand) * boost;
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = sampleStandardNormal(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rand();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(alpha, beta) variate. */
export function sampleBeta(alpha: number, beta: number, rand: RandomSource): number {
  const x = sampleGamma(alpha, rand);
  const y = sampleGamma(beta, rand);
  const s = x + y;
  // both can underflow to 0 for tiny shapes: fall back to the mean
  return s > 0 ? x / s : alpha / (alpha + beta);
}

function checkUnitDecay(decay: number, who: string): void {
  if (!(decay > 0 && decay <= 1)) {
    throw new RecommenderError(
      'invalid_options',
      `${who}: decay must be in (0, 1], got ${decay}.`,
      'Use 1 to keep all evidence, or e.g. 0.999 to forget old evidence slowly.',
    );
  }
}

function checkPositive(value: number, name: string, who: string): void {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RecommenderError('invalid_options', `${who}: ${name} must be a positive finite number, got ${value}.`, `Pass a positive ${name}.`);
  }
}

function badState(who: string, what: string): RecommenderError {
  return new RecommenderError(
    'storage',
    `${who}.fromJSON: the stored bandit state is malformed (${what}).`,
    'Delete the stored bandit state; the bandit starts again from its prior.',
  );
}

function isFiniteArray(value: unknown, length?: number): value is number[] {
  return Array.isArray(value) && (length === undefined || value.length === length) && value.every((v) => typeof v === 'number' && Number.isFinite(v));
}

// ---------------------------------------------------------------------------
// Beta-Bernoulli Thompson sampling
// ---------------------------------------------------------------------------

export interface BetaBanditOptions {
  /** Prior successes (Beta alpha). Default 1. */
  priorAlpha?: number;
  /** Prior failures (Beta beta). Default 1. */
  priorBeta?: number;
  /**
   * Forgetting factor in (0, 1]: every update multiplies all evidence collected so
   * far (the counts above the prior) by `decay`, so that the posterior drifts back
   * towards the prior unless evidence keeps arriving. 1 keeps everything. Default 1.
   */
  decay?: number;
  /**
   * A prior per arm (e.g. a population prior shipped by the site), overriding
   * priorAlpha / priorBeta for the arms it returns a value for. Not part of the
   * persisted state: pass it again to fromJSON.
   */
  armPrior?: (arm: ArmId) => BetaPosterior | undefined;
}

/** One arm's evidence above the prior, as of `step`. */
export interface BetaArmEvidence {
  successes: number;
  failures: number;
  /** The bandit's update counter when this evidence was last decayed. */
  step: number;
}

/** Persistable state of a `BetaBandit` (plain object: JSON- and structured-clone-safe). */
export interface BetaBanditState {
  kind: 'beta';
  version: 1;
  priorAlpha: number;
  priorBeta: number;
  decay: number;
  /** Number of updates so far (the forgetting clock). */
  step: number;
  arms: Record<ArmId, BetaArmEvidence>;
}

/** The Beta posterior of one arm. */
export interface BetaPosterior {
  alpha: number;
  beta: number;
}

/**
 * Beta-Bernoulli Thompson sampling, one independent arm per id. Unknown arms sit
 * at the prior. Forgetting is applied lazily (per arm, on read or update), so an
 * update costs O(1) whatever the number of arms.
 */
export class BetaBandit {
  readonly priorAlpha: number;
  readonly priorBeta: number;
  readonly decay: number;
  private step = 0;
  private readonly arms = new Map<ArmId, BetaArmEvidence>();
  private readonly armPrior?: (arm: ArmId) => BetaPosterior | undefined;

  constructor(options: BetaBanditOptions = {}) {
    this.armPrior = options.armPrior;
    this.priorAlpha = options.priorAlpha ?? 1;
    this.priorBeta = options.priorBeta ?? 1;
    this.decay = options.decay ?? 1;
    checkPositive(this.priorAlpha, 'priorAlpha', 'BetaBandit');
    checkPositive(this.priorBeta, 'priorBeta', 'BetaBandit');
    checkUnitDecay(this.decay, 'BetaBandit');
  }

  /** Number of updates seen so far. */
  get updates(): number {
    return this.step;
  }

  /** Arms that have received at least one update. */
  knownArms(): ArmId[] {
    return [...this.arms.keys()];
  }

  /** Evidence of `arm` decayed to the current step (zeros for unknown arms). */
  private evidence(arm: ArmId): { successes: number; failures: number } {
    const e = this.arms.get(arm);
    if (!e) return { successes: 0, failures: 0 };
    const f = this.decay === 1 ? 1 : Math.pow(this.decay, this.step - e.step);
    return { successes: e.successes * f, failures: e.failures * f };
  }

  /** The current Beta posterior of `arm`. */
  posterior(arm: ArmId): BetaPosterior {
    const e = this.evidence(arm);
    const prior = this.armPrior?.(arm);
    return { alpha: (prior?.alpha ?? this.priorAlpha) + e.successes, beta: (prior?.beta ?? this.priorBeta) + e.failures };
  }

  /** Posterior mean success rate of `arm`. */
  mean(arm: ArmId): number {
    const p = this.posterior(arm);
    return p.alpha / (p.alpha + p.beta);
  }

  /** One Thompson draw of the success rate of each arm, aligned with `arms`. */
  sample(arms: readonly ArmId[], rand: RandomSource): Float64Array {
    const out = new Float64Array(arms.length);
    for (let i = 0; i < arms.length; i++) {
      const p = this.posterior(arms[i]);
      out[i] = sampleBeta(p.alpha, p.beta, rand);
    }
    return out;
  }

  /** The arm with the highest Thompson draw (ties: the first), or undefined for no arms. */
  choose(arms: readonly ArmId[], rand: RandomSource): ArmId | undefined {
    const s = this.sample(arms, rand);
    let best = -1;
    for (let i = 0; i < s.length; i++) if (best < 0 || s[i] > s[best]) best = i;
    return best < 0 ? undefined : arms[best];
  }

  /**
   * Records one outcome of `arm`:
   * - `reward >= 1`: that many successes (1 is a click; 3 could be a purchase);
   * - `0 < reward < 1`: a fractional outcome, `reward` success and `1 - reward` failure;
   * - `reward == 0`: one failure;
   * - `reward < 0`: a strong failure (a dismiss), counted as `max(1, -reward)` failures.
   * All evidence collected before this update is first multiplied by `decay`.
   */
  update(arm: ArmId, reward: number): void {
    if (!Number.isFinite(reward)) throw new RangeError(`BetaBandit.update: reward must be a finite number, got ${reward}`);
    const current = this.evidence(arm);
    this.step += 1;
    const f = this.decay;
    let successes = current.successes * f;
    let failures = current.failures * f;
    if (reward >= 1) successes += reward;
    else if (reward > 0) {
      successes += reward;
      failures += 1 - reward;
    } else if (reward === 0) failures += 1;
    else failures += Math.max(1, -reward);
    this.arms.set(arm, { successes, failures, step: this.step });
  }

  /** Forgets one arm entirely (back to the prior), e.g. when an item leaves the catalog. */
  forget(arm: ArmId): void {
    this.arms.delete(arm);
  }

  toJSON(): BetaBanditState {
    const arms: Record<ArmId, BetaArmEvidence> = {};
    for (const [id, e] of this.arms) arms[id] = { successes: e.successes, failures: e.failures, step: e.step };
    return { kind: 'beta', version: 1, priorAlpha: this.priorAlpha, priorBeta: this.priorBeta, decay: this.decay, step: this.step, arms };
  }

  static fromJSON(state: BetaBanditState, armPrior?: (arm: ArmId) => BetaPosterior | undefined): BetaBandit {
    const s = state as Partial<BetaBanditState> | null;
    if (!s || typeof s !== 'object' || s.kind !== 'beta' || s.version !== 1) throw badState('BetaBandit', 'expected kind "beta", version 1');
    if (!Number.isInteger(s.step) || (s.step as number) < 0) throw badState('BetaBandit', 'step');
    if (!s.arms || typeof s.arms !== 'object') throw badState('BetaBandit', 'arms');
    const bandit = new BetaBandit({ priorAlpha: s.priorAlpha, priorBeta: s.priorBeta, decay: s.decay, armPrior });
    bandit.step = s.step as number;
    for (const [id, e] of Object.entries(s.arms)) {
      if (!e || !isFiniteArray([e.successes, e.failures, e.step]) || e.successes < 0 || e.failures < 0 || e.step > bandit.step)
        throw badState('BetaBandit', `arm ${id}`);
      bandit.arms.set(id, { successes: e.successes, failures: e.failures, step: e.step });
    }
    return bandit;
  }
}

// ---------------------------------------------------------------------------
// Contextual (linear) bandits
// ---------------------------------------------------------------------------

export interface LinearBanditOptions {
  /** Length of every context (feature) vector. */
  dimension: number;
  /** Ridge prior: the posterior precision starts at `ridge * I` (theta ~ N(0, I / ridge)). Default 1. */
  ridge?: number;
  /**
   * Forgetting factor in (0, 1], applied at every update towards the prior:
   * precision <- decay * precision + (1 - decay) * ridge * I, reward sums <- decay * sums.
   * Default 1 (no forgetting).
   */
  decay?: number;
}

export interface LinearThompsonOptions extends LinearBanditOptions {
  /** Scale of the posterior used for sampling (LinTS's v): larger explores more. Default 1. */
  exploration?: number;
}

export interface LinUCBOptions extends LinearBanditOptions {
  /** Width of the confidence bonus (LinUCB's alpha). Default 1. */
  exploration?: number;
}

/** Persistable state of a linear bandit (plain object: JSON- and structured-clone-safe). */
export interface LinearBanditState {
  kind: 'lints' | 'linucb';
  version: 1;
  dimension: number;
  ridge: number;
  decay: number;
  exploration: number;
  updates: number;
  /** Posterior precision A = ridge * I + sum of w x x^T, row-major d x d. */
  precision: number[];
  /** A^-1 as maintained by Sherman-Morrison updates (kept so a restored bandit scores identically). */
  covariance: number[];
  /** b = sum of w r x. */
  rewardSums: number[];
}

/** A context vector, e.g. a Float32Array/Float64Array/number[] of length `dimension`. */
export type FeatureVector = ArrayLike<number>;

/**
 * Bayesian ridge regression of reward on features, shared by LinTS and LinUCB.
 * Precision A and reward sums b are the canonical state; the covariance A^-1 is
 * updated by Sherman-Morrison (O(d^2)) and recomputed exactly (O(d^3), small for
 * d <= 64) only when forgetting changes A by more than a rank-one term.
 */
export abstract class LinearBandit {
  readonly dimension: number;
  readonly ridge: number;
  readonly decay: number;
  readonly exploration: number;
  protected precision: Float64Array;
  protected covariance: Float64Array;
  protected rewardSums: Float64Array;
  protected updateCount = 0;
  private cachedMean: Float64Array | null = null;

  protected constructor(options: LinearBanditOptions & { exploration?: number }, who: string) {
    const d = options.dimension;
    if (!Number.isInteger(d) || d < 1 || d > 4096) {
      throw new RecommenderError(
        'invalid_options',
        `${who}: dimension must be an integer in [1, 4096], got ${d}.`,
        'Pass the length of the context vectors.',
      );
    }
    this.dimension = d;
    this.ridge = options.ridge ?? 1;
    this.decay = options.decay ?? 1;
    this.exploration = options.exploration ?? 1;
    checkPositive(this.ridge, 'ridge', who);
    checkUnitDecay(this.decay, who);
    if (!(this.exploration >= 0) || !Number.isFinite(this.exploration)) {
      throw new RecommenderError(
        'invalid_options',
        `${who}: exploration must be a non-negative finite number, got ${this.exploration}.`,
        'Use 0 for pure exploitation, 1 as a default.',
      );
    }
    this.precision = new Float64Array(d * d);
    this.covariance = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      this.precision[i * d + i] = this.ridge;
      this.covariance[i * d + i] = 1 / this.ridge;
    }
    this.rewardSums = new Float64Array(d);
  }

  abstract readonly kind: 'lints' | 'linucb';

  /** Number of updates seen so far. */
  get updates(): number {
    return this.updateCount;
  }

  /** Scores of each candidate context: a Thompson draw (LinTS) or an upper confidence bound (LinUCB). */
  abstract scores(contexts: readonly FeatureVector[], rand: RandomSource): Float64Array;

  protected checkContext(x: FeatureVector, who: string): void {
    if (x.length !== this.dimension) throw new RangeError(`${who}: context has length ${x.length}, the bandit's dimension is ${this.dimension}`);
    for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new RangeError(`${who}: context[${i}] is not a finite number`);
  }

  /** Posterior mean of the weights, A^-1 b (a copy). */
  weights(): Float64Array {
    return Float64Array.from(this.meanWeights());
  }

  protected meanWeights(): Float64Array {
    if (this.cachedMean) return this.cachedMean;
    const d = this.dimension;
    const mu = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += this.covariance[i * d + j] * this.rewardSums[j];
      mu[i] = s;
    }
    this.cachedMean = mu;
    return mu;
  }

  /** Posterior mean reward of each context (the greedy score). */
  means(contexts: readonly FeatureVector[]): Float64Array {
    const mu = this.meanWeights();
    const out = new Float64Array(contexts.length);
    for (let c = 0; c < contexts.length; c++) {
      const x = contexts[c];
      this.checkContext(x, 'means');
      let s = 0;
      for (let i = 0; i < this.dimension; i++) s += x[i] * mu[i];
      out[c] = s;
    }
    return out;
  }

  /** Posterior standard deviation of the mean reward of context x: sqrt(x^T A^-1 x). */
  uncertainty(x: FeatureVector): number {
    this.checkContext(x, 'uncertainty');
    const d = this.dimension;
    let q = 0;
    for (let i = 0; i < d; i++) {
      if (x[i] === 0) continue;
      let s = 0;
      for (let j = 0; j < d; j++) s += this.covariance[i * d + j] * x[j];
      q += x[i] * s;
    }
    return Math.sqrt(Math.max(0, q));
  }

  /**
   * Evidence behind the posterior prediction at x, in observations: how many updates
   * with context x alone would give the prediction x^T theta its current precision,
   * 1 / (x^T A^-1 x) - ridge / |x|^2. 0 with no data (and for x = 0). The
   * conservative switch (`conservativeSlate`) compares it with its threshold.
   */
  evidence(x: FeatureVector): number {
    let norm = 0;
    for (let i = 0; i < x.length; i++) norm += x[i] * x[i];
    if (norm === 0) return 0;
    const sd = this.uncertainty(x);
    if (sd === 0) return Infinity;
    return Math.max(0, 1 / (sd * sd) - this.ridge / norm);
  }

  /**
   * Records the reward observed for the chosen context. `weight` (>= 0) counts the
   * observation that many times, e.g. 1 / propensity when learning from a log that
   * was not collected uniformly at random.
   */
  update(context: FeatureVector, reward: number, weight = 1): void {
    this.checkContext(context, 'update');
    if (!Number.isFinite(reward)) throw new RangeError(`update: reward must be a finite number, got ${reward}`);
    if (!(weight >= 0) || !Number.isFinite(weight)) throw new RangeError(`update: weight must be a non-negative finite number, got ${weight}`);
    const d = this.dimension;
    const A = this.precision;
    const b = this.rewardSums;
    this.cachedMean = null;
    this.updateCount += 1;
    if (this.decay < 1) {
      const g = this.decay;
      for (let i = 0; i < d * d; i++) A[i] *= g;
      for (let i = 0; i < d; i++) {
        A[i * d + i] += (1 - g) * this.ridge;
        b[i] *= g;
      }
    }
    for (let i = 0; i < d; i++) {
      const xi = context[i];
      b[i] += weight * reward * xi;
      if (xi === 0) continue;
      for (let j = 0; j < d; j++) A[i * d + j] += weight * xi * context[j];
    }
    if (this.decay < 1) {
      // forgetting towards the prior is not a rank-one change: recompute exactly
      this.covariance = invertSpd(Float64Array.from(A), d);
    } else if (weight > 0) {
      // Sherman-Morrison: (A + w x x^T)^-1 = A^-1 - w (A^-1 x)(A^-1 x)^T / (1 + w x^T A^-1 x)
      const S = this.covariance;
      const sx = new Float64Array(d);
      let q = 0;
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += S[i * d + j] * context[j];
        sx[i] = s;
        q += context[i] * s;
      }
      const k = weight / (1 + weight * q);
      for (let i = 0; i < d; i++) {
        if (sx[i] === 0) continue;
        const ki = k * sx[i];
        for (let j = 0; j < d; j++) S[i * d + j] -= ki * sx[j];
      }
    }
    this.afterUpdate();
  }

  /** Hook for subclasses that cache something derived from the covariance. */
  protected afterUpdate(): void {}

  toJSON(): LinearBanditState {
    return {
      kind: this.kind,
      version: 1,
      dimension: this.dimension,
      ridge: this.ridge,
      decay: this.decay,
      exploration: this.exploration,
      updates: this.updateCount,
      precision: Array.from(this.precision),
      covariance: Array.from(this.covariance),
      rewardSums: Array.from(this.rewardSums),
    };
  }

  protected restore(state: LinearBanditState, who: string): void {
    const d = this.dimension;
    if (!Number.isInteger(state.updates) || state.updates < 0) throw badState(who, 'updates');
    if (!isFiniteArray(state.precision, d * d)) throw badState(who, `precision must hold ${d * d} finite numbers`);
    if (!isFiniteArray(state.rewardSums, d)) throw badState(who, `rewardSums must hold ${d} finite numbers`);
    this.precision = Float64Array.from(state.precision);
    this.rewardSums = Float64Array.from(state.rewardSums);
    if (isFiniteArray(state.covariance, d * d)) this.covariance = Float64Array.from(state.covariance);
    else {
      try {
        this.covariance = invertSpd(Float64Array.from(this.precision), d);
      } catch {
        throw badState(who, 'precision is not positive definite');
      }
    }
    this.updateCount = state.updates;
    this.cachedMean = null;
    this.afterUpdate();
  }
}

function checkLinearState(state: LinearBanditState, kind: 'lints' | 'linucb', who: string): void {
  const s = state as Partial<LinearBanditState> | null;
  if (!s || typeof s !== 'object' || s.kind !== kind || s.version !== 1) throw badState(who, `expected kind "${kind}", version 1`);
}

/**
 * Linear Thompson sampling: each call to `scores` draws one weight vector
 * theta ~ N(A^-1 b, exploration^2 A^-1) and scores every candidate context with it.
 */
export class LinearThompsonBandit extends LinearBandit {
  readonly kind = 'lints' as const;
  private covarianceFactor: Float64Array | null = null;

  constructor(options: LinearThompsonOptions) {
    super(options, 'LinearThompsonBandit');
  }

  protected override afterUpdate(): void {
    this.covarianceFactor = null;
  }

  /** One posterior draw of the weight vector. */
  sampleWeights(rand: RandomSource): Float64Array {
    const d = this.dimension;
    const mu = this.meanWeights();
    if (this.exploration === 0) return Float64Array.from(mu);
    this.covarianceFactor ??= cholesky(this.covariance, d);
    const L = this.covarianceFactor;
    const z = new Float64Array(d);
    for (let i = 0; i < d; i++) z[i] = sampleStandardNormal(rand);
    const theta = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += L[i * d + k] * z[k];
      theta[i] = mu[i] + this.exploration * s;
    }
    return theta;
  }

  scores(contexts: readonly FeatureVector[], rand: RandomSource): Float64Array {
    const theta = this.sampleWeights(rand);
    const out = new Float64Array(contexts.length);
    for (let c = 0; c < contexts.length; c++) {
      const x = contexts[c];
      this.checkContext(x, 'scores');
      let s = 0;
      for (let i = 0; i < this.dimension; i++) s += x[i] * theta[i];
      out[c] = s;
    }
    return out;
  }

  static fromJSON(state: LinearBanditState): LinearThompsonBandit {
    checkLinearState(state, 'lints', 'LinearThompsonBandit');
    const bandit = new LinearThompsonBandit({ dimension: state.dimension, ridge: state.ridge, decay: state.decay, exploration: state.exploration });
    bandit.restore(state, 'LinearThompsonBandit');
    return bandit;
  }
}

/** LinUCB: score = x^T A^-1 b + exploration * sqrt(x^T A^-1 x). Deterministic (`rand` is not used). */
export class LinUCBBandit extends LinearBandit {
  readonly kind = 'linucb' as const;

  constructor(options: LinUCBOptions) {
    super(options, 'LinUCBBandit');
  }

  scores(contexts: readonly FeatureVector[], _rand?: RandomSource): Float64Array {
    const out = this.means(contexts);
    if (this.exploration > 0) for (let c = 0; c < contexts.length; c++) out[c] += this.exploration * this.uncertainty(contexts[c]);
    return out;
  }

  static fromJSON(state: LinearBanditState): LinUCBBandit {
    checkLinearState(state, 'linucb', 'LinUCBBandit');
    const bandit = new LinUCBBandit({ dimension: state.dimension, ridge: state.ridge, decay: state.decay, exploration: state.exploration });
    bandit.restore(state, 'LinUCBBandit');
    return bandit;
  }
}

/** Restores either kind of linear bandit from its stored state. */
export function linearBanditFromJSON(state: LinearBanditState): LinearThompsonBandit | LinUCBBandit {
  if (state && state.kind === 'linucb') return LinUCBBandit.fromJSON(state);
  return LinearThompsonBandit.fromJSON(state);
}

// ---------------------------------------------------------------------------
// Slates with propensities
// ---------------------------------------------------------------------------

/** One shown candidate of a slate. */
export interface SlateSlot {
  /** Index of the candidate in the scores array. */
  candidate: number;
  /** 0-based position in the slate. */
  position: number;
  /** Probability that this candidate was shown at this position (marginal over the policy's randomness). */
  propensity: number;
  /** The candidate's score. */
  score: number;
}

export interface Slate {
  slots: SlateSlot[];
  /** Whether this slate was an exploration slate (uniformly random). */
  explored: boolean;
}

export interface SlateOptions {
  /** Number of positions to fill (capped at the number of candidates). */
  size: number;
  /**
   * Probability in [0, 1] of showing a uniformly random slate instead of the greedy
   * one. 0: pure exploitation (the greedy picks get propensity 1); 1: uniform random.
   */
  exploration: number;
}

function checkSlateOptions(options: SlateOptions): void {
  if (!Number.isInteger(options.size) || options.size < 0) {
    throw new RecommenderError(
      'invalid_options',
      `slate: size must be a non-negative integer, got ${options.size}.`,
      'Pass the number of positions to fill.',
    );
  }
  if (!(options.exploration >= 0 && options.exploration <= 1)) {
    throw new RecommenderError(
      'invalid_options',
      `slate: exploration must be in [0, 1], got ${options.exploration}.`,
      'Use 0 for pure exploitation, e.g. 0.1 to explore one slate in ten.',
    );
  }
}

/**
 * Indices of the `size` best scores, best first. Ties go to the lower index;
 * NaN scores rank last. Deterministic.
 */
export function greedyOrder(scores: ArrayLike<number>, size: number): number[] {
  const n = scores.length;
  const k = Math.min(size, n);
  const key = (i: number): number => (Number.isNaN(scores[i]) ? -Infinity : scores[i]);
  const out: number[] = [];
  // partial selection: O(n k), k is a slate size
  const taken = new Uint8Array(n);
  for (let p = 0; p < k; p++) {
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      if (best < 0 || key(i) > key(best)) best = i;
    }
    taken[best] = 1;
    out.push(best);
  }
  return out;
}

/**
 * Probability of each candidate at each position under `epsilonGreedySlate`:
 * `result[position][candidate]` = (1 - exploration) * [candidate is the greedy pick
 * at position] + exploration / n. Every row sums to 1.
 */
export function slatePropensities(scores: ArrayLike<number>, options: SlateOptions): Float64Array[] {
  checkSlateOptions(options);
  const n = scores.length;
  const order = greedyOrder(scores, options.size);
  const e = options.exploration;
  return order.map((greedy) => {
    const row = new Float64Array(n).fill(e / n);
    row[greedy] += 1 - e;
    return row;
  });
}

/**
 * Epsilon-greedy slate: with probability `1 - exploration` the greedy ranking of
 * `scores`, otherwise a uniformly random ordered slate of distinct candidates.
 * Each slot carries its exact marginal propensity, so logs written from these
 * slates can be evaluated off-policy. Consumes `rand` only when exploration > 0.
 */
export function epsilonGreedySlate(scores: ArrayLike<number>, options: SlateOptions, rand: RandomSource): Slate {
  checkSlateOptions(options);
  const n = scores.length;
  const e = options.exploration;
  const greedy = greedyOrder(scores, options.size);
  const explored = e > 0 && (e >= 1 || rand() < e);
  let picks = greedy;
  if (explored) {
    // partial Fisher-Yates over the candidate indices
    const pool = Array.from({ length: n }, (_, i) => i);
    picks = [];
    for (let p = 0; p < greedy.length; p++) {
      const j = p + Math.floor(rand() * (n - p));
      [pool[p], pool[j]] = [pool[j], pool[p]];
      picks.push(pool[p]);
    }
  }
  const slots = picks.map((candidate, position) => ({
    candidate,
    position,
    propensity: (candidate === greedy[position] ? 1 - e : 0) + e / n,
    score: scores[candidate],
  }));
  return { slots, explored };
}

/**
 * Monte Carlo estimate of position propensities for a randomized scorer, e.g.
 * Thompson sampling (`rand => bandit.scores(contexts, rand)`) followed by a greedy
 * slate: `result[position][candidate]` is the share of `draws` slates that showed
 * the candidate there. Rows sum to 1. Deterministic given `rand`.
 */
export function estimateSlatePropensities(
  sampleScores: (rand: RandomSource) => ArrayLike<number>,
  candidates: number,
  size: number,
  draws: number,
  rand: RandomSource,
): Float64Array[] {
  if (!Number.isInteger(draws) || draws < 1) throw new RangeError(`estimateSlatePropensities: draws must be a positive integer, got ${draws}`);
  const k = Math.min(size, candidates);
  const rows = Array.from({ length: k }, () => new Float64Array(candidates));
  for (let t = 0; t < draws; t++) {
    const s = sampleScores(rand);
    if (s.length !== candidates) throw new RangeError(`estimateSlatePropensities: sampler returned ${s.length} scores, expected ${candidates}`);
    greedyOrder(s, k).forEach((c, p) => (rows[p][c] += 1));
  }
  for (const row of rows) for (let i = 0; i < candidates; i++) row[i] /= draws;
  return rows;
}

/**
 * Exact position propensities of a Thompson-sampling slate over independent Beta
 * arms (each arm draws from its posterior, the slate is the greedy order of the
 * draws): `result[position][arm]`. Computed by integrating over a grid (`grid`
 * cells over the range that holds the posteriors' mass), enumerating the ordered
 * prefixes, so it is meant for small slates (arms <= 8, size <= 3), as the
 * reference the Monte Carlo estimates are checked against.
 */
export function exactBetaSlatePropensities(posteriors: readonly BetaPosterior[], size: number, grid = 4000): Float64Array[] {
  const n = posteriors.length;
  const k = Math.min(size, n);
  if (n > 8 || k > 3)
    throw new RangeError(`exactBetaSlatePropensities: small slates only (at most 8 arms, 3 positions), got ${n} arms, ${k} positions`);
  // range holding the mass: mean +- 12 sd of every posterior, inside [0, 1]
  let lo = 1;
  let hi = 0;
  for (const { alpha, beta } of posteriors) {
    const m = alpha / (alpha + beta);
    const sd = Math.sqrt((alpha * beta) / ((alpha + beta) ** 2 * (alpha + beta + 1)));
    lo = Math.min(lo, Math.max(0, m - 12 * sd));
    hi = Math.max(hi, Math.min(1, m + 12 * sd));
  }
  const h = (hi - lo) / grid;
  // per arm: probability mass of each cell (midpoint rule in log space, renormalised) and its CDF at the cell's end
  const mass = posteriors.map(({ alpha, beta }) => {
    const logs = Float64Array.from({ length: grid }, (_, g) => {
      const x = lo + (g + 0.5) * h;
      return (alpha - 1) * Math.log(x) + (beta - 1) * Math.log(1 - x);
    });
    const top = Math.max(...logs);
    const cells = logs.map((l) => Math.exp(l - top));
    const total = cells.reduce((s, v) => s + v, 0);
    return cells.map((v) => v / total);
  });
  // CDF at the cell's midpoint: the mass below it plus half its own (ties inside a cell split evenly)
  const cdf = mass.map((cells) => {
    const out = new Float64Array(grid);
    let below = 0;
    for (let g = 0; g < grid; g++) {
      out[g] = below + cells[g] / 2;
      below += cells[g];
    }
    return out;
  });
  const rows = Array.from({ length: k }, () => new Float64Array(n));
  // P(a_1 > a_2 > ... > a_j > every other arm) by dynamic programming from the last position up
  const prefixes = (len: number, prefix: number[]): void => {
    if (prefix.length === len) {
      const rest = posteriors.map((_, a) => a).filter((a) => !prefix.includes(a));
      let g = new Float64Array(grid);
      for (let c = 0; c < grid; c++) {
        let p = mass[prefix[len - 1]][c];
        for (const o of rest) p *= cdf[o][c];
        g[c] = p;
      }
      for (let j = len - 2; j >= 0; j--) {
        const next = new Float64Array(grid);
        let below = 0;
        for (let c = 0; c < grid; c++) {
          next[c] = mass[prefix[j]][c] * (below + g[c] / 2);
          below += g[c];
        }
        g = next;
      }
      rows[len - 1][prefix[len - 1]] += g.reduce((s, v) => s + v, 0);
      return;
    }
    for (let a = 0; a < n; a++) if (!prefix.includes(a)) prefixes(len, [...prefix, a]);
  };
  for (let len = 1; len <= k; len++) prefixes(len, []);
  return rows;
}

// ---------------------------------------------------------------------------
// Uncertainty-aware, conservative slate policies
// ---------------------------------------------------------------------------

/** A per-position distribution over candidates: `rows[position][candidate]`, every row summing to 1. */
export type SlateDistribution = Float64Array[];

/** The uniform slate distribution (the uniform random policy's marginals). */
export function uniformSlate(candidates: number, size: number): SlateDistribution {
  return Array.from({ length: Math.min(size, candidates) }, () => new Float64Array(candidates).fill(1 / candidates));
}

export interface ConservativeOptions {
  /**
   * The switch's threshold: while the evidence behind the policy's choices (in the
   * caller's unit, e.g. effective clicks) is below it, the policy is the prior.
   */
  minEvidence: number;
  /** Share of the prior always mixed in once released (keeps every action's probability positive). Default 0.1. */
  floor?: number;
}

/** The posterior-sampling policy after the conservative switch. */
export interface ConservativeSlate {
  /** `rows[position][candidate]`: trust * posterior sampling + (1 - trust) * prior. */
  rows: SlateDistribution;
  /** Weight of the posterior-sampling policy: 0 while the switch is engaged, 1 - floor once released. */
  trust: number;
  /** Whether the switch is engaged (evidence below the threshold): the policy is then exactly the prior. */
  engaged: boolean;
  /** The evidence the switch compared with its threshold. */
  evidence: number;
  /** The posterior-sampling distribution alone (null while engaged: it was not needed). */
  posterior: SlateDistribution | null;
}

/**
 * Trust in the posterior-sampling policy for a given evidence: 0 below
 * `minEvidence` (the switch engaged), `1 - floor` at or above it (released).
 */
export function conservativeTrust(evidence: number, options: ConservativeOptions): number {
  const floor = options.floor ?? 0.1;
  if (!(options.minEvidence >= 0) || !(floor >= 0 && floor <= 1))
    throw new RangeError(`conservativeTrust: minEvidence must be >= 0 and floor in [0, 1], got ${options.minEvidence}, ${floor}`);
  return evidence >= options.minEvidence ? 1 - floor : 0;
}

/**
 * Posterior sampling with a conservative switch. `posterior()` returns the
 * posterior-sampling policy's per-position probabilities (exact, or by Monte Carlo
 * with `estimateSlatePropensities`); it is only called once the switch is released.
 * While `evidence` is below `minEvidence` the result is `prior` itself, exactly;
 * above it, `(1 - floor) * posterior + floor * prior`.
 */
export function conservativeSlate(
  posterior: () => SlateDistribution,
  prior: SlateDistribution,
  evidence: number,
  options: ConservativeOptions,
): ConservativeSlate {
  const trust = conservativeTrust(evidence, options);
  if (trust === 0) return { rows: prior.map((r) => Float64Array.from(r)), trust, engaged: true, evidence, posterior: null };
  const p = posterior();
  if (p.length !== prior.length) throw new RangeError(`conservativeSlate: posterior has ${p.length} positions, the prior ${prior.length}`);
  const rows = p.map((row, k) => Float64Array.from(row, (v, c) => trust * v + (1 - trust) * prior[k][c]));
  return { rows, trust, engaged: false, evidence, posterior: p };
}
