/**
 * Candidate scoring, business filters, MMR diversity and "why this"
 * explanations. Pure functions over the catalog matrix and the profile, shared
 * by the worker and the Node evaluation tools.
 */
import type { CatalogItem, EventType, Reason, RecommendOptions } from '../types';
import { dot, rowOf, similarities, type ItemMatrix } from '../math/matrix';
import { topK } from '../math/top-k';
import type { Profile } from '../profile/profile';
import { DEFAULT_SEQUENCE_CONFIG, globalScores, neighbourContributions, type GlobalModel, type SequenceConfig } from '../global/global-model';

export interface CatalogIndex {
  items: CatalogItem[];
  indexOf: Map<string, number>;
  matrix: ItemMatrix;
  /** Prior per item in [0, 1] (popularity); catalog order when nothing better is known. */
  prior: Float32Array;
}

export interface RankingConfig {
  /** Weight of the popularity prior next to personal similarity. */
  priorWeight: number;
  /** Weights of the score components when a global model is loaded. */
  weights: { content: number; neighbour: number; next: number; popularity: number; coldContent: number };
  /** Position decay of the history for the global model's scores. */
  sequence: SequenceConfig;
  /** How strongly items like dismissed ones are pushed down. */
  negativeWeight: number;
  /** MMR trade-off: 1 = relevance only, 0 = diversity only. */
  mmrLambda: number;
  /** Exclude everything the visitor already interacted with (not only purchases and dismissals). */
  excludeSeen: boolean;
}

export const DEFAULT_RANKING_CONFIG: RankingConfig = {
  priorWeight: 0.05,
  weights: { content: 0.3, neighbour: 1, next: 1, popularity: 0.05, coldContent: 1 },
  sequence: DEFAULT_SEQUENCE_CONFIG,
  negativeWeight: 0.6,
  mmrLambda: 0.85,
  excludeSeen: true,
};

/** Catalog-order prior: first item 1, last item close to 0. */
export function catalogOrderPrior(count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => 1 - i / Math.max(1, count));
}

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
export function applyNegative(scores: Float32Array, index: CatalogIndex, profile: Profile, config: RankingConfig = DEFAULT_RANKING_CONFIG): Float32Array {
  if (!profile.negative) return scores;
  const [neg] = similarities(index.matrix, [profile.negative]);
  for (let i = 0; i < scores.length; i++) scores[i] -= config.negativeWeight * Math.max(0, neg[i]);
  return scores;
}

/** Content-only personal score (no global model): interests minus likeness to dismissed items. */
export function personalScores(index: CatalogIndex, profile: Profile, config: RankingConfig = DEFAULT_RANKING_CONFIG): Float32Array {
  return applyNegative(contentScores(index, profile, config), index, profile, config);
}

/** A global model placed onto a catalog. */
export interface GlobalContext {
  model: GlobalModel;
  rowToCatalog: Int32Array;
  rowOf: Map<string, number>;
  /** Divide the global scores by these instead of their maxima over this index (a sub-index of candidates passes the whole catalog's). */
  scale?: { neighbour: number; next: number };
}

export interface ScoreComponents {
  content: Float32Array;
  neighbour: Float32Array | null;
  next: Float32Array | null;
  popularity: Float32Array | null;
  /** 1 for items the global model knows (has a row for); null without a global model. */
  known: Uint8Array | null;
}

/** Each score component separately (the ranking heads take them as features). */
export function scoreComponents(index: CatalogIndex, profile: Profile, global: GlobalContext | null, config: RankingConfig = DEFAULT_RANKING_CONFIG): ScoreComponents {
  const content = contentScores(index, profile, config);
  if (!global) return { content, neighbour: null, next: null, popularity: null, known: null };
  const g = globalScores(global.model, global.rowToCatalog, index.items.length, profile.sequence, global.rowOf, config.sequence);
  const known = new Uint8Array(index.items.length);
  for (const c of global.rowToCatalog) if (c >= 0) known[c] = 1;
  return { content, neighbour: scaleToMax(g.neighbour, global.scale?.neighbour), next: scaleToMax(g.next, global.scale?.next), popularity: g.popularity, known };
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
  if (!c.neighbour || !c.next || !c.popularity) return applyNegative(c.content.slice(), index, profile, config);
  const w = config.weights;
  const out = new Float32Array(index.items.length);
  const personal = profile.sequence.length > 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = personal ? w.content * c.content[i] + w.neighbour * c.neighbour[i] + w.next * c.next[i] + w.popularity * c.popularity[i] : c.popularity[i] + 0.01 * index.prior[i];
    // items the global model has never seen (new items: cold start) can only be ranked by their content
    if (personal && c.known && !c.known[i]) out[i] += w.coldContent * Math.max(0, c.content[i]);
  }
  return applyNegative(out, index, profile, config);
}

/** Marks excluded items with -Infinity in place: filters, explicit excludes, unavailable, and seen items per config. */
export function applyExclusions(
  scores: Float32Array,
  index: CatalogIndex,
  options: RecommendOptions,
  seen: Map<string, EventType>,
  excludeSeen: boolean,
): void {
  const f = options.filters ?? {};
  const categories = f.categories?.length ? new Set(f.categories) : null;
  const tags = f.tags?.length ? new Set(f.tags) : null;
  index.items.forEach((item, i) => {
    if (!f.includeUnavailable && item.available === false) scores[i] = -Infinity;
    else if (categories && (!item.category || !categories.has(item.category))) scores[i] = -Infinity;
    else if (tags && !(item.tags ?? []).some((t) => tags.has(t))) scores[i] = -Infinity;
    else if (f.minPrice !== undefined && !(item.price !== undefined && item.price >= f.minPrice)) scores[i] = -Infinity;
    else if (f.maxPrice !== undefined && !(item.price !== undefined && item.price <= f.maxPrice)) scores[i] = -Infinity;
  });
  for (const id of options.exclude ?? []) {
    const i = index.indexOf.get(id);
    if (i !== undefined) scores[i] = -Infinity;
  }
  for (const [id, type] of seen) {
    if (excludeSeen || type === 'purchase' || type === 'dismiss') {
      const i = index.indexOf.get(id);
      if (i !== undefined) scores[i] = -Infinity;
    }
  }
}

