/**
 * The catalog as the ranking sees it: items in catalog order, their id -> row
 * map, their unit vectors (one row each) and a prior per item.
 */
import type { CatalogItem } from '../types';
import type { ItemMatrix } from '../math/matrix';

export interface CatalogIndex {
  items: CatalogItem[];
  indexOf: Map<string, number>;
  matrix: ItemMatrix;
  /** Prior per item in [0, 1] (popularity); catalog order when nothing better is known. */
  prior: Float32Array;
}

/** Catalog-order prior: first item 1, last item close to 0. */
export function catalogOrderPrior(count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => 1 - i / Math.max(1, count));
}
