import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CatalogItem } from '../../src/types';
import { readCsvObjects } from './csv';

export interface Movie {
  movieId: number;
  title: string;
  genres: string[];
}
export interface Interaction {
  userId: number;
  movieId: number;
  rating: number;
  timestamp: number;
}
export interface MovieLens {
  dir: string;
  movies: Movie[];
  ratings: Interaction[];
  /** movieId -> tags, most used first (lower-cased, distinct). */
  tags: Map<number, string[]>;
}

/** Loads a directory in MovieLens format (ratings.csv, movies.csv, optional tags.csv). */
export function loadMovieLens(dir: string): MovieLens {
  for (const f of ['ratings.csv', 'movies.csv']) {
    if (!existsSync(join(dir, f))) throw new Error(`${join(dir, f)} not found: a MovieLens directory needs ratings.csv and movies.csv`);
  }
  const movies = readCsvObjects(join(dir, 'movies.csv')).map((r) => ({
    movieId: Number(r.movieId),
    title: r.title,
    genres: r.genres && r.genres !== '(no genres listed)' ? r.genres.split('|') : [],
  }));
  const ratings = readCsvObjects(join(dir, 'ratings.csv')).map((r) => ({
    userId: Number(r.userId),
    movieId: Number(r.movieId),
    rating: Number(r.rating),
    timestamp: Number(r.timestamp),
  }));
  const tags = new Map<number, string[]>();
  const tagFile = join(dir, 'tags.csv');
  if (existsSync(tagFile)) {
    const counts = new Map<number, Map<string, number>>();
    for (const r of readCsvObjects(tagFile)) {
      const id = Number(r.movieId);
      const tag = r.tag.trim().toLowerCase();
      if (!tag) continue;
      const m = counts.get(id) ?? new Map<string, number>();
      m.set(tag, (m.get(tag) ?? 0) + 1);
      counts.set(id, m);
    }
    for (const [id, m] of counts) {
      tags.set(id, [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([t]) => t));
    }
  }
  return { dir, movies, ratings, tags };
}

/** Catalog item for a movie: title, first genre as category, genres + top tags as tags. */
export function movieToItem(movie: Movie, tags: string[] = [], maxTags = 12): CatalogItem {
  const item: CatalogItem = {
    id: String(movie.movieId),
    title: movie.title,
    tags: [...movie.genres, ...tags.filter((t) => !movie.genres.some((g) => g.toLowerCase() === t)).slice(0, maxTags)],
  };
  if (movie.genres.length) item.category = movie.genres[0];
  return item;
}

export function movieLensCatalog(ml: MovieLens, maxTags = 12): CatalogItem[] {
  return ml.movies.map((m) => movieToItem(m, ml.tags.get(m.movieId) ?? [], maxTags));
}

/** Default location of MovieLens latest-small: committed in the repository at data/movielens-latest-small. */
export const MOVIELENS_DIR = join(import.meta.dirname, '..', '..', 'data', 'movielens-latest-small');
