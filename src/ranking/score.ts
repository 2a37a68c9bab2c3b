/**
 * The relevance scores of the ranking, with every weight named in
 * RankingConfig: content similarity to the visitor's interests, the global
 * model's item-to-item and next-item scores over their ordered history,
 * popularity, content for items the global model has never seen, and the push
 * away from dismissed items. Pure functions over the catalog index and the
 * profile; the pipeline (pipeline.ts) combines them.
 */
import { similarities } from '../math/matrix';
import type { CatalogIndex } from '../vectors/catalog-index';
import type { Profile } from '../profile/profile';
import { DEFAULT_SEQUENCE_CONFIG, globalScores, type GlobalContext, type SequenceConfig } from '../global/global-model';

export interface RankingConfig {
  /** Weight of the popularity prior next to personal similarity. */
  priorWeight: number;
  /**
   * Weights of the score components when a global model is loaded; `sequence` and `sequenceConversion` weigh the
   * behaviour model's next-item share and conversion probability (sequence-model.ts) when one is loaded
   * (sequence 0.5: the best validation NDCG@10 of the engine's default ranking with the model at 0.25-2 in
   * npm run eval -- ranking data/movielens-latest-small --sequence, for the trainer's seeds 42 and 7: 0.0840 and 0.0864).
   */
  weights: {
    content: number;
    neighbour: number;
    next: number;
    popularity: number;
    coldContent: number;
    sequence: number;
    sequenceConversion: number;
    /**
     * Items the global model has never seen (new items), by the behaviour model's content path: their next-item
     * share relative to the best such item's (their rows are the model's projection of their text vector).
     */
    coldSequence: number;
  };
  /**
   * Temperature of the behaviour model's next-item share, exp((logit - best) / T): 1 is the model's own softmax,
   * which puts nearly all of its weight on a few items; above 1 it reaches further down the model's ranking.
   */
  sequenceTemperature: number;
  /** Position decay of the history for the global model's scores. */
  sequence: SequenceConfig;
  /** How strongly items like dismissed ones are pushed down. */
  negativeWeight: number;
  /** MMR trade-off: 1 = relevance only, 0 = diversity only. */
  mmrLambda: number;
  /** Exclude everything the visitor already interacted with (not only purchases and dismissals). */
  excludeSeen: boolean;
  /** Ranking heads re-rank the best max(minPool, perSlot * k) candidates of the linear score. */
  headsPool: { minPool: number; perSlot: number };
  /**
   * similar(): content similarity to the item, plus `viewed` times its co-visitation neighbours' weight and `bought`
   * times its co-purchase neighbours' (each scaled to [0, 1]; 'blend' uses both with content, 'viewed-together' and
   * 'bought-together' one of them with `fallbackContent` times content), plus `personal` times the visitor's content
   * score; MMR lambda of its slate.
   */
  similar: { personal: number; mmrLambda: number; viewed: number; bought: number; fallbackContent: number };
  /** search(): `semantic` (encoder) and `lexical` (terms) match of the query, plus `personal` times the visitor's positive content score; MMR lambda. */
  search: { semantic: number; lexical: number; personal: number; mmrLambda: number };
}

export const DEFAULT_RANKING_CONFIG: RankingConfig = {
  priorWeight: 0.05,
  weights: { content: 0.3, neighbour: 1, next: 1, popularity: 0.05, coldContent: 1, sequence: 0.5, sequenceConversion: 0, coldSequence: 0 },
  sequenceTemperature: 1,
  sequence: DEFAULT_SEQUENCE_CONFIG,
  negativeWeight: 0.6,
  mmrLambda: 0.85,
  excludeSeen: true,
  headsPool: { minPool: 200, perSlot: 5 },
  similar: { personal: 0.1, mmrLambda: 0.92, viewed: 1, bought: 1, fallbackContent: 0.05 },
  search: { semantic: 0.5, lexical: 0.5, personal: 0.15, mmrLambda: 0.95 },
};

/** Content score of every item: best match to an interest (weighted by its share); the prior when there is no interest yet. */
export function contentScores(index: CatalogIndex, profile: Profile, config: RankingConfig = DEFAULT_RANKING_CONFIG): Float32Array {
  const n = index.matrix.count;
  const scores = new Float32Array(n);
  if (profile.interests.length === 0) {
    scores.set(index.prior);
    return scores;
  }
  const queries = profile.interests.map((i) => i.vector);
  const sims = similarities(index.matrix, queries);
  const shares = profile.interests.map((i) => Math.sqrt(i.share));
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    for (let q = 0; q < queries.length; q++) best = Math.max(best, shares[q] * sims[q][i]);
    scores[i] = best + config.priorWeight * index.prior[i];
  }
  return scores;
}

