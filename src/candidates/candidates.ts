/**
 * Stage 1 of a ranking for large catalogs: the candidates of a for-you, similar
 * or search call, retrieved on the catalog scoring path under the catalog's
 * rules, as a small sub-index the pipeline then ranks exactly.
 */
import type { RecommendOptions } from '../types';
import { exclusionMask } from '../catalog/rules';
import { rowOf } from '../math/matrix';
import { topK } from '../math/top-k';
import type { CatalogIndex } from '../vectors/catalog-index';
import type { Profile } from '../profile/profile';
import { globalRowBuffer, readGlobalRow, type GlobalContext } from '../global/global-model';
import { quantizeQueries } from './quantized-scoring';
import { DEFAULT_RETRIEVAL, interestQueries, retrieveCandidates, subIndex, type GlobalWeights, type SubIndex } from './retrieval';
import type { ScoringPaths } from './scoring-paths';
import { span, spanAsync } from '../runtime/spans';
import { GPU_MAX_K } from './webgpu-scoring';

/** How many lexical matches a search adds to its semantic candidates. */
const LEXICAL_CANDIDATES = 100;

/** The history items join every candidate set: explanations name them, and the rules then leave them out where they must. */
function withHistory(rows: number[], full: CatalogIndex, profile: Profile, skip = -1): number[] {
  for (const h of profile.history) {
    const c = full.indexOf.get(h.itemId);
    if (c !== undefined && c !== skip && !rows.includes(c)) rows.push(c);
  }
  return rows;
}

export async function forYouCandidates(
  paths: ScoringPaths,
  full: CatalogIndex,
  global: GlobalContext | null,
  profile: Profile,
  rules: RecommendOptions,
  excludeSeen: boolean,
  weights: GlobalWeights,
): Promise<SubIndex> {
  const r = paths.index;
  if (!r) throw new Error('forYouCandidates: the catalog is scored exactly');
  const mask = span('mask', () => exclusionMask(full, rules, profile.seen, excludeSeen));
  const content = profile.interests.length
    ? await spanAsync('scan', () =>
        paths.topK(async (s) => (await s.topK(interestQueries(profile, r.quantized.paddedDims), DEFAULT_RETRIEVAL.content, mask)).indices),
      )
    : [];
  return span('candidates', () => {
    const candidates = retrieveCandidates(full, global, r, profile, mask, content, weights);
    return subIndex(full, global, { ...candidates, rows: withPins(candidates.rows, full, rules, mask) });
  });
}

/** Pinned items (business rules) the mask allows join the candidates, so the pipeline can put them at their slots. */
function withPins(rows: number[], full: CatalogIndex, rules: RecommendOptions, mask: Uint8Array): number[] {
  for (const p of rules.rules?.pin ?? []) {
    const c = full.indexOf.get(p.itemId);
    if (c !== undefined && !mask[c] && !rows.includes(c)) rows.push(c);
  }
  return rows;
}

/** The target's co-visitation and co-purchase neighbours in the global model (catalog indices). */
function pairedRows(global: GlobalContext | null, full: CatalogIndex, target: number): number[] {
  const r = global?.rowOf.get(full.items[target].id);
  if (!global || r === undefined) return [];
  const out: number[] = [];
  const row = globalRowBuffer(global.model);
  for (const list of ['neighbours', 'bought'] as const)
    for (let t = 0, n = readGlobalRow(global.model, list, r, row); t < n; t++)
      if (global.rowToCatalog[row.ids[t]] >= 0) out.push(global.rowToCatalog[row.ids[t]]);
  return out;
}

/** The best `3 k` (at least what the GPU kernel selects) items for one query vector, under the mask. */
async function nearest(paths: ScoringPaths, query: Float32Array, k: number, mask: Uint8Array, what: string): Promise<number[]> {
  const r = paths.index;
  if (!r) throw new Error(`${what}: the catalog is scored exactly`);
  return paths.topK(async (s) => (await s.topK(quantizeQueries([query], [1], r.quantized.paddedDims), Math.max(GPU_MAX_K, 3 * k), mask)).indices);
}

/** Row 0 of the sub-index is the target itself; its content neighbours, its global-model neighbours and pinned items follow. */
export async function similarCandidates(
  paths: ScoringPaths,
  full: CatalogIndex & { global?: GlobalContext | null },
  profile: Profile,
  target: number,
  k: number,
  rules: RecommendOptions = {},
): Promise<SubIndex> {
  const mask = exclusionMask(full, rules, profile.seen, false, [target]);
  const rows = await nearest(paths, rowOf(full.matrix, target), k, mask, 'similarCandidates');
  const paired = pairedRows(full.global ?? null, full, target).filter((c) => !mask[c]);
  const all = withPins([...new Set([target, ...rows, ...paired])], full, rules, mask);
  return subIndex(full, full.global ?? null, { rows: withHistory(all, full, profile, target) });
}

/** Semantic candidates from the scorer plus the best lexical matches (`lexical`: per catalog item). */
export async function searchCandidates(
  paths: ScoringPaths,
  full: CatalogIndex,
  profile: Profile,
  seenToExclude: Profile['seen'],
  query: Float32Array,
  lexical: Float32Array,
  k: number,
  rules: RecommendOptions = {},
): Promise<SubIndex> {
  const mask = exclusionMask(full, { rules: rules.rules }, seenToExclude, false);
  const semanticRows = await nearest(paths, query, k, mask, 'searchCandidates');
  const lexicalRows = topK(
    Float32Array.from(lexical, (v, i) => (v > 0 && !mask[i] ? v : -Infinity)),
    LEXICAL_CANDIDATES,
  ).filter((i) => lexical[i] > 0);
  return subIndex(full, null, { rows: withHistory(withPins([...new Set([...semanticRows, ...lexicalRows])], full, rules, mask), full, profile) });
}
