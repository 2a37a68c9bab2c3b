/**
 * The visitor's profile, built from their on-device history: a few interest
 * vectors (clusters of what they engaged with, weighted by event type, recency
 * and order) and a "not for me" vector from dismissals. Pure and deterministic.
 */
import type { StoredEvent } from '../types';
import { EVENTS, type EventType } from '../vocabulary';
import { dot, rowOf } from '../math/matrix';
import type { CatalogIndex } from '../vectors/catalog-index';

export interface ProfileConfig {
  /** Half-life of an event's weight, in days. */
  halfLifeDays: number;
  /** Each older position in the history multiplies weight by this (sequence decay). */
  orderDecay: number;
  /** Most recent events considered. */
  recentEvents: number;
  /** Maximum number of interest vectors. */
  maxInterests: number;
  /** Cosine above which an item joins an existing interest. */
  joinThreshold: number;
}

export const DEFAULT_PROFILE_CONFIG: ProfileConfig = {
  halfLifeDays: 14,
  orderDecay: 0.95,
  recentEvents: 200,
  maxInterests: 4,
  joinThreshold: 0.55,
};

export interface HistoryItem {
  itemId: string;
  /** Net weight (positive = interest). */
  weight: number;
  /** Strongest event type seen for it, for explanations. */
  strongest: EventType;
  lastSeen: number;
}

export interface Interest {
  /** Unit vector. */
  vector: Float32Array;
  /** Share of the positive weight, sums to 1 over interests. */
  share: number;
  /** History item ids in this interest, most important first. */
  itemIds: string[];
}

export interface Profile {
  interests: Interest[];
  /** Unit vector of dismissed items, or null. */
  negative: Float32Array | null;
  /** Per item: net weight, most important first. */
  history: HistoryItem[];
  /** Every item the visitor interacted with, by strongest event. */
  seen: Map<string, EventType>;
  /** Positively engaged items in the order of their last interaction (oldest first), with the strongest event's weight. */
  sequence: { itemId: string; weight: number }[];
}

/** The order of a visitor's history: by time, events of the same millisecond in the order they were stored. */
export const chronological = (a: Pick<StoredEvent, 'timestamp' | 'seq'>, b: Pick<StoredEvent, 'timestamp' | 'seq'>): number =>
  a.timestamp - b.timestamp || (a.seq ?? 0) - (b.seq ?? 0);

export function eventWeight(e: Pick<StoredEvent, 'type' | 'value'>): number {
  if (e.type === 'dwell') {
    const seconds = typeof e.value === 'number' && Number.isFinite(e.value) ? e.value : 0;
    return Math.min(3, seconds / 30);
  }
  return EVENTS[e.type]?.weight ?? 0;
}

/**
 * Builds the profile from events (any order; they are sorted by time here).
 * `vectorOf` returns an item's unit vector, or undefined if it is not in the catalog.
 */
