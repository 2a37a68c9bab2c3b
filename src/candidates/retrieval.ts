/**
 * Two-stage ranking for large catalogs. Stage 1 retrieves candidates: the best
 * content matches over the whole catalog from a CatalogScorer (WebGPU, WASM or
 * TypeScript, identical results), the items the global model scores for this
 * visitor, the most popular items and the visitor's own history. Stage 2 runs
 * the full ranking (scoreComponents, linearScore, heads, MMR, explanations) on a
 * small sub-index of those candidates: every candidate gets exactly the score it
 * would get from full scoring; only recall is bounded by the candidate count.
 */
import { quantizeQueries, type QuantizedItems, type QuantizedQueries } from './quantized-scoring';
import { GPU_MAX_K } from './webgpu-scoring';
import { globalScores, type GlobalContext, type SequenceConfig } from '../global/global-model';
import type { Profile } from '../profile/profile';
import type { CatalogIndex } from '../vectors/catalog-index';
import { topK } from '../math/top-k';

/** The ranking's weights of the global scores, which order the global model's candidates (RankingConfig fits). */
export interface GlobalWeights {
  weights: { neighbour: number; next: number };
  sequence: SequenceConfig;
}

export interface RetrievalConfig {
  /** Content matches retrieved from the scorer (the WebGPU kernel selects at most 32 on the GPU). */
  content: number;
  /** Items with the highest global-model score for this visitor. */
  global: number;
  /** Most popular items (catalog order without a global model). */
  popular: number;
}

export const DEFAULT_RETRIEVAL: RetrievalConfig = { content: GPU_MAX_K, global: 300, popular: 50 };

/** What a catalog keeps for retrieval (built once per catalog). */
export interface RetrievalIndex {
  quantized: QuantizedItems;
  /** Catalog indices by descending popularity (global model) or catalog order. */
  popularOrder: Int32Array;
}

export function buildRetrievalIndex(index: CatalogIndex, quantized: QuantizedItems, global: GlobalContext | null): RetrievalIndex {
  const n = index.items.length;
  let popularOrder: Int32Array;
  if (global) {
    const rows = [...global.rowToCatalog.keys()].filter((r) => global.rowToCatalog[r] >= 0);
    rows.sort((a, b) => global.model.popularity[b] - global.model.popularity[a] || a - b);
    popularOrder = Int32Array.from(rows.slice(0, 1000), (r) => global.rowToCatalog[r]);
  } else {
    popularOrder = Int32Array.from({ length: Math.min(n, 1000) }, (_, i) => i);
  }
  return { quantized, popularOrder };
}

/** A small index over some catalog rows, with the global model placed on it. */
export interface SubIndex {
  index: CatalogIndex;
  global: GlobalContext | null;
  /** Sub-index row -> catalog index. */
  rows: number[];
}

export function subIndex(full: CatalogIndex, global: GlobalContext | null, candidates: Candidates): SubIndex {
  const rows = candidates.rows;
  const dims = full.matrix.dims;
  const data = new Float32Array(rows.length * dims);
  rows.forEach((c, j) => data.set(full.matrix.data.subarray(c * dims, (c + 1) * dims), j * dims));
  const items = rows.map((c) => full.items[c]);
  const index: CatalogIndex = {
    items,
    indexOf: new Map(items.map((it, j) => [it.id, j] as const)),
    matrix: { count: rows.length, dims, data },
    prior: Float32Array.from(rows, (c) => full.prior[c]),
  };
  let sub: GlobalContext | null = null;
  if (global) {
    const position = new Map(rows.map((c, j) => [c, j] as const));
    sub = {
      model: global.model,
      rowOf: global.rowOf,
      rowToCatalog: Int32Array.from(global.rowToCatalog, (c) => (c >= 0 ? (position.get(c) ?? -1) : -1)),
      scale: candidates.globalScale,
    };
  }
  return { index, global: sub, rows };
}

export interface Candidates {
  /** Catalog indices. */
  rows: number[];
  /** The maxima of the global scores over the whole catalog (scoreComponents scales by them). */
  globalScale?: { neighbour: number; next: number };
}

/** The visitor's interests as scorer queries (weight sqrt(share), as contentScores). */
export function interestQueries(profile: Profile, paddedDims: number): QuantizedQueries {
  return quantizeQueries(
    profile.interests.map((i) => i.vector),
    profile.interests.map((i) => Math.sqrt(i.share)),
    paddedDims,
  );
}

/**
 * Stage 1: candidate catalog indices (deduplicated, in a deterministic order) for
 * this visitor: `content` (the scorer's best content matches), the global model's
 * best, the most popular, and the history items (explanations name them).
 */
export function retrieveCandidates(
  full: CatalogIndex,
  global: GlobalContext | null,
  r: RetrievalIndex,
  profile: Profile,
  mask: Uint8Array,
  content: readonly number[],
  config: GlobalWeights,
  retrieval: RetrievalConfig = DEFAULT_RETRIEVAL,
): Candidates {
  const out: number[] = [];
  let globalScale: Candidates['globalScale'];
  const taken = new Set<number>();
  const add = (c: number): void => {
    if (c >= 0 && !taken.has(c)) {
      taken.add(c);
      out.push(c);
    }
  };
  content.forEach(add);
  if (global && profile.sequence.length) {
    // the global model's scores over its own rows: cost independent of the catalog size
    const rows = global.model.itemIds.length;
    const identity = Int32Array.from({ length: rows }, (_, i) => i);
    const g = globalScores(global.model, identity, rows, profile.sequence, global.rowOf, config.sequence);
    // the best `retrieval.global` rows by value (ties: the lower row), selected rather than sorted
    const value = new Float64Array(rows).fill(-Infinity);
    globalScale = { neighbour: 0, next: 0 };
    for (let row = 0; row < rows; row++) {
      const c = global.rowToCatalog[row];
      if (c < 0) continue;
      globalScale.neighbour = Math.max(globalScale.neighbour, g.neighbour[row]);
      globalScale.next = Math.max(globalScale.next, g.next[row]);
      if (!mask[c] && (g.neighbour[row] > 0 || g.next[row] > 0))
        value[row] = config.weights.neighbour * g.neighbour[row] + config.weights.next * g.next[row];
    }
    topK(value, retrieval.global).forEach((row) => add(global.rowToCatalog[row]));
  }
  let popular = 0;
  for (let p = 0; p < r.popularOrder.length && popular < retrieval.popular; p++) {
    const c = r.popularOrder[p];
    if (!mask[c]) {
      add(c);
      popular++;
    }
  }
  for (const h of profile.history) add(full.indexOf.get(h.itemId) ?? -1);
  return { rows: out, globalScale };
}
