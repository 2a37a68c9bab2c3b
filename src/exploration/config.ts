/**
 * The exploration settings and their defaults, apart from the policies so that
 * the page (which resolves options) does not bundle the bandits.
 */
import type { Source } from '../vocabulary';

export type ExplorationPolicy = 'off' | 'thompson' | 'contextual';

/**
 * Population prior of each source: how often its next item was the visitor's next
 * interaction in an open slot, measured by `npm run eval -- replay <movielens> --tune-prior`
 * on tuning users (disjoint from the reported ones), as Beta pseudo-counts of strength
 * `priorStrength`. Each visitor's bandit starts there and moves with their own feedback.
 */
export const POPULATION_SOURCE_RATES: Record<Source, number> = { ranked: 0.0073, content: 0.002, global: 0.0082, trending: 0.0012, explore: 0.0014 };

export interface ExplorationConfig {
  policy: ExplorationPolicy;
  /**
   * 'population': POPULATION_SOURCE_RATES as the prior; rates per source: those rates with these replaced
   * (the default: 'explore' raised to 0.006); 'uniform': Beta(1, 1) for every source.
   */
  prior?: 'population' | 'uniform' | Partial<Record<Source, number>>;
  /** Pseudo-count strength of the population prior (higher: trust it longer). Default 1000. */
  priorStrength?: number;
  /** Share of the slate's slots open to exploration, 0..1 (0 = pure exploitation). */
  rate: number;
  /** Forgetting factor per update in (0, 1]: lower follows changing taste faster. */
  decay: number;
  /** Monte-Carlo draws for propensities. */
  draws: number;
  /**
   * 'contextual' only: the conservative switch's threshold, in observations behind the
   * candidate the linear model favours (`LinearBandit.evidence`). Below it the slot is
   * chosen by the population prior's Thompson sampling. Default 100.
   */
  minEvidence?: number;
}

// The population prior with the 'explore' source (items ranked just below the fold) raised from its measured
// 0.0014 to 0.006, at strength 1000 and rate 0.2. Chosen on the replay's tuning users only (npm run eval -- replay
// <movielens> --tuning-users --only=11,12,13,14; 150 users, 4,265 steps, paired 95% intervals against exploration
// off): of the settings whose hit-rate difference interval reaches 0, it reaches the most of the catalog: hit rate
// -0.0011 [-0.0029, +0.0005], coverage +0.0240 [+0.0215, +0.0267]; 'explore' 0.005: -0.0005 [-0.0022, +0.0012] /
// +0.0161; 0.004: -0.0001 [-0.0016, +0.0014] / +0.0080; strength 300 at rate 0.1: 0.0000 [-0.0012, +0.0011] /
// +0.0047. A first screen on 75 of them (--users=75 --only=9,10,11,12,13) had dropped 'explore' 0.0025 and 0.003
// (coverage +0.0000 and +0.0020). The reported users never took part in the choice.
export const DEFAULT_EXPLORATION: ExplorationConfig = {
  policy: 'thompson',
  rate: 0.2,
  decay: 0.98,
  draws: 200,
  prior: { explore: 0.006 },
  priorStrength: 1000,
  minEvidence: 100,
};
