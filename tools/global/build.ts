/**
 * Builds the site's global model from aggregate interaction logs: EASE
 * item-to-item weights (Steck 2019) over the items with enough interactions,
 * next-item transitions from each user's time-ordered sequence, and
 * time-decayed popularity, and, when the logs hold purchases, co-purchase
 * neighbours ("bought together": items the same user bought within one session,
 * sessions split by a gap of 30 minutes without any event). Deterministic for a
 * given input.
 */
import type { GlobalModel } from '../../src/global/global-model';
import { invertSpd } from '../../src/math/linalg';

export interface LoggedInteraction {
  user: string;
  item: string;
  timestamp: number;
  /** The event type (src/vocabulary.ts); 'purchase' feeds the co-purchase list. Absent: a view. */
  type?: string;
}

export interface GlobalBuildOptions {
  /** EASE covers items with at least this many interactions ... */
  minCount: number;
  /** ... and at most this many of them (most frequent first). */
  maxItems: number;
  /** EASE L2 regularisation. */
  lambda: number;
  /** Neighbours kept per item. */
  k: number;
  /** Next-item transitions kept per item. */
  kt: number;
  /** Positions ahead that count as "next". */
  window: number;
  /** Popularity half-life in days. */
  popularityHalfLifeDays: number;
  /** Co-purchase: a gap this long without any event of the user ends a session (seconds; default 30 minutes). */
  sessionGapSeconds?: number;
  /** Co-purchase neighbours kept per item (default 50). */
  boughtK?: number;
  log?: (msg: string) => void;
}

export const DEFAULT_GLOBAL_OPTIONS: GlobalBuildOptions = {
  minCount: 3,
  maxItems: 4000,
  lambda: 200,
  k: 100,
  kt: 30,
  window: 3,
  popularityHalfLifeDays: 365,
};

const compareIds = (a: string, b: string): number => {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
};

/** Groups interactions per user in time order (ties by item id, numerically when numeric). */
export function userSequences(interactions: readonly LoggedInteraction[]): Map<string, LoggedInteraction[]> {
  const byUser = new Map<string, LoggedInteraction[]>();
  for (const x of interactions) {
    const list = byUser.get(x.user);
    if (list) list.push(x);
    else byUser.set(x.user, [x]);
  }
  for (const list of byUser.values()) list.sort((a, b) => a.timestamp - b.timestamp || compareIds(a.item, b.item));
  return byUser;
}

function topEntries(values: Map<number, number> | Float64Array, k: number, skip = -1): [number, number][] {
  const entries: [number, number][] = [];
  if (values instanceof Map) {
    for (const [j, v] of values) if (j !== skip && v > 0) entries.push([j, v]);
  } else {
    for (let j = 0; j < values.length; j++) if (j !== skip && values[j] > 0) entries.push([j, values[j]]);
  }
  entries.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return entries.slice(0, k);
}

/** The co-purchase list's defaults (outside DEFAULT_GLOBAL_OPTIONS, so models built before it keep their cache keys). */
export const DEFAULT_SESSION_GAP_SECONDS = 30 * 60;
export const DEFAULT_BOUGHT_K = 50;

/**
 * Co-purchase neighbours per row: for each pair of distinct items one user purchased in the
 * same session, one count per session (symmetric), the strongest `k` per item. Null when no
 * session holds two different purchases (the model then has no bought-together field).
 */
export function coPurchases(
  sequences: Iterable<readonly LoggedInteraction[]>,
  rowOf: ReadonlyMap<string, number>,
  rows: number,
  k: number,
  gap: number,
): GlobalModel['bought'] | null {
  const pairs = new Map<number, Map<number, number>>();
  const add = (a: number, b: number): void => {
    let m = pairs.get(a);
    if (!m) pairs.set(a, (m = new Map()));
    m.set(b, (m.get(b) ?? 0) + 1);
  };
  for (const seq of sequences) {
    let basket = new Set<number>();
    const close = (): void => {
      const items = [...basket];
      for (const a of items) for (const b of items) if (a !== b) add(a, b);
      basket = new Set();
    };
    for (let p = 0; p < seq.length; p++) {
      if (p > 0 && seq[p].timestamp - seq[p - 1].timestamp > gap) close();
      if (seq[p].type === 'purchase') basket.add(rowOf.get(seq[p].item) as number);
    }
    close();
  }
  if (pairs.size === 0) return null;
  const neighbours = new Uint32Array(rows * k);
  const weights = new Float32Array(rows * k);
  for (const [from, m] of pairs) {
    topEntries(m, k).forEach(([to, w], t) => {
      neighbours[from * k + t] = to;
      weights[from * k + t] = w;
    });
  }
  return { k, neighbours, weights };
}