export function buildProfile(
  events: readonly StoredEvent[],
  vectorOf: (itemId: string) => Float32Array | undefined,
  now: number,
  config: ProfileConfig = DEFAULT_PROFILE_CONFIG,
): Profile {
  const sorted = events
    .filter((e) => e.itemId !== undefined && e.type !== 'search')
    .slice()
    .sort(chronological);
  const recent = sorted.slice(-config.recentEvents);
  const byItem = new Map<string, HistoryItem>();
  const seen = new Map<string, EventType>();
  const msPerHalfLife = config.halfLifeDays * 86_400_000;
  for (let i = recent.length - 1, position = 0; i >= 0; i--, position++) {
    const e = recent[i];
    const id = e.itemId as string;
    const decay = Math.pow(0.5, Math.max(0, now - e.timestamp) / msPerHalfLife) * Math.pow(config.orderDecay, position);
    const w = eventWeight(e) * decay;
    const h = byItem.get(id) ?? { itemId: id, weight: 0, strongest: e.type, lastSeen: e.timestamp };
    h.weight += w;
    if (EVENTS[e.type].strength > EVENTS[h.strongest].strength) h.strongest = e.type;
    h.lastSeen = Math.max(h.lastSeen, e.timestamp);
    byItem.set(id, h);
  }
  for (const e of sorted) {
    const id = e.itemId as string;
    const prev = seen.get(id);
    if (prev === undefined || EVENTS[e.type].strength > EVENTS[prev].strength) seen.set(id, e.type);
  }
  // a dismissal outweighs earlier interest in the same item
  for (const h of byItem.values()) if (h.strongest === 'dismiss' && h.weight > 0) h.weight = -Math.abs(h.weight);

  const last = new Map<string, { weight: number; position: number }>();
  sorted.forEach((e, position) => {
    const w = eventWeight(e);
    const prev = last.get(e.itemId as string);
    last.set(e.itemId as string, { weight: Math.max(w, prev?.weight ?? -Infinity), position });
  });
  const sequence = [...last.entries()]
    .filter(([id, v]) => v.weight > 0 && seen.get(id) !== 'dismiss')
    .sort((a, b) => a[1].position - b[1].position)
    .map(([itemId, v]) => ({ itemId, weight: v.weight }));

  const history = [...byItem.values()].sort((a, b) => b.weight - a.weight || b.lastSeen - a.lastSeen || (a.itemId < b.itemId ? -1 : 1));
  const interests = clusterInterests(
    history.filter((h) => h.weight > 0),
    vectorOf,
    config,
  );
  const negative = weightedUnitSum(history.filter((h) => h.weight < 0).map((h) => ({ v: vectorOf(h.itemId), w: -h.weight })));
  return { interests, negative, history, seen, sequence };
}

function weightedUnitSum(parts: { v: Float32Array | undefined; w: number }[]): Float32Array | null {
  let out: Float32Array | null = null;
  for (const { v, w } of parts) {
    if (!v) continue;
    out ??= new Float32Array(v.length);
    for (let d = 0; d < v.length; d++) out[d] += v[d] * w;
  }
  return out && normalize(out) ? out : null;
}

/** Normalises in place; returns false for a zero vector. */
export function normalize(v: Float32Array): boolean {
  const n = Math.sqrt(dot(v, v));
  if (n === 0 || !Number.isFinite(n)) return false;
  for (let d = 0; d < v.length; d++) v[d] /= n;
  return true;
}

/** Greedy clustering of positive history items into at most maxInterests unit vectors. */
function clusterInterests(positive: HistoryItem[], vectorOf: (id: string) => Float32Array | undefined, config: ProfileConfig): Interest[] {
  interface Cluster {
    sum: Float32Array;
    unit: Float32Array;
    weight: number;
    itemIds: string[];
  }
  const clusters: Cluster[] = [];
  for (const h of positive) {
    const v = vectorOf(h.itemId);
    if (!v || dot(v, v) === 0) continue;
    let best = -1;
    let bestSim = -Infinity;
    clusters.forEach((c, i) => {
      const s = dot(c.unit, v);
      if (s > bestSim) {
        bestSim = s;
        best = i;
      }
    });
    if (best < 0 || (bestSim < config.joinThreshold && clusters.length < config.maxInterests)) {
      const sum = Float32Array.from(v, (x) => x * h.weight);
      const unit = sum.slice();
      normalize(unit);
      clusters.push({ sum, unit, weight: h.weight, itemIds: [h.itemId] });
    } else {
      const c = clusters[best];
      for (let d = 0; d < v.length; d++) c.sum[d] += v[d] * h.weight;
      c.unit = c.sum.slice();
      normalize(c.unit);
      c.weight += h.weight;
      c.itemIds.push(h.itemId);
    }
  }
  const total = clusters.reduce((s, c) => s + c.weight, 0);
  return clusters.map((c) => ({ vector: c.unit, share: total > 0 ? c.weight / total : 0, itemIds: c.itemIds })).sort((a, b) => b.share - a.share);
}

/** The profile of a visitor's history over a catalog's item vectors (items missing from it are left out), as of `now`. */
export function profileFromHistory(events: readonly StoredEvent[], catalog: CatalogIndex | null, now: number): Profile {
  return buildProfile(
    events,
    (id) => {
      const i = catalog?.indexOf.get(id);
      return i === undefined || !catalog ? undefined : rowOf(catalog.matrix, i);
    },
    now,
    DEFAULT_PROFILE_CONFIG,
  );
}
