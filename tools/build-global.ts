/**
 * npm run build:global -- <interactions> <out-dir> [--catalog <catalog.json>] [--name <name>] [--k 100] [--kt 30]
 *
 * Site-side builder of the non-personal global model from aggregate, anonymous
 * interaction logs. <interactions> is a MovieLens-format directory (ratings.csv:
 * userId,movieId,rating,timestamp) or a CSV file with columns user,item,timestamp[,type]
 * (type: an event type of src/vocabulary.ts, empty or absent for a view).
 * Writes global.bin, items.json, manifest.json (SHA-256 of each file) and
 * MODEL_CARD.md, and bought.bin (co-purchase neighbours: items one user purchased within
 * a 30-minute session gap, --session-gap-minutes) when the logs hold such purchases. With --catalog, rows are limited to that catalog's items.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isEventType } from '../src/vocabulary';
import { readCsvObjects } from './data/csv';
import { writeGlobalAsset } from './global/write-asset';
import { buildGlobalModel, DEFAULT_GLOBAL_OPTIONS, DEFAULT_SESSION_GAP_SECONDS, type LoggedInteraction } from './global/build';

const args = process.argv.slice(2);
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const [input, out] = positional;
if (!input || !out) {
  process.stderr.write(
    'usage: npm run build:global -- <movielens-dir | interactions.csv> <out-dir> [--catalog catalog.json] [--name name] [--k 100] [--kt 30] [--session-gap-minutes 30]\n',
  );
  process.exit(2);
}

function readInteractions(path: string): LoggedInteraction[] {
  if (statSync(path).isDirectory()) {
    const file = join(path, 'ratings.csv');
    if (!existsSync(file)) throw new Error(`${file} not found: a MovieLens directory needs ratings.csv`);
    return readCsvObjects(file).map((r) => ({ user: r.userId, item: r.movieId, timestamp: Number(r.timestamp) }));
  }
  return readCsvObjects(path).map((r, i) => {
    if (!r.user || !r.item || !Number.isFinite(Number(r.timestamp)))
      throw new Error(`${path} line ${i + 2}: expected columns user,item,timestamp[,type]`);
    if (r.type && !isEventType(r.type)) throw new Error(`${path} line ${i + 2}: type "${r.type}" is not an event type (view, purchase, ...)`);
    return { user: r.user, item: r.item, timestamp: Number(r.timestamp), ...(r.type ? { type: r.type } : {}) };
  });
}

const log = (msg: string): void => void process.stderr.write(`[build:global] ${msg}\n`);
let interactions = readInteractions(resolve(input));
const catalogPath = flag('catalog');
if (catalogPath) {
  const ids = new Set((JSON.parse(readFileSync(resolve(catalogPath), 'utf8')) as { id: string }[]).map((it) => String(it.id)));
  interactions = interactions.filter((x) => ids.has(x.item));
  log(`limited to the ${ids.size} items of ${catalogPath}`);
}
log(`${interactions.length} interactions from ${input}`);
const options = {
  ...DEFAULT_GLOBAL_OPTIONS,
  k: Number(flag('k') ?? DEFAULT_GLOBAL_OPTIONS.k),
  kt: Number(flag('kt') ?? DEFAULT_GLOBAL_OPTIONS.kt),
  sessionGapSeconds: Number(flag('session-gap-minutes') ?? DEFAULT_SESSION_GAP_SECONDS / 60) * 60,
  log,
};
const model = buildGlobalModel(interactions, options);
const purchases = interactions.filter((x) => x.type === 'purchase').length;
if (!model.bought)
  log(purchases ? `${purchases} purchases, none shared a session with another: no bought.bin` : 'no purchases in the logs: no bought.bin');
const sizes = await writeGlobalAsset(out, model, {
  name: flag('name'),
  source: `${interactions.length} interactions from ${input}${catalogPath ? `, limited to the items of ${catalogPath}` : ''}`,
  build: {
    minCount: options.minCount,
    maxItems: options.maxItems,
    lambda: options.lambda,
    window: options.window,
    popularityHalfLifeDays: options.popularityHalfLifeDays,
    sessionGapSeconds: options.sessionGapSeconds,
    interactions: interactions.length,
    purchases,
  },
  describe: () => `- up to ${model.k} item-to-item neighbours with EASE weights (Steck 2019; lambda ${options.lambda},
  items with at least ${options.minCount} interactions, at most ${options.maxItems});
- up to ${model.kt} next-item transitions (what users interacted with in the next
  ${options.window} steps of their time-ordered history, 1/distance weighted, normalised per item);
- popularity with a ${options.popularityHalfLifeDays}-day half-life;
- ${model.bought ? `up to ${model.bought.k} "bought together" neighbours (bought.bin): items one user purchased in the same session (sessions split by ${options.sessionGapSeconds / 60} minutes without an event), one count per session` : `no "bought together" list: the logs held ${purchases ? 'no two purchases in one session' : 'no purchases'}`}.`,
});
log(`wrote ${resolve(out)}: ${model.rows} rows, global.bin ${(sizes['global.bin'] / 1e6).toFixed(2)} MB`);
