/** The catalog index and visitor profiles the evaluation and head training build from MovieLens, with the engine's own code. */
import { itemText } from '../../src/catalog/validate';
import { matrixFromRows, rowOf } from '../../src/math/matrix';
import { mapToCatalog, type GlobalModel } from '../../src/global/global-model';
import { buildProfile, type Profile } from '../../src/profile/profile';
import { catalogOrderPrior, type CatalogIndex, type GlobalContext } from '../../src/ranking/score';
import type { StoredEvent } from '../../src/types';
import { loadNodeEncoder } from '../../support/node-models';
import { movieToItem, type Interaction, type MovieLens } from './movielens';

/** Candidate items: every movie of movies.csv that appears in ratings.csv, embedded with the shipped encoder. */
export async function movieLensIndex(ml: MovieLens): Promise<CatalogIndex> {
  const rated = new Set(ml.ratings.map((r) => r.movieId));
  const items = ml.movies.filter((m) => rated.has(m.movieId)).map((m) => movieToItem(m, ml.tags.get(m.movieId) ?? []));
  const encoder = await loadNodeEncoder();
  const vectors = await encoder.embed(items.map(itemText));
  await encoder.dispose();
  return {
    items,
    indexOf: new Map(items.map((it, i) => [it.id, i] as const)),
    matrix: matrixFromRows(vectors, encoder.info.dimensions),
    prior: catalogOrderPrior(items.length),
  };
}

export function globalContext(model: GlobalModel, index: CatalogIndex): GlobalContext {
  return { model, rowToCatalog: mapToCatalog(model, index.indexOf), rowOf: new Map(model.itemIds.map((id, r) => [id, r] as const)) };
}

/** Every rating becomes a 'view' event (implicit feedback, as the protocol says), at its own time. */
export function historyEvents(history: readonly Interaction[]): StoredEvent[] {
  return history.map((r, i) => ({ type: 'view', itemId: String(r.movieId), timestamp: r.timestamp * 1000, eventId: `e${i}`, seq: i }));
}

/** The profile the engine would build from this history, as of its last interaction. */
export function profileFor(history: readonly Interaction[], index: CatalogIndex): Profile {
  const now = (history[history.length - 1]?.timestamp ?? 0) * 1000;
  return buildProfile(historyEvents(history), (id) => {
    const i = index.indexOf.get(id);
    return i === undefined ? undefined : rowOf(index.matrix, i);
  }, now);
}
