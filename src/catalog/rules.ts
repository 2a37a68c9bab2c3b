/**
 * The catalog's business rules, as ONE rule set: which items a call may return.
 * An item is left out when it is unavailable (unless `includeUnavailable`), fails
 * a filter (categories, tags, price range), is excluded by id or by an attribute
 * rule (`rules.excludeWhere`, business-rules.ts), or was seen by the
 * visitor (everything seen with `excludeSeen`; purchased and dismissed items
 * always). The exact ranking and the large-catalog retrieval both use this mask,
 * so they can never disagree about what is allowed.
 */
import type { CatalogItem, RecommendOptions } from '../types';
import { EVENTS, type EventType } from '../vocabulary';
import { matches } from './business-rules';

/** What the rules look at: the items in catalog order and the id -> index map. */
export interface RuleTarget {
  items: readonly CatalogItem[];
  indexOf: ReadonlyMap<string, number>;
}

/** One byte per item, 1 = left out. `extra` indices are left out too (e.g. the item similar() starts from). */
export function exclusionMask(
  target: RuleTarget,
  options: RecommendOptions,
  seen: ReadonlyMap<string, EventType>,
  excludeSeen: boolean,
  extra: readonly number[] = [],
): Uint8Array {
  const f = options.filters ?? {};
  const mask = new Uint8Array(target.items.length);
  const categories = f.categories?.length ? new Set(f.categories) : null;
  const tags = f.tags?.length ? new Set(f.tags) : null;
  const excludeWhere = options.rules?.excludeWhere ?? [];
  const items = target.items;
  if (!categories && !tags && f.minPrice === undefined && f.maxPrice === undefined && !excludeWhere.length) {
    // the common call (no filter, no excludeWhere): availability only, in a plain loop (it runs over the whole catalog on every call)
    if (!f.includeUnavailable) for (let i = 0; i < items.length; i++) if (items[i].available === false) mask[i] = 1;
  } else
    items.forEach((item, i) => {
      if (!f.includeUnavailable && item.available === false) mask[i] = 1;
      else if (categories && (!item.category || !categories.has(item.category))) mask[i] = 1;
      else if (tags && !(item.tags ?? []).some((t) => tags.has(t))) mask[i] = 1;
      else if (f.minPrice !== undefined && !(item.price !== undefined && item.price >= f.minPrice)) mask[i] = 1;
      else if (f.maxPrice !== undefined && !(item.price !== undefined && item.price <= f.maxPrice)) mask[i] = 1;
      else if (excludeWhere.some((m) => matches(item, m))) mask[i] = 1;
    });
  for (const id of options.exclude ?? []) {
    const i = target.indexOf.get(id);
    if (i !== undefined) mask[i] = 1;
  }
  for (const [id, type] of seen) {
    if (excludeSeen || EVENTS[type].hidesItem) {
      const i = target.indexOf.get(id);
      if (i !== undefined) mask[i] = 1;
    }
  }
  for (const i of extra) mask[i] = 1;
  return mask;
}

/** Marks the items the rules leave out with -Infinity, in place. */
export function applyExclusions(
  scores: Float32Array,
  target: RuleTarget,
  options: RecommendOptions,
  seen: ReadonlyMap<string, EventType>,
  excludeSeen: boolean,
): void {
  const mask = exclusionMask(target, options, seen, excludeSeen);
  for (let i = 0; i < mask.length; i++) if (mask[i]) scores[i] = -Infinity;
}
