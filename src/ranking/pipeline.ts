/**
 * The one ranking pipeline. The worker's engine, the offline evaluation
 * (`npm run eval`), the exploration replay and the heads' training all rank
 * through these functions, so a figure they print is a figure of the product.
 *
 * for-you:  score components -> linear score (RankingConfig weights) -> rules
 *           -> ranking heads on the best candidates (task weights) -> rules
 *           -> business rules (boost, bury, freshness, category cap) -> MMR -> pins
 * similar:  content similarity to the item and the global model's co-visitation /
 *           co-purchase neighbours (SimilarKind) + personal content score -> rules
 *           -> business rules -> MMR -> pins
 * search:   semantic + lexical match of the query + personal content score -> rules
 *           -> business rules -> MMR -> pins
 *
 * For-you's slate is then composed with exploration by the engine (pins stay put,
 * src/engine/ruled-slate.ts).
 *
 * Every function works on a CatalogIndex: the whole catalog, or for large
 * catalogs the sub-index of retrieved candidates (src/candidates/retrieval.ts),
 * where each candidate gets exactly its full-catalog score.
 */
import type { RecommendOptions, SimilarKind } from '../types';
import type { EventType } from '../vocabulary';
import { applyExclusions, exclusionMask } from '../catalog/rules';
import { applyScoreRules, insertPins, pinnedItems } from '../catalog/business-rules';
import { rowOf, similarities } from '../math/matrix';
import type { CatalogIndex } from '../vectors/catalog-index';
import type { Profile } from '../profile/profile';
import { neighboursOf, type GlobalContext } from '../global/global-model';
import { DEFAULT_TASK_WEIGHTS, rerankWithHeads, type RankingHeads, type TaskWeights } from './heads';
import { mmrSelect } from './mmr';
import { linearScore, personalScores, scoreComponents, type RankingConfig, type ScoreComponents, type SequenceComponents } from './score';
import { span, spanAsync } from '../runtime/spans';

/** What every ranking starts from. */
export interface RankingInputs {
  catalog: CatalogIndex;
  global: GlobalContext | null;
  profile: Profile;
  config: RankingConfig;
  /** The behaviour model's components for this visitor, per item of `catalog` (null or absent: none). */
  sequence?: SequenceComponents | null;
}

export interface ForYouRequest {
  k: number;
  /** Filters and excluded ids of the call (the catalog's rule set). */
  rules?: RecommendOptions;
  /** Multi-task heads (null: rank by the linear score). */
  heads?: RankingHeads | null;
  taskWeights?: TaskWeights;
  /** Epoch milliseconds, for the freshness rule (default Date.now()). */
  now?: number;
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
  /** Pinned items (indices) and their slots; they are in `slate`, and out of `scores`. */
  pins: { item: number; slot: number }[];
}

/** Business rules on final scores, then MMR for the unpinned slots, then the pins: the slate of k. */
function ruledSlate(
  scores: Float32Array,
  catalog: CatalogIndex,
  rules: RecommendOptions,
  mask: () => Uint8Array,
  k: number,
  lambda: number,
  now: number,
): { slate: number[]; pins: { item: number; slot: number }[] } {
  const r = rules.rules;
  const pins = r?.pin?.length ? pinnedItems(r, catalog.indexOf, mask()) : [];
  if (r)
    applyScoreRules(
      scores,
      catalog.items,
      r,
      now,
      pins.map((p) => p.item),
    );
  const slate = mmrSelect(scores, catalog.matrix, Math.max(0, k - pins.length), lambda);
  return {
    pins,
    slate: insertPins(
      slate,
      pins.map((p) => ({ slot: p.slot, entry: p.item })),
      k,
    ),
  };
}

/** The first stage of "for you": the linear score of every item under the rules (the heads are trained on its best candidates). */
export function linearRanking(inputs: RankingInputs, rules: RecommendOptions = {}): { components: ScoreComponents; scores: Float32Array } {
  const { catalog, global, profile, config } = inputs;
  const components = scoreComponents(catalog, profile, global, config, inputs.sequence ?? null);
  const scores = linearScore(components, catalog, profile, config);
  applyExclusions(scores, catalog, rules, profile.seen, config.excludeSeen);
  return { components, scores };
}

/** "For you": the visitor's personal slate (popularity for a visitor without history). */
export async function rankForYou(inputs: RankingInputs, request: ForYouRequest): Promise<ForYouRanking> {
  const { catalog, profile, config } = inputs;
  const rules = request.rules ?? {};
  const linear = span('score', () => linearRanking(inputs, rules));
  const { components } = linear;
  let { scores } = linear;
  if (request.heads && profile.sequence.length > 0) {
    const pool = Math.max(config.headsPool.minPool, config.headsPool.perSlot * request.k);
    const heads = request.heads;
    scores = await spanAsync('heads', () =>
      rerankWithHeads(heads, catalog, profile, components, scores, pool, request.taskWeights ?? DEFAULT_TASK_WEIGHTS),
    );
    applyExclusions(scores, catalog, rules, profile.seen, config.excludeSeen);
  }
  const mask = (): Uint8Array => exclusionMask(catalog, rules, profile.seen, config.excludeSeen);
  const { slate, pins } = span('mmr', () => ruledSlate(scores, catalog, rules, mask, request.k, config.mmrLambda, request.now ?? Date.now()));
  return { components, scores, slate, pins };
}

