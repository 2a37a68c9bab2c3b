/**
 * npm run build:global -- <logs> <out-dir> [options]
 * npm run build:global -- --from-tables <tables-dir> <out-dir>
 *
 * Site-side builder of the non-personal global model from aggregate, anonymous interaction
 * logs, on DuckDB (tools/global/duckdb-build.ts running the SQL files of tools/global/sql/).
 * <logs>: a CSV, Parquet or JSON Lines file with columns user,item,timestamp[,type][,value]
 * (timestamp: unix seconds or ISO 8601; type: an event type of src/vocabulary.ts, empty for a
 * view), a MovieLens directory or ratings.csv, a GA4 events_* export in Parquet, or Segment /
 * RudderStack track events in JSON Lines (--format auto|events|movielens|ga4|segment).
 * --from-tables reads the signal tables a Spark SQL or BigQuery run of the same SQL files
 * exported (items, popularity, covisitation, transitions[, bought] as Parquet or CSV).
 * Writes the asset folder through tools/global/write-asset.ts only when the build succeeded
 * (staged, then renamed over the previous one).
 *
 * Bad rows (malformed, unreadable or future timestamp, unknown type, no user/item, not in
 * --catalog) are counted and skipped with a summary; --strict stops at the first with its
 * file, line and fix. --engine js: the former in-memory build (dense EASE over at most 4,000 items).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isEventType } from '../src/vocabulary';
import { readCsvObjects } from './data/csv';
import { writeGlobalAsset } from './global/write-asset';
import { buildGlobalModel, DEFAULT_GLOBAL_OPTIONS, DEFAULT_SESSION_GAP_SECONDS, type LoggedInteraction } from './global/build';
import {
  buildFromLogs,
  BuildInputError,
  DEFAULT_BUILD_SETTINGS,
  describeSkipped,
  INPUT_FORMATS,
  modelFromTables,
  type BuildSettings,
  type BuildSummary,
  type InputFormat,
} from './global/duckdb-build';
import type { GlobalModel } from '../src/formats/global-model-file';

const USAGE = `usage: npm run build:global -- <logs> <out-dir> [--format ${INPUT_FORMATS.join('|')}] [--catalog catalog.json] [--strict]
         [--memory-limit 1GB (default)] [--temp-dir dir] [--threads n] [--name name]
         [--k 100] [--kt 30] [--bought-k 50] [--covisit-window 10] [--covisit-half-life-days 30]
         [--popularity-half-life-days 365] [--session-gap-minutes 30] [--ease-top 2000] [--ease-lambda 200] [--like-threshold <rating>]
       npm run build:global -- --from-tables <tables-dir> <out-dir>
       npm run build:global -- <movielens-dir | interactions.csv> <out-dir> --engine js   (the former in-memory build)
`;
/** DuckDB's memory_limit unless --memory-limit says otherwise: DuckDB's own default is 80% of RAM; 1 GB keeps the process under 2 GB RSS (1.53 GB peak on 10M events), spilling the rest to the temp directory. */
const DEFAULT_MEMORY_LIMIT = '1GB';
const BOOLEAN_FLAGS = new Set(['--strict', '--from-tables']);
const args = process.argv.slice(2);
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--') && !BOOLEAN_FLAGS.has(args[i - 1])));
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const log = (msg: string): void => void process.stderr.write(`[build:global] ${msg}\n`);
const fail = (msg: string): never => {
  process.stderr.write(`[build:global] ${msg}\n[build:global] no asset written; a previous one at the output is left as it was\n`);
  process.exit(1);
};

function wholeFlag(name: string, fallback: number): number {
  const raw = flag(name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) fail(`--${name} ${raw}: expected a number >= 0`);
  return v;
}

function settingsFromFlags(): BuildSettings {
  const d = DEFAULT_BUILD_SETTINGS;
  return {
    neighboursK: wholeFlag('k', d.neighboursK),
    transitionsK: wholeFlag('kt', d.transitionsK),
    boughtK: wholeFlag('bought-k', d.boughtK),
    covisitWindow: wholeFlag('covisit-window', d.covisitWindow),
    covisitHalfLifeDays: wholeFlag('covisit-half-life-days', d.covisitHalfLifeDays),
    popularityHalfLifeDays: wholeFlag('popularity-half-life-days', d.popularityHalfLifeDays),
    sessionGapSeconds: Math.round(wholeFlag('session-gap-minutes', d.sessionGapSeconds / 60) * 60),
    easeTop: wholeFlag('ease-top', d.easeTop),
    easeMinCount: wholeFlag('ease-min-count', d.easeMinCount),
    easeLambda: wholeFlag('ease-lambda', d.easeLambda),
  };
}

function catalogIds(path: string): Set<string> {
  let items: unknown;
  try {
    items = JSON.parse(readFileSync(resolve(path), 'utf8'));
  } catch (e) {
    return fail(`--catalog ${path}: ${(e as Error).message}. Fix: pass the catalog JSON (an array of items with an "id").`);
  }
  if (!Array.isArray(items)) return fail(`--catalog ${path}: not a JSON array. Fix: pass the catalog JSON (an array of items with an "id").`);
  return new Set(items.map((it: { id?: unknown }) => String(it.id)));
}

