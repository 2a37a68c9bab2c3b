/**
 * "Why this": the reasons that travel with every slot of a slate, and the
 * Recommendation objects the engine returns. Each reason names the history
 * items behind it where there are any.
 */
import type { ShownItem } from '../exploration/mixer';
import type { Reason, Recommendation, SimilarKind } from '../types';
import { EVENTS, type EventType, type Source } from '../vocabulary';
import { dot, rowOf } from '../math/matrix';
import type { CatalogIndex } from '../vectors/catalog-index';
import type { Profile } from '../profile/profile';
import { neighbourContributions, neighboursOf, type GlobalContext } from '../global/global-model';
import { effectiveSimilarKind } from '../ranking/pipeline';
import { linearScore, scoreComponents, type RankingConfig, type SequenceComponents } from '../ranking/score';
import type { AttributedSequence, SequenceCause } from '../ranking/sequence-model';
import { span } from '../runtime/spans';

/** The history items that make `itemIndex` a good match, most important first, with their share. */
export function historyContributions(
  itemIndex: number,
  index: CatalogIndex,
  profile: Profile,
  limit = 3,
): { itemId: string; weight: number; type: EventType }[] {
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

/** The behaviour model's part of a slot: its components, their weights, the slot's whole score, and the causes (leave-one-out). */
export interface ModelShare {
  sequence: SequenceComponents;
  weights: Pick<RankingConfig['weights'], 'sequence' | 'sequenceConversion'>;
  score: number;
  because: (i: number) => SequenceCause[];
}

/** Whether the behaviour model drove a slot: its weighted components make at least half of the slot's score. */
export function modelDrove(sequence: SequenceComponents, weights: ModelShare['weights'], itemIndex: number, score: number): boolean {
  const part = weights.sequence * sequence.next[itemIndex] + weights.sequenceConversion * sequence.conversion[itemIndex];
  return score > 0 && part >= 0.5 * score;
}

/**
 * The history items behind a slot the behaviour model drove (modelDrove): those whose removal lowers
 * the item's next-item score most (leave-one-out, sequence-model.ts), with their share of the positive
 * drops. Empty when the model did not drive it.
 */
export function modelContributions(
  itemIndex: number,
  index: CatalogIndex,
  share: ModelShare | null,
  limit = 2,
): { itemId: string; weight: number }[] {
  if (!share || !modelDrove(share.sequence, share.weights, itemIndex, share.score)) return [];
  const causes = share.because(itemIndex).filter((c) => index.indexOf.has(c.itemId) && c.itemId !== index.items[itemIndex].id);
  const total = causes.reduce((s, c) => s + c.drop, 0);
  return causes.slice(0, limit).map((c) => ({ itemId: c.itemId, weight: c.drop / total }));
}

/**
 * "Because you viewed X and Y" for a personal recommendation: the history items
 * that drove the behaviour model's score when the model drove the slot, else those
 * whose global-model neighbours include it, else those most similar in content;
 * "popular" when there is no history.
 */
export function explainRecommendation(
  itemIndex: number,
  index: CatalogIndex,
  profile: Profile,
  global: GlobalContext | null = null,
  model: ModelShare | null = null,
): Reason[] {
  let parts: { itemId: string; weight: number; type?: EventType }[] = modelContributions(itemIndex, index, model);
  if (parts.length === 0 && global) {
    parts = neighbourContributions(global.model, global.rowOf, index.items[itemIndex].id, profile.sequence)
      .filter((p) => index.indexOf.has(p.itemId))
      .slice(0, 2);
  }
  if (parts.length === 0) parts = historyContributions(itemIndex, index, profile, 2);
  if (parts.length === 0) {
    return [
      { kind: 'popular', text: profile.history.length ? 'Popular in this catalog' : 'Popular in this catalog: interact with items to personalise' },
    ];
  }
  const titles = parts.map((p) => index.items[index.indexOf.get(p.itemId) as number].title);
  const strongest = profile.history.find((h) => h.itemId === parts[0].itemId)?.strongest ?? 'view';
  return [
    {
      kind: 'history',
      text: `Because you ${EVENTS[strongest].pastTense} ${titles.join(' and ')}`,
      itemIds: parts.map((p) => p.itemId),
      weights: parts.map((p) => Math.round(p.weight * 1000) / 1000),
    },
  ];
}

/**
 * explain(id): the reasons for one catalog item, as a slot of it would get them. When the behaviour model
 * is loaded (`sequence` resolves with its components), the item's linear score decides whether the model
 * drove it, and its leave-one-out run names the causes.
 */
export async function explainItem(
  itemIndex: number,
  index: CatalogIndex & { global: GlobalContext | null },
  profile: Profile,
  config: RankingConfig,
  sequence: () => Promise<AttributedSequence | null>,
): Promise<Reason[]> {
  const s = await sequence();
  let model: ModelShare | null = null;
  if (s?.attribute) {
    const score = linearScore(scoreComponents(index, profile, index.global, config, s), index, profile, config)[itemIndex];
    if (modelDrove(s, config.weights, itemIndex, score)) model = { sequence: s, weights: config.weights, score, because: await s.attribute() };
  }
  return explainRecommendation(itemIndex, index, profile, index.global, model);
}

/** The reason of a slot the exploration bandit filled from a source that explains itself (null: explain it from the history). */
export function sourceReason(source: Source): Reason | null {
  if (source === 'explore') return { kind: 'explore', text: 'Something new for you: shown to learn what else you might like' };
  if (source === 'trending') return { kind: 'popular', text: 'Trending in this catalog' };
  return null;
}

/** Whether `item` is among `target`'s co-visitation ('viewed') or co-purchase ('bought') neighbours in the global model. */
function pairedBy(global: GlobalContext | null, index: CatalogIndex, target: number, item: number, kind: 'viewed' | 'bought'): boolean {
  return neighboursOf(global, index.items[target].id, kind).some((n) => n.item === item);
}

/**
 * similar()'s reason for `item`: "Often bought with X", "Often viewed with X" (the global model paired them) or "Similar to X".
 * A 'bought-together' call on a model without co-purchases ranked by co-visitation (effectiveSimilarKind) and says so.
 */
export function similarReason(
  inputs: { catalog: CatalogIndex; global: GlobalContext | null },
  target: number,
  item: number,
  kind: SimilarKind = 'blend',
): Reason {
  const { catalog, global } = inputs;
  const { title, id } = catalog.items[target];
  if (effectiveSimilarKind(global, kind) !== kind) {
    const viewed = pairedBy(global, catalog, target, item, 'viewed');
    return { kind: 'similar', text: `${viewed ? 'Often viewed with' : 'Similar to'} ${title} (no purchase data yet)`, itemIds: [id] };
  }
  if (kind !== 'content' && kind !== 'viewed-together' && pairedBy(global, catalog, target, item, 'bought'))
    return { kind: 'similar', text: `Often bought with ${title}`, itemIds: [id] };
  if (kind !== 'content' && kind !== 'bought-together' && pairedBy(global, catalog, target, item, 'viewed'))
    return { kind: 'similar', text: `Often viewed with ${title}`, itemIds: [id] };
  return { kind: 'similar', text: `Similar to ${title}`, itemIds: [id] };
}

/** "Matches <query>", and, when the visitor's history lifted the item, which history item did. */
export function searchReasons(query: string, itemIndex: number, index: CatalogIndex, profile: Profile, personal: boolean): Reason[] {
  const reasons: Reason[] = [{ kind: 'search', text: `Matches "${truncate(query, 60)}"` }];
  if (personal) {
    const parts = historyContributions(itemIndex, index, profile, 1);
    if (parts.length) {
      const t = index.items[index.indexOf.get(parts[0].itemId) as number].title;
      reasons.push({ kind: 'history', text: `Ranked up because you engaged with ${t}`, itemIds: [parts[0].itemId], weights: [parts[0].weight] });
    }
  }
  return reasons;
}

/** The Recommendation for catalog item `i` of `index` (scores rounded so they clone and print compactly). */
export function toRecommendation(index: CatalogIndex, i: number, score: number, reasons: Reason[]): Recommendation {
  const item = index.items[i];
  return { itemId: item.id, score: Math.round(score * 1e6) / 1e6, item, reasons };
}

export function truncate(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/**
 * The Recommendations of a composed slate: each slot's reasons (its source's own, or
 * the history items behind it), its score, source and propensity. `rows` maps a
 * sub-index of retrieved candidates back to the full catalog (null: `inputs.catalog` is it).
 * A slot the behaviour model drove names the history items behind it (leave-one-out).
 */
export async function shownRecommendations(
  slate: readonly ShownItem[],
  scores: Float32Array,
  inputs: { catalog: CatalogIndex; global: GlobalContext | null; profile: Profile; config?: RankingConfig; sequence?: AttributedSequence | null },
  full: CatalogIndex,
  rows: readonly number[] | null,
): Promise<Recommendation[]> {
  const { sequence, config } = inputs;
  // the model's leave-one-out run (one, batched) only for a slate with a slot the model drove
  const drove = config && slate.some((sh) => !sourceReason(sh.source) && sequence && modelDrove(sequence, config.weights, sh.item, scores[sh.item]));
  const because = drove && sequence?.attribute ? await sequence.attribute() : null;
  return span('reasons', () =>
    slate.map((sh) => {
      const own = sourceReason(sh.source);
      const model = sequence && config && because ? { sequence, weights: config.weights, score: scores[sh.item], because } : null;
      const reasons = own ? [own] : explainRecommendation(sh.item, inputs.catalog, inputs.profile, inputs.global, model);
      const rec = toRecommendation(full, rows ? rows[sh.item] : sh.item, scores[sh.item], reasons);
      return { ...rec, source: sh.source, propensity: Math.round(sh.propensity * 1e4) / 1e4 };
    }),
  );
}
