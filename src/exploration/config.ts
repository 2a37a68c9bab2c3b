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
  /** 'population': POPULATION_SOURCE_RATES as the prior (default); 'uniform': Beta(1, 1) for every source. */
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

// priorStrength 1000: the best of 50 / 200 / 1000 on the replay's tuning users (npm run eval -- replay <movielens>
// --tuning-users: 766 / 764 / 774 hits against 770 with exploration off); the reported users never took part
export const DEFAULT_EXPLORATION: ExplorationConfig = {
  policy: 'thompson',
  rate: 0.2,
  decay: 0.98,
  draws: 200,
  prior: 'population',
  priorStrength: 1000,
  minEvidence: 100,
};
