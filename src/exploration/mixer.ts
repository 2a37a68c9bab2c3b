/**
 * Exploration and result combination: a slate of k mixes candidate sources
 * (the engine's full ranking, content similarity, the global model's
 * neighbours, trending items, and "something new": items the ranking keeps
 * below the fold). The first slots always show the ranking; each of the
 * `rate * k` open slots is filled by a bandit that learns, per slot, which
 * source the visitor responds to:
 *
 * - 'thompson': Beta-Bernoulli Thompson sampling over the sources of each slot;
 * - 'contextual': linear Thompson sampling over item features (the ranking's
 *   components, the source, the rank), choosing items directly, behind a
 *   conservative switch: while the linear model's evidence behind the candidate it
 *   favours is below `minEvidence` observations, the slot is chosen as 'thompson'
 *   chooses it (the population prior and the visitor's own source evidence), and
 *   the linear model keeps learning from those slots;
 * - 'off' or rate 0: pure exploitation (the ranking as is).
 *
 * Every shown item carries its propensity (the probability that the policy put
 * it in that slot given the slots before it), for off-policy evaluation.
 * Feedback: a click or like is a success, an impression without a click a
 * failure, a dismiss a strong failure; old evidence decays. Deterministic given
 * the random source. Pure (no I/O): the engine persists `toJSON()`.
 */
import { SOURCES, type Source } from '../vocabulary';
import { BetaBandit, LinearThompsonBandit, type BetaBanditState, type LinearBanditState, type RandomSource } from './bandit';
import { topK } from '../math/top-k';
import type { ScoreComponents } from '../ranking/score';
import { DEFAULT_EXPLORATION, POPULATION_SOURCE_RATES, type ExplorationConfig } from './config';

/** Candidate lists per source: item indices, best first. */
export type SourceLists = Record<Source, readonly number[]>;

/** Features of a candidate for the contextual policy. */
export type FeatureFn = (item: number, source: Source, rank: number) => number[];

export const CONTEXT_DIMENSION = 5 + SOURCES.length;

export interface ShownItem {
  item: number;
  slot: number;
  source: Source;
  /** Probability that the policy showed this item in this slot, given the slots before it. */
  propensity: number;
  /** Per source: probability that the slot was filled from it (sums to 1). */
  sourcePropensities: Partial<Record<Source, number>>;
  /** Context used by the contextual policy. */
  features?: number[];
  /** 'contextual' only: the conservative switch was engaged, so the population prior's Thompson sampling chose this slot. */
  byPrior?: boolean;
}

export interface MixerState {
  version: 1;
  beta: BetaBanditState;
  linear: LinearBanditState | null;
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Monte-Carlo propensities: the share of `draws` sampled score vectors each option wins (first on ties). */
function winShares(sample: () => ArrayLike<number>, options: number, draws: number): Float64Array {
  const wins = new Float64Array(options);
  for (let d = 0; d < draws; d++) wins[argmax(sample())] += 1;
  for (let i = 0; i < options; i++) wins[i] /= draws;
  return wins;
}

/** Per-arm ("slot:source") Beta prior from the config; undefined: uniform Beta(1, 1). */
function sourcePrior(config: ExplorationConfig): ((arm: string) => { alpha: number; beta: number } | undefined) | undefined {
  const prior = config.prior ?? 'population';
  if (prior === 'uniform') return undefined;
  const rates = prior === 'population' ? POPULATION_SOURCE_RATES : { ...POPULATION_SOURCE_RATES, ...prior };
  const m = config.priorStrength ?? 1000;
  return (arm) => {
    const rate = rates[arm.slice(arm.indexOf(':') + 1) as Source];
    if (rate === undefined) return undefined;
    const p = Math.min(0.99, Math.max(1e-4, rate));
    return { alpha: p * m, beta: (1 - p) * m };
  };
}

export class SlateMixer {
  private readonly beta: BetaBandit;
  private readonly linear: LinearThompsonBandit;

  constructor(
    readonly config: ExplorationConfig = DEFAULT_EXPLORATION,
    state?: MixerState,
  ) {
    const armPrior = sourcePrior(config);
    this.beta = state?.beta
      ? BetaBandit.fromJSON(state.beta, armPrior)
      : new BetaBandit({ priorAlpha: 1, priorBeta: 1, decay: config.decay, armPrior });
    this.linear = state?.linear
      ? (LinearThompsonBandit.fromJSON(state.linear) as LinearThompsonBandit)
      : new LinearThompsonBandit({ dimension: CONTEXT_DIMENSION, ridge: 1, decay: config.decay, exploration: 0.5 });
  }

