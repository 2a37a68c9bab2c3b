/** The catalog index and visitor profiles the evaluation and head training build from MovieLens, with the engine's own code. */
import { itemText } from '../../src/catalog/validate';
import { matrixFromRows, rowOf } from '../../src/math/matrix';
import { buildProfile, type Profile } from '../../src/profile/profile';
import { catalogOrderPrior, type CatalogIndex } from '../../src/vectors/catalog-index';
import type { CatalogItem, StoredEvent } from '../../src/types';
import { loadNodeEncoder } from '../../support/node-models';
import { movieToItem, type Interaction, type MovieLens } from './movielens';

/** Candidate items: every movie of movies.csv that appears in ratings.csv, embedded with the shipped encoder. */
export async function movieLensIndex(ml: MovieLens): Promise<CatalogIndex> {
  const rated = new Set(ml.ratings.map((r) => r.movieId));
  return catalogIndexOf(ml.movies.filter((m) => rated.has(m.movieId)).map((m) => movieToItem(m, ml.tags.get(m.movieId) ?? [])));
}

/** The catalog index the engine builds for these items: their vectors from the shipped encoder, in catalog order. */
export async function catalogIndexOf(items: CatalogItem[]): Promise<CatalogIndex> {
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