/**
 * Maximal marginal relevance over the best candidates: each pick maximises
 * lambda * score - (1 - lambda) * (highest similarity to an item already picked).
 * Deterministic (ties by index).
 */
export function mmrSelect(scores: Float32Array, matrix: ItemMatrix, k: number, lambda: number, pool = Math.max(50, 5 * k)): number[] {
  const candidates = topK(scores, pool);
  if (lambda >= 1 || candidates.length <= 1) return candidates.slice(0, k);
  // relevance rescaled to [0, 1] over the pool, so lambda means the same whatever the scorer's scale
  const top = scores[candidates[0]];
  const bottom = scores[candidates[candidates.length - 1]];
  const span = top - bottom > 0 ? top - bottom : 1;
  const relevance = candidates.map((c) => (scores[c] - bottom) / span);
  const picked: number[] = [];
  const maxSim = new Float32Array(candidates.length).fill(-Infinity);
  const used = new Uint8Array(candidates.length);
  while (picked.length < k && picked.length < candidates.length) {
    let best = -1;
    let bestValue = -Infinity;
    for (let c = 0; c < candidates.length; c++) {
      if (used[c]) continue;
      const penalty = picked.length === 0 ? 0 : Math.max(0, maxSim[c]);
      const value = lambda * relevance[c] - (1 - lambda) * penalty;
      if (value > bestValue) {
        bestValue = value;
        best = c;
      }
    }
    used[best] = 1;
    const chosen = candidates[best];
    picked.push(chosen);
    const v = rowOf(matrix, chosen);
    for (let c = 0; c < candidates.length; c++) {
      if (!used[c]) maxSim[c] = Math.max(maxSim[c], dot(rowOf(matrix, candidates[c]), v, matrix.dims));
    }
  }
  return picked;
}

/** Intra-list diversity: mean pairwise (1 - cosine) of a slate. */
export function intraListDiversity(slate: number[], matrix: ItemMatrix): number {
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < slate.length; a++) {
    for (let b = a + 1; b < slate.length; b++) {
      sum += 1 - dot(rowOf(matrix, slate[a]), rowOf(matrix, slate[b]), matrix.dims);
      pairs++;
    }
  }
  return pairs ? sum / pairs : 0;
}

const PAST_TENSE: Record<EventType, string> = {
  view: 'viewed',
  dwell: 'spent time on',
  click: 'clicked',
  like: 'liked',
  add_to_cart: 'added to your cart',
  purchase: 'bought',
  dismiss: 'dismissed',
  search: 'searched for',
};

/** The history items that make `itemIndex` a good match, most important first, with their share. */
export function historyContributions(itemIndex: number, index: CatalogIndex, profile: Profile, limit = 3): { itemId: string; weight: number; type: EventType }[] {
  const v = rowOf(index.matrix, itemIndex);
  const parts: { itemId: string; weight: number; type: EventType }[] = [];
  for (const h of profile.history) {
    if (h.weight <= 0) continue;
    const j = index.indexOf.get(h.itemId);
    if (j === undefined || j === itemIndex) continue;
    const sim = dot(v, rowOf(index.matrix, j), index.matrix.dims);
    if (sim > 0) parts.push({ itemId: h.itemId, weight: h.weight * sim * sim, type: h.strongest });
  }
  const total = parts.reduce((s, p) => s + p.weight, 0);
  return parts
    .sort((a, b) => b.weight - a.weight || (a.itemId < b.itemId ? -1 : 1))
    .slice(0, limit)
    .map((p) => ({ ...p, weight: total > 0 ? p.weight / total : 0 }));
}

/**
 * "Because you viewed X and Y" for a personal recommendation: the history items
 * whose global-model neighbours include it, else those most similar in content;
 * "popular" when there is no history.
 */
export function explainRecommendation(itemIndex: number, index: CatalogIndex, profile: Profile, global: GlobalContext | null = null): Reason[] {
  let parts: { itemId: string; weight: number; type?: EventType }[] = [];
  if (global) {
    parts = neighbourContributions(global.model, global.rowOf, index.items[itemIndex].id, profile.sequence)
      .filter((p) => index.indexOf.has(p.itemId))
      .slice(0, 2);
  }
  if (parts.length === 0) parts = historyContributions(itemIndex, index, profile, 2);
  if (parts.length === 0) {
    return [{ kind: 'popular', text: profile.history.length ? 'Popular in this catalog' : 'Popular in this catalog: interact with items to personalise' }];
  }
  const titles = parts.map((p) => index.items[index.indexOf.get(p.itemId) as number].title);
  const strongest = profile.history.find((h) => h.itemId === parts[0].itemId)?.strongest ?? 'view';
  return [
    {
      kind: 'history',
      text: `Because you ${PAST_TENSE[strongest]} ${titles.join(' and ')}`,
      itemIds: parts.map((p) => p.itemId),
      weights: parts.map((p) => Math.round(p.weight * 1000) / 1000),
    },
  ];
}