  /** Number of open (explorable) slots in a slate of k. */
  openSlots(k: number): number {
    if (this.config.policy === 'off' || this.config.rate <= 0) return 0;
    return Math.min(k, Math.round(this.config.rate * k));
  }

  /**
   * Composes a slate of up to k items. The first k - openSlots(k) slots follow
   * `lists.ranked`; each open slot is chosen by the policy among the sources'
   * best remaining items.
   */
  compose(lists: SourceLists, k: number, rand: RandomSource, features?: FeatureFn): ShownItem[] {
    const shown: ShownItem[] = [];
    const used = new Set<number>();
    const open = this.openSlots(k);
    const fixed = k - open;
    const next = (source: Source): number | undefined => lists[source].find((i) => !used.has(i));
    for (let slot = 0; slot < k; slot++) {
      if (slot < fixed) {
        const item = next('ranked');
        if (item === undefined) break;
        used.add(item);
        shown.push({ item, slot, source: 'ranked', propensity: 1, sourcePropensities: { ranked: 1 } });
        continue;
      }
      const available = SOURCES.filter((s) => next(s) !== undefined);
      if (available.length === 0) break;
      const pick =
        this.config.policy === 'contextual' && features
          ? this.pickContextual(lists, used, slot, rand, features)
          : this.pickThompson(available, next, slot, rand);
      if (!pick) break;
      used.add(pick.item);
      shown.push(pick);
    }
    return shown;
  }

  private arm(slot: number, source: Source): string {
    return `${slot}:${source}`;
  }

  private pickThompson(available: Source[], next: (s: Source) => number | undefined, slot: number, rand: RandomSource): ShownItem {
    const arms = available.map((s) => this.arm(slot, s));
    // the uniform floor: with probability `uniformShare` the slot's source is drawn uniformly
    // (no random number is drawn when it is 0, so slates without a floor stay as they were)
    const floor = Math.min(1, Math.max(0, this.config.uniformShare ?? 0));
    const uniform = floor > 0 && rand() < floor;
    const chosen = uniform
      ? available[Math.min(available.length - 1, Math.floor(rand() * available.length))]
      : available[arms.indexOf(this.beta.choose(arms, rand) as string)];
    // propensities: how often each source wins the Thompson draw, mixed with the uniform floor
    const shares = winShares(() => this.beta.sample(arms, rand), available.length, this.config.draws);
    const sourcePropensities: Partial<Record<Source, number>> = {};
    available.forEach((s, a) => (sourcePropensities[s] = (1 - floor) * shares[a] + floor / available.length));
    // the chosen source's item can also be the best remaining item of other sources
    const item = next(chosen) as number;
    const propensity = available.reduce((p, s) => (next(s) === item ? p + (sourcePropensities[s] ?? 0) : p), 0);
    return { item, slot, source: chosen, propensity: Math.max(propensity, 1 / this.config.draws), sourcePropensities };
  }

  private pickContextual(lists: SourceLists, used: Set<number>, slot: number, rand: RandomSource, features: FeatureFn): ShownItem | null {
    // candidates: the best 5 remaining items of each source
    const cands: { item: number; source: Source; x: number[] }[] = [];
    const seen = new Set<number>();
    for (const source of SOURCES) {
      let taken = 0;
      lists[source].forEach((item, rank) => {
        if (taken >= 5 || used.has(item) || seen.has(item)) return;
        seen.add(item);
        taken++;
        cands.push({ item, source, x: features(item, source, rank) });
      });
    }
    if (!cands.length) return null;
    const contexts = cands.map((c) => c.x);
    // the conservative switch: too little evidence behind the candidate the model favours -> the prior chooses
    const favoured = contexts[argmax(this.linear.means(contexts))];
    if (this.linear.evidence(favoured) < (this.config.minEvidence ?? DEFAULT_EXPLORATION.minEvidence ?? 0)) {
      const next = (source: Source): number | undefined => lists[source].find((i) => !used.has(i));
      const available = SOURCES.filter((s) => next(s) !== undefined);
      if (!available.length) return null;
      const pick = this.pickThompson(available, next, slot, rand);
      const rank = lists[pick.source].indexOf(pick.item);
      return { ...pick, features: features(pick.item, pick.source, rank), byPrior: true };
    }
    const shares = winShares(() => this.linear.scores(contexts, rand), cands.length, this.config.draws);
    const chosen = argmax(this.linear.scores(contexts, rand));
    const sourcePropensities: Partial<Record<Source, number>> = {};
    cands.forEach((c, i) => (sourcePropensities[c.source] = (sourcePropensities[c.source] ?? 0) + shares[i]));
    const pick = cands[chosen];
    return {
      item: pick.item,
      slot,
      source: pick.source,
      propensity: Math.max(shares[chosen], 1 / this.config.draws),
      sourcePropensities,
      features: pick.x,
    };
  }