export interface SimilarRequest {
  kind?: SimilarKind;
  /** Business rules and filters of the call. */
  rules?: RecommendOptions;
  now?: number;
}

/**
 * The item-to-item neighbours of `target` in the global model, per item of the index, scaled to [0, 1]:
 * co-visitation ("viewed together", EASE) or co-purchase ("bought together", when the logs had purchases).
 */
export function coVisitation(global: GlobalContext | null, catalog: CatalogIndex, target: number, kind: 'viewed' | 'bought'): Float32Array {
  const out = new Float32Array(catalog.items.length);
  const list = neighboursOf(global, catalog.items[target].id, kind);
  const max = list.reduce((m, n) => Math.max(m, n.weight), 0);
  for (const { item, weight } of list) if (item >= 0) out[item] = Math.max(out[item], weight / max);
  return out;
}

/**
 * The kind similar() actually ranks by: 'bought-together' falls back to 'viewed-together'
 * when the global model has no co-purchase list (the site's logs held no purchases).
 */
export function effectiveSimilarKind(global: GlobalContext | null, kind: SimilarKind = 'blend'): SimilarKind {
  return kind === 'bought-together' && !global?.model.bought ? 'viewed-together' : kind;
}

/**
 * The relevance of every item to `target` for a SimilarKind (after effectiveSimilarKind): content similarity, co-visitation,
 * co-purchase or their blend (weights in RankingConfig.similar). Behaviour-only kinds keep a small
 * content term so items the logs never paired still follow by likeness.
 */
export function similarScores(inputs: RankingInputs, target: number, requested: SimilarKind = 'blend'): Float32Array {
  const { catalog, global, config } = inputs;
  const kind = effectiveSimilarKind(global, requested);
  const w = config.similar;
  const [sims] = similarities(catalog.matrix, [rowOf(catalog.matrix, target)]);
  if (kind === 'content') return Float32Array.from(sims);
  const viewed = kind === 'bought-together' ? null : coVisitation(global, catalog, target, 'viewed');
  const bought = kind === 'viewed-together' ? null : coVisitation(global, catalog, target, 'bought');
  const contentWeight = kind === 'blend' ? 1 : w.fallbackContent;
  return Float32Array.from(sims, (s, i) => contentWeight * s + w.viewed * (viewed?.[i] ?? 0) + w.bought * (bought?.[i] ?? 0));
}

/** Items like `target` (an index of `inputs.catalog`), nudged toward the visitor's taste. */
export function rankSimilar(inputs: RankingInputs, target: number, k: number, request: SimilarRequest = {}): Ranking {
  const { catalog, profile, config } = inputs;
  const base = similarScores(inputs, target, request.kind);
  const personal = profile.interests.length ? personalScores(catalog, profile, config) : null;
  const scores = Float32Array.from(base, (s, i) => s + (personal ? config.similar.personal * personal[i] : 0));
  scores[target] = -Infinity;
  const rules: RecommendOptions = { rules: request.rules?.rules, filters: request.rules?.filters };
  applyExclusions(scores, catalog, rules, profile.seen, false);
  scores[target] = -Infinity;
  const mask = (): Uint8Array => exclusionMask(catalog, rules, profile.seen, false, [target]);
  return { scores, slate: ruledSlate(scores, catalog, rules, mask, k, config.similar.mmrLambda, request.now ?? Date.now()).slate };
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
export function rankSearch(inputs: RankingInputs, query: SearchQuery, k: number, request: SimilarRequest = {}): Ranking & { personal: boolean } {
  const { catalog, profile, config } = inputs;
  const w = config.search;
  const [semantic] = similarities(catalog.matrix, [query.vector]);
  const personal = profile.interests.length ? personalScores(catalog, profile, config) : null;
  const scores = new Float32Array(catalog.items.length);
  for (let i = 0; i < scores.length; i++) {
    scores[i] = w.semantic * semantic[i] + w.lexical * query.lexical[i] + (personal ? w.personal * Math.max(0, personal[i]) : 0);
  }
  const rules: RecommendOptions = { rules: request.rules?.rules };
  const dismissed = dismissedItems(profile);
  applyExclusions(scores, catalog, rules, dismissed, false);
  const mask = (): Uint8Array => exclusionMask(catalog, rules, dismissed, false);
  const { slate } = ruledSlate(scores, catalog, rules, mask, k, w.mmrLambda, request.now ?? Date.now());
  return { scores, slate, personal: personal !== null };
}
