/**
 * npm run build:catalog [-- --movielens <dir>] [--items 3000]
 *
 * Writes the demo's embedded default catalog, public/catalog/movielens-demo.json:
 * the most-rated movies of MovieLens latest-small (title, genres, top tags), most
 * popular first, with the data set's licence beside it. Sample data for the demo
 * only: research, non-commercial use (see public/catalog/LICENSE-MovieLens.txt).
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadMovieLens, movieToItem, MOVIELENS_DIR } from './data/movielens';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const dir = resolve(arg('movielens', MOVIELENS_DIR));
const count = Number(arg('items', '3000'));
const out = resolve(import.meta.dirname, '..', 'public', 'catalog');

const ml = loadMovieLens(dir);
const ratingsPerMovie = new Map<number, number>();
for (const r of ml.ratings) ratingsPerMovie.set(r.movieId, (ratingsPerMovie.get(r.movieId) ?? 0) + 1);
const movies = ml.movies
  .filter((m) => ratingsPerMovie.has(m.movieId))
  .sort((a, b) => (ratingsPerMovie.get(b.movieId) ?? 0) - (ratingsPerMovie.get(a.movieId) ?? 0) || a.movieId - b.movieId)
  .slice(0, count);
const items = movies.map((m) => movieToItem(m, ml.tags.get(m.movieId) ?? []));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'movielens-demo.json'), `${JSON.stringify(items)}\n`);
copyFileSync(join(dir, 'README.txt'), join(out, 'LICENSE-MovieLens.txt'));
writeFileSync(
  join(out, 'NOTICE.md'),
  `# Demo catalog: sample data, non-commercial

\`movielens-demo.json\` is derived from MovieLens latest-small (the ${items.length} most-rated
movies: titles, genres and the most used tags), built by \`npm run build:catalog\`.

F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: History and
Context. ACM Transactions on Interactive Intelligent Systems 5, 4. GroupLens Research,
University of Minnesota. Its licence (research use; redistribution only under the same
terms; no commercial use without permission) is in \`LICENSE-MovieLens.txt\`.

It ships only so the demo works out of the box. Integrators bring their own catalog.
`,
);
process.stderr.write(`wrote ${items.length} items to ${join(out, 'movielens-demo.json')}\n`);
