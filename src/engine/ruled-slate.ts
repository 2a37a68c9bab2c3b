/**
 * Business rules around exploration and live item updates, for the engine facade.
 *
 * The ranking (src/ranking/pipeline.ts) has already applied the score rules and the
 * category cap to its scores, so the bandit only ever chooses among items the rules
 * allow; the pinned items are set aside, the mixer composes the other k - pins slots,
 * and the pins are put at their slots with propensity 1 (nothing was drawn for them).
 * Every logged propensity is therefore that of the slate actually shown.
 */
import type { ItemUpdate } from '../types';
import { RecommenderError } from '../errors';
import { validateItemUpdates, insertPins } from '../catalog/business-rules';
import { composeSlate, type ShownItem, type SlateMixer } from '../exploration/mixer';
import type { RandomSource } from '../exploration/bandit';
import type { ForYouRanking } from '../ranking/pipeline';
import type { LoadedCatalog } from './catalog-loader';

/** The slate shown by recommend(): exploration over the unpinned slots, then the pins. */
export function composeRuledSlate(mixer: SlateMixer, ranking: ForYouRanking, prior: Float32Array, k: number, rand: RandomSource): ShownItem[] {
  const pinned = new Set(ranking.pins.map((p) => p.item));
  const open = { ...ranking, slate: ranking.slate.filter((i) => !pinned.has(i)) };
  const shown = composeSlate(mixer, open, prior, Math.max(0, k - pinned.size), rand);
  const pins = ranking.pins.map((p) => ({
    slot: p.slot,
    entry: { item: p.item, slot: p.slot, source: 'ranked' as const, propensity: 1, sourcePropensities: { ranked: 1 } },
  }));
  return insertPins(shown, pins, k);
}

/** updateItems(): new price, availability, attributes or publishedAt on loaded items; nothing is embedded again. */
export function applyItemUpdates(catalog: LoadedCatalog | null, input: unknown): { updated: number } {
  const updates: ItemUpdate[] = validateItemUpdates(input);
  if (!catalog)
    throw new RecommenderError('not_ready', 'updateItems() was called before a catalog was loaded.', 'Call setCatalog() first, then updateItems().');
  const items = catalog.items as CatalogItem[];
  let updated = 0;
  for (const u of updates) {
    const i = catalog.indexOf.get(u.id);
    if (i === undefined) continue;
    const { id: _id, ...fields } = u;
    items[i] = { ...items[i], ...fields };
    updated++;
  }
  return { updated };
}

type CatalogItem = LoadedCatalog['items'][number];