/** Pushes down items like the dismissed ones, in place. */
export function applyNegative(
  scores: Float32Array,
  index: CatalogIndex,
  profile: Profile,
  config: RankingConfig = DEFAULT_RANKING_CONFIG,
): Float32Array {
  if (!profile.negative) return scores;
  const [neg] = similarities(index.matrix, [profile.negative]);
  for (let i = 0; i < scores.length; i++) scores[i] -= config.negativeWeight * Math.max(0, neg[i]);
  return scores;
}

/** Content-only personal score (no global model): interests minus likeness to dismissed items. */
export function personalScores(index: CatalogIndex, profile: Profile, config: RankingConfig = DEFAULT_RANKING_CONFIG): Float32Array {
  return applyNegative(contentScores(index, profile, config), index, profile, config);
}

export interface ScoreComponents {
  content: Float32Array;
  neighbour: Float32Array | null;
  next: Float32Array | null;
  popularity: Float32Array | null;
  /** 1 for items the global model knows (has a row for); null without a global model. */
  known: Uint8Array | null;
  /** The behaviour model's scores for the visitor's history (null: no model, or a cold visitor). */
  sequence?: SequenceComponents | null;
}

/** The behaviour model's components per item of the index: next-item share in (0, 1] and conversion probability. */
export interface SequenceComponents {
  next: Float32Array;
  conversion: Float32Array;
}

/** Each score component separately (the ranking heads take them as features). */
export function scoreComponents(
  index: CatalogIndex,
  profile: Profile,
  global: GlobalContext | null,
  config: RankingConfig = DEFAULT_RANKING_CONFIG,
  sequence: SequenceComponents | null = null,
): ScoreComponents {
  const content = contentScores(index, profile, config);
  if (!global) return { content, neighbour: null, next: null, popularity: null, known: null, sequence };
  const g = globalScores(global.model, global.rowToCatalog, index.items.length, profile.sequence, global.rowOf, config.sequence);
  const known = new Uint8Array(index.items.length);
  for (const c of global.rowToCatalog) if (c >= 0) known[c] = 1;
  return {
    content,
    neighbour: scaleToMax(g.neighbour, global.scale?.neighbour),
    next: scaleToMax(g.next, global.scale?.next),
    popularity: g.popularity,
    known,
    sequence,
  };
}

function scaleToMax(v: Float32Array, given?: number): Float32Array {
  let max = 0;
  if (given !== undefined) max = given;
  else for (let i = 0; i < v.length; i++) if (v[i] > max) max = v[i];
  if (max > 0) for (let i = 0; i < v.length; i++) v[i] /= max;
  return v;
}

/**
 * The engine's relevance score from precomputed components: content similarity to
 * the visitor's interests, plus, with a global model, recency-weighted item-to-item
 * and next-item scores over their ordered history, popularity, and content for items
 * the global model has never seen. Without history: popularity.
 */
export function linearScore(c: ScoreComponents, index: CatalogIndex, profile: Profile, config: RankingConfig = DEFAULT_RANKING_CONFIG): Float32Array {
  const w = config.weights;
  const personal = profile.sequence.length > 0;
  if (!c.neighbour || !c.next || !c.popularity)
    return applyNegative(personal ? withSequence(c.content.slice(), c.sequence, config) : c.content.slice(), index, profile, config);
  const out = new Float32Array(index.items.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = personal
      ? w.content * c.content[i] + w.neighbour * c.neighbour[i] + w.next * c.next[i] + w.popularity * c.popularity[i]
      : c.popularity[i] + 0.01 * index.prior[i];
    // items the global model has never seen (new items: cold start) can only be ranked by their content
    if (personal && c.known && !c.known[i]) out[i] += w.coldContent * Math.max(0, c.content[i]);
  }
  return applyNegative(personal ? withSequence(out, c.sequence, config, c.known) : out, index, profile, config);
}

/**
 * Adds the behaviour model's weighted components (a cold visitor has none: the ranking stays the cold one), and
 * for items the global model does not know (`known` 0) coldSequence times their share relative to the best of them.
 */
function withSequence(
  out: Float32Array,
  s: SequenceComponents | null | undefined,
  config: RankingConfig,
  known: Uint8Array | null = null,
): Float32Array {
  if (!s) return out;
  const { sequence, sequenceConversion, coldSequence } = config.weights;
  for (let i = 0; i < out.length; i++) out[i] += sequence * s.next[i] + sequenceConversion * s.conversion[i];
  if (coldSequence > 0 && known) {
    let best = 0;
    for (let i = 0; i < out.length; i++) if (!known[i] && s.next[i] > best) best = s.next[i];
    if (best > 0) for (let i = 0; i < out.length; i++) if (!known[i]) out[i] += (coldSequence * s.next[i]) / best;
  }
  return out;
}