const describeDuck = (model: GlobalModel, s: BuildSettings, summary: BuildSummary | null): string =>
  `- up to ${model.k} co-visitation neighbours per item (events of one user at most ${s.covisitWindow} positions apart,
  weighted by event type, 1/position gap and a ${s.covisitHalfLifeDays}-day half-life of the time gap, cosine-normalised)${s.easeTop ? `; EASE (lambda ${s.easeLambda}) for the ${s.easeTop} most frequent items` : ''};
- up to ${model.kt} next-item transitions (the next 3 positions of each user's time-ordered events, 1/distance weighted, normalised per item);
- popularity weighted by event type with a ${s.popularityHalfLifeDays}-day half-life;
- ${model.bought ? `up to ${model.bought.k} "bought together" neighbours: items one user purchased in the same session (${s.sessionGapSeconds / 60} minutes without an event end one), one count per session` : `no "bought together" list: the logs held ${summary?.purchases ? 'no two purchases in one session' : 'no purchases'}`}.
Built by the SQL files of tools/global/sql/ (DuckDB).`;

async function duckdb(input: string, out: string): Promise<void> {
  const settings = settingsFromFlags();
  const format = (flag('format') ?? 'auto') as InputFormat;
  if (!INPUT_FORMATS.includes(format)) fail(`--format ${format}: expected one of ${INPUT_FORMATS.join(', ')}`);
  const catalogPath = flag('catalog');
  const t0 = Date.now();
  const engine = {
    memoryLimit: flag('memory-limit') ?? DEFAULT_MEMORY_LIMIT,
    tempDir: flag('temp-dir'),
    threads: flag('threads') ? Number(flag('threads')) : undefined,
    log,
  };
  let model: GlobalModel;
  let summary: BuildSummary | null = null;
  let source: string;
  try {
    if (args.includes('--from-tables')) {
      model = await modelFromTables(input, settings, engine);
      source = `the signal tables in ${input}`;
    } else {
      const likeThreshold = flag('like-threshold') === undefined ? undefined : Number(flag('like-threshold'));
      const result = await buildFromLogs(
        { path: input, format, strict: args.includes('--strict'), ...(catalogPath ? { catalog: catalogIds(catalogPath) } : {}), likeThreshold },
        settings,
        engine,
      );
      model = result.model;
      summary = result.summary;
      source = `${summary.events} events from ${input} (${summary.format})${catalogPath ? `, limited to the items of ${catalogPath}` : ''}`;
    }
  } catch (e) {
    if (e instanceof BuildInputError) return fail(e.message);
    throw e;
  }
  if (summary) {
    const skipped = Object.values(summary.skipped).reduce((n, x) => n + x.count, 0);
    log(`${summary.events} events used (${summary.purchases} purchases)`);
    if (skipped) log(`skipped ${skipped} rows: ${describeSkipped(summary)} (--strict stops at the first instead)`);
    const ignored = Object.entries(summary.ignored);
    if (ignored.length) log(`ignored ${ignored.map(([what, n]) => `${n} "${what}"`).join(', ')} (events that carry no item)`);
    log(`DuckDB temp files: at most ${summary.tempBytes} bytes after a step`);
  }
  const sizes = await writeGlobalAsset(out, model, {
    name: flag('name'),
    source,
    build: {
      engine: 'duckdb',
      ...settings,
      ...(summary
        ? {
            events: summary.events,
            purchases: summary.purchases,
            skipped: Object.fromEntries(Object.entries(summary.skipped).map(([p, x]) => [p, x.count])),
          }
        : {}),
    },
    describe: () => describeDuck(model, settings, summary),
  });
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  log(
    `wrote ${resolve(out)}: ${model.rows} rows, ${(total / 1e6).toFixed(2)} MB in ${Object.keys(sizes).length} files, ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}

/** The former in-memory build (--engine js): every interaction as a JS object, dense EASE over at most 4,000 items. */
async function js(input: string, out: string): Promise<void> {
  const readInteractions = (path: string): LoggedInteraction[] => {
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
  };
  let interactions = readInteractions(resolve(input));
  const catalogPath = flag('catalog');
  if (catalogPath) {
    const ids = catalogIds(catalogPath);
    interactions = interactions.filter((x) => ids.has(x.item));
  }
  const options = {
    ...DEFAULT_GLOBAL_OPTIONS,
    k: Number(flag('k') ?? DEFAULT_GLOBAL_OPTIONS.k),
    kt: Number(flag('kt') ?? DEFAULT_GLOBAL_OPTIONS.kt),
    sessionGapSeconds: Number(flag('session-gap-minutes') ?? DEFAULT_SESSION_GAP_SECONDS / 60) * 60,
    log,
  };
  const model = buildGlobalModel(interactions, options);
  const purchases = interactions.filter((x) => x.type === 'purchase').length;
  await writeGlobalAsset(out, model, {
    name: flag('name'),
    source: `${interactions.length} interactions from ${input}`,
    build: { engine: 'js', ...options, log: undefined, interactions: interactions.length, purchases },
    describe: () => `- up to ${model.k} item-to-item neighbours with EASE weights (Steck 2019; lambda ${options.lambda},
  items with at least ${options.minCount} interactions, at most ${options.maxItems});
- up to ${model.kt} next-item transitions (${options.window} steps, 1/distance weighted, normalised per item);
- popularity with a ${options.popularityHalfLifeDays}-day half-life;
- ${model.bought ? `up to ${model.bought.k} "bought together" neighbours` : 'no "bought together" list'}.`,
  });
  log(`wrote ${resolve(out)}: ${model.rows} rows (--engine js)`);
}

const [input, out] = positional;
if (!input || !out) {
  process.stderr.write(USAGE);
  process.exit(2);
}
if ((flag('engine') ?? 'duckdb') === 'js') await js(input, out);
else if (flag('engine') && flag('engine') !== 'duckdb') fail(`--engine ${flag('engine')}: expected duckdb (default) or js`);
else await duckdb(input, out);