  /** Feedback for a shown item: 1 click/like, 0 impression without a click, negative a dismiss (strong failure). */
  feedback(shown: ShownItem, reward: number): void {
    if (shown.features) {
      this.linear.update(shown.features, reward < 0 ? -1 : reward);
      if (!shown.byPrior) return;
    }
    const sources = Object.keys(shown.sourcePropensities);
    if (sources.length === 1 && sources[0] === 'ranked' && shown.propensity === 1) return; // a fixed slot: nothing was chosen
    this.beta.update(this.arm(shown.slot, shown.source), reward < 0 ? -3 : reward);
  }

  /** Posterior mean per source for a slot (for explanations and tests). */
  sourceMeans(slot: number): Record<Source, number> {
    const out = {} as Record<Source, number>;
    for (const s of SOURCES) out[s] = this.beta.mean(this.arm(slot, s));
    return out;
  }

  toJSON(): MixerState {
    return { version: 1, beta: this.beta.toJSON(), linear: this.linear.toJSON() };
  }
}

/**
 * The candidate sources for a slate, from one ranking pass: `ranked` (the final
 * slate order), the best by content, by the global model (item-to-item plus
 * next-item), by popularity (catalog order without a global model), and
 * "something new": a shuffled sample of items ranked just below the fold
 * (positions 2k..3k+60). Items with a -Infinity score (excluded) never appear.
 */
export function sourceLists(
  components: ScoreComponents,
  scores: Float32Array,
  prior: Float32Array,
  ranked: readonly number[],
  k: number,
  rand: RandomSource,
): SourceLists {
  const allowed = (i: number): boolean => scores[i] > -Infinity;
  const best = (values: Float32Array | null, n: number): number[] =>
    values
      ? topK(
          Float32Array.from(values, (v, i) => (allowed(i) ? v : -Infinity)),
          n,
        ).filter(allowed)
      : [];
  const { neighbour, next } = components;
  const globalValues = neighbour && next ? Float32Array.from(neighbour, (v, i) => v + next[i]) : null;
  const deep = topK(scores, 3 * k + 60)
    .filter(allowed)
    .slice(2 * k);
  for (let i = deep.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [deep[i], deep[j]] = [deep[j], deep[i]];
  }
  return {
    ranked,
    content: best(components.content, 2 * k),
    global: globalValues ? best(globalValues, 2 * k).filter((i) => globalValues[i] > 0) : [],
    trending: best(components.popularity ?? prior, 2 * k),
    explore: deep,
  };
}

/** Context of a candidate for the contextual policy: bias, the ranking's components, the source (one-hot). */
export function contextFeatures(components: ScoreComponents, prior: Float32Array): FeatureFn {
  return (i, source) => [
    1,
    components.content[i],
    components.neighbour?.[i] ?? 0,
    components.next?.[i] ?? 0,
    components.popularity?.[i] ?? prior[i],
    ...SOURCES.map((s) => (s === source ? 1 : 0)),
  ];
}

/**
 * The slate actually shown: the ranking's slate with its open slots filled by the
 * mixer's bandit from the candidate sources of that ranking pass. The engine and
 * the exploration replay both compose through here.
 */
export function composeSlate(
  mixer: SlateMixer,
  ranking: { components: ScoreComponents; scores: Float32Array; slate: readonly number[] },
  prior: Float32Array,
  k: number,
  rand: RandomSource,
): ShownItem[] {
  const lists = sourceLists(ranking.components, ranking.scores, prior, ranking.slate, k, rand);
  return mixer.compose(lists, Math.min(k, ranking.slate.length), rand, contextFeatures(ranking.components, prior));
}