export function buildGlobalModel(interactions: readonly LoggedInteraction[], opts: Partial<GlobalBuildOptions> = {}): GlobalModel {
  const o = { ...DEFAULT_GLOBAL_OPTIONS, ...opts };
  const log = o.log ?? (() => undefined);
  // a canonical order (users sorted, each in time order) makes the output independent of input order
  const byUser = userSequences(interactions);
  const sequences = new Map([...byUser.keys()].sort(compareIds).map((u) => [u, byUser.get(u) as LoggedInteraction[]] as const));
  const ordered = [...sequences.values()].flat();

  // rows: every item seen, most frequent first (ties by id) so the output is deterministic
  const counts = new Map<string, number>();
  let tMax = -Infinity;
  for (const x of ordered) {
    counts.set(x.item, (counts.get(x.item) ?? 0) + 1);
    tMax = Math.max(tMax, x.timestamp);
  }
  const itemIds = [...counts.keys()].sort((a, b) => (counts.get(b) as number) - (counts.get(a) as number) || compareIds(a, b));
  const rowOf = new Map(itemIds.map((id, r) => [id, r] as const));
  const rows = itemIds.length;

  // popularity, time-decayed (timestamps in seconds or ms: detect by magnitude)
  const perDay = tMax > 1e11 ? 86_400_000 : 86_400;
  const popularity = new Float32Array(rows);
  for (const x of ordered) popularity[rowOf.get(x.item) as number] += Math.pow(0.5, (tMax - x.timestamp) / (o.popularityHalfLifeDays * perDay));
  const maxPop = Math.max(1e-12, ...popularity);
  for (let r = 0; r < rows; r++) popularity[r] /= maxPop;

  // EASE over the frequent items
  const easeRows = itemIds.filter((id) => (counts.get(id) as number) >= o.minCount).slice(0, o.maxItems);
  const n = easeRows.length;
  const easeIndex = new Map(easeRows.map((id, i) => [id, i] as const));
  log(`EASE over ${n} items (>= ${o.minCount} interactions), lambda ${o.lambda}`);
  const g = new Float64Array(n * n);
  for (const seq of sequences.values()) {
    const idx = [...new Set(seq.map((x) => easeIndex.get(x.item)).filter((i): i is number => i !== undefined))];
    for (const i of idx) for (const j of idx) g[i * n + j] += 1;
  }
  for (let i = 0; i < n; i++) g[i * n + i] += o.lambda;
  const t0 = Date.now();
  invertSpd(g, n);
  log(`inverted ${n}x${n} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const neighbours = new Uint32Array(rows * o.k);
  const weights = new Float32Array(rows * o.k);
  const column = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // B[i][j] = -P[i][j] / P[j][j]  (row i: how much item i predicts item j)
    for (let j = 0; j < n; j++) column[j] = j === i ? 0 : -g[i * n + j] / g[j * n + j];
    const r = rowOf.get(easeRows[i]) as number;
    topEntries(column, o.k, i).forEach(([j, w], t) => {
      neighbours[r * o.k + t] = rowOf.get(easeRows[j]) as number;
      weights[r * o.k + t] = w;
    });
  }

  // next-item transitions
  const trans = new Map<number, Map<number, number>>();
  for (const seq of sequences.values()) {
    for (let p = 0; p < seq.length; p++) {
      const from = rowOf.get(seq[p].item) as number;
      let m = trans.get(from);
      if (!m) trans.set(from, (m = new Map()));
      for (let d = 1; d <= o.window && p + d < seq.length; d++) {
        const to = rowOf.get(seq[p + d].item) as number;
        if (to !== from) m.set(to, (m.get(to) ?? 0) + 1 / d);
      }
    }
  }
  const next = new Uint32Array(rows * o.kt);
  const nextWeights = new Float32Array(rows * o.kt);
  for (const [from, m] of trans) {
    let total = 0;
    for (const v of m.values()) total += v;
    topEntries(m, o.kt).forEach(([to, w], t) => {
      next[from * o.kt + t] = to;
      nextWeights[from * o.kt + t] = w / total;
    });
  }
  // co-purchases ("bought together"), only when the logs hold purchases in a shared session
  const gap = (o.sessionGapSeconds ?? DEFAULT_SESSION_GAP_SECONDS) * (perDay === 86_400 ? 1 : 1000);
  const bought = coPurchases(sequences.values(), rowOf, rows, o.boughtK ?? DEFAULT_BOUGHT_K, gap);
  if (bought) log(`co-purchase neighbours for ${itemIds.filter((_, r) => bought.weights[r * bought.k] > 0).length} items`);
  return { itemIds, rows, k: o.k, neighbours, weights, kt: o.kt, next, nextWeights, popularity, ...(bought ? { bought } : {}) };
}
