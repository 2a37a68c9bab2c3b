/**
 * The one ranking pipeline. The worker's engine, the offline evaluation
 * (`npm run eval`), the exploration replay and the heads' training all rank
 * through these functions, so a figure they print is a figure of the product.
 *
 * for-you:  score components -> linear score (RankingConfig weights) -> rules
 *           -> ranking heads on the best candidates (task weights) -> rules -> MMR
 * similar:  content similarity to the item + personal content score -> rules -> MMR
 * search:   semantic + lexical match of the query + personal content score -> rules -> MMR
 *
 * Every function works on a CatalogIndex: the whole catalog, or for large
 * catalogs the sub-index of retrieved candidates (src/candidates/retrieval.ts),
 * where each candidate gets exactly its full-catalog score.
 */
import type { RecommendOptions } from '../types';
import type { EventType } from '../vocabulary';
import { applyExclusions } from '../catalog/rules';
import { rowOf, similarities } from '../math/matrix';
import type { CatalogIndex } from '../vectors/catalog-index';
import type { Profile } from '../profile/profile';
import type { GlobalContext } from '../global/global-model';
import { DEFAULT_TASK_WEIGHTS, rerankWithHeads, type RankingHeads, type TaskWeights } from './heads';
import { mmrSelect } from './mmr';
import { linearScore, personalScores, scoreComponents, type RankingConfig, type ScoreComponents } from './score';

/** What every ranking starts from. */
export interface RankingInputs {
  catalog: CatalogIndex;
  global: GlobalContext | null;
  profile: Profile;
  config: RankingConfig;
}

export interface ForYouRequest {
  k: number;
  /** Filters and excluded ids of the call (the catalog's rule set). */
  rules?: RecommendOptions;
  /** Multi-task heads (null: rank by the linear score). */
  heads?: RankingHeads | null;
  taskWeights?: TaskWeights;
}

export interface Ranking {
  /** The slate, indices into the ranked catalog index, best first. */
  slate: number[];
  /** Final score per item of the index (-Infinity: left out). */
  scores: Float32Array;
}

export interface ForYouRanking extends Ranking {
  /** Each score component (exploration builds its candidate sources from them). */
  components: ScoreComponents;
}

/** The first stage of "for you": the linear score of every item under the rules (the heads are trained on its best candidates). */
export function linearRanking(inputs: RankingInputs, rules: RecommendOptions = {}): { components: ScoreComponents; scores: Float32Array } {
  const { catalog, global, profile, config } = inputs;
  const components = scoreComponents(catalog, profile, global, config);
  const scores = linearScore(components, catalog, profile, config);
  applyExclusions(scores, catalog, rules, profile.seen, config.excludeSeen);
  return { components, scores };
}

/** "For you": the visitor's personal slate (popularity for a visitor without history). */
export async function rankForYou(inputs: RankingInputs, request: ForYouRequest): Promise<ForYouRanking> {
  const { catalog, profile, config } = inputs;
  const rules = request.rules ?? {};
  const linear = linearRanking(inputs, rules);
  const { components } = linear;
  let { scores } = linear;
  if (request.heads && profile.sequence.length > 0) {
    const pool = Math.max(config.headsPool.minPool, config.headsPool.perSlot * request.k);
    scores = await rerankWithHeads(request.heads, catalog, profile, components, scores, pool, request.taskWeights ?? DEFAULT_TASK_WEIGHTS);
    applyExclusions(scores, catalog, rules, profile.seen, config.excludeSeen);
  }
  return { components, scores, slate: mmrSelect(scores, catalog.matrix, request.k, config.mmrLambda) };
}

/** Items like `target` (an index of `inputs.catalog`), nudged toward the visitor's taste. */
export function rankSimilar(inputs: RankingInputs, target: number, k: number): Ranking {
  const { catalog, profile, config } = inputs;
  const [sims] = similarities(catalog.matrix, [rowOf(catalog.matrix, target)]);
  const personal = profile.interests.length ? personalScores(catalog, profile, config) : null;
  const scores = Float32Array.from(sims, (s, i) => s + (personal ? config.similar.personal * personal[i] : 0));
  scores[target] = -Infinity;
  applyExclusions(scores, catalog, {}, profile.seen, false);
  return { scores, slate: mmrSelect(scores, catalog.matrix, k, config.similar.mmrLambda) };
}

export interface SearchQuery {
  /** The query's unit vector from the encoder. */
  vector: Float32Array;
  /** Lexical match of the query per item of the index, in [0, 1]. */
  lexical: Float32Array;
}

/** The visitor's dismissed items: the only history search() leaves out. */
export function dismissedItems(profile: Profile): Map<string, EventType> {
  return new Map([...profile.seen].filter(([, t]) => t === 'dismiss'));
}

/** Search results: semantic and lexical match, lifted by the visitor's taste. `personal` says whether the taste counted. */
export function rankSearch(inputs: RankingInputs, query: SearchQuery, k: number): Ranking & { personal: boolean } {
  const { catalog, profile, config } = inputs;
  const w = config.search;
  const [semantic] = similarities(catalog.matrix, [query.vector]);
  const personal = profile.interests.length ? personalScores(catalog, profile, config) : null;
  const scores = new Float32Array(catalog.items.length);
  for (let i = 0; i < scores.length; i++) {
    scores[i] = w.semantic * semantic[i] + w.lexical * query.lexical[i] + (personal ? w.personal * Math.max(0, personal[i]) : 0);
  }
  applyExclusions(scores, catalog, {}, dismissedItems(profile), false);
  return { scores, slate: mmrSelect(scores, catalog.matrix, k, w.mmrLambda), personal: personal !== null };
}
