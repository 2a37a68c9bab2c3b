/**
 * The site-side global build on DuckDB: reads the logs in place (CSV, Parquet, JSON Lines and
 * the mappings of tools/global/sql/inputs/), checks every row, runs the signal files of
 * tools/global/sql/ in order (plain SQL that also runs on Spark SQL and BigQuery) and reads
 * their tables into the GlobalModel that tools/global/write-asset.ts writes. Out of core:
 * DuckDB spills to `tempDir` beyond `memoryLimit`. Deterministic: every ORDER BY has full
 * tie-breaks and every weight is summed as integers before one division.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { GlobalModel } from '../../src/formats/global-model-file';
import { invertSpd } from '../../src/math/linalg';
import { EVENT_TYPES } from '../../src/vocabulary';
import type { LoggedInteraction } from './build';

export const SQL_DIR = join(import.meta.dirname, 'sql');
export const INPUTS_DIR = join(SQL_DIR, 'inputs');

/** The signal files, in the order they run (08_ease_gram.sql only with easeTop > 0). */
export function signalFiles(): string[] {
  return readdirSync(SQL_DIR)
    .filter((f) => /^\d\d_.*\.sql$/.test(f))
    .sort();
}

export interface BuildSettings {
  /** Co-visitation (or EASE) neighbours kept per item. */
  neighboursK: number;
  /** Next-item transitions kept per item (window 3, fixed in 05_transitions.sql). */
  transitionsK: number;
  /** Co-purchase neighbours kept per item. */
  boughtK: number;
  popularityHalfLifeDays: number;
  /** A gap this long without an event ends a user's session (co-purchase). */
  sessionGapSeconds: number;
  /** Co-visitation pairs events at most this many positions apart (1..50). */
  covisitWindow: number;
  /** Co-visitation weight halves with every this many days between the two events. */
  covisitHalfLifeDays: number;
  /**
   * EASE over this many most frequent items (0: off); their neighbours replace co-visitation's, rescaled to
   * each row's co-visitation maximum. 2000 by default: on MovieLens latest-small it lifts the engine to
   * test HR@10 0.1328 / NDCG@10 0.0751 from 0.1262 / 0.0711 with co-visitation alone (README); the inverse
   * is cubic (2000 items: 32 MB, seconds), so the default stays 2000 at any catalog size.
   */
  easeTop: number;
  easeMinCount: number;
  easeLambda: number;
}

export const DEFAULT_BUILD_SETTINGS: BuildSettings = {
  neighboursK: 100,
  transitionsK: 30,
  boughtK: 50,
  popularityHalfLifeDays: 365,
  sessionGapSeconds: 1800,
  covisitWindow: 10,
  covisitHalfLifeDays: 30,
  easeTop: 2000,
  easeMinCount: 3,
  easeLambda: 200,
};

/** The 00_params.sql column of each setting (the SQL files read them from build_params). */
const PARAM_COLUMNS: Partial<Record<keyof BuildSettings, string>> = {
  neighboursK: 'neighbours_k',
  transitionsK: 'transitions_k',
  boughtK: 'bought_k',
  popularityHalfLifeDays: 'popularity_half_life_days',
  sessionGapSeconds: 'session_gap_seconds',
  covisitWindow: 'covisit_window',
  covisitHalfLifeDays: 'covisit_half_life_days',
  easeTop: 'ease_top',
  easeMinCount: 'ease_min_count',
};

export interface EngineOptions {
  /** DuckDB memory_limit, e.g. '1GB' (default: DuckDB's, 80% of RAM). */
  memoryLimit?: string;
  /** Where DuckDB spills (default: a fresh folder under the OS temp directory, removed afterwards). */
  tempDir?: string;
  threads?: number;
  log?: (msg: string) => void;
}

export type InputFormat = 'auto' | 'events' | 'movielens' | 'ga4' | 'segment';
export const INPUT_FORMATS: readonly InputFormat[] = ['auto', 'events', 'movielens', 'ga4', 'segment'];

export interface InputSpec {
  /** A file, or a MovieLens directory (ratings.csv). */
  path: string;
  format: InputFormat;
  /** Catalog item ids: events of other items are problems ('not_in_catalog'). */
  catalog?: ReadonlySet<string>;
  /** Stop at the first bad row with its error (default: count and skip, summary at the end). */
  strict: boolean;
  /**
   * MovieLens: ratings at or above this are a 'like' (weight 3), others a 'view'. Default: every rating a view
   * (4 measured on latest-small: validation HR@10 0.1541 / NDCG@10 0.0838 against 0.1557 / 0.0860 with views only).
   */
  likeThreshold?: number;
  /** Timestamps later than this (unix seconds) plus one day are 'future_timestamp' (default: now). */
  now?: number;
}

/** An input the build cannot use: the message names the file, the line, row or column, and the fix. */
export class BuildInputError extends Error {
  override name = 'BuildInputError';
}

export type Problem = 'malformed' | 'missing_user' | 'missing_item' | 'bad_timestamp' | 'future_timestamp' | 'unknown_type' | 'not_in_catalog';

const FIX: Record<Problem, string> = {
  malformed: 'repair or remove the row (a CSV row needs one field per header column; a JSON line must be one JSON object)',
  missing_user: 'give every event a user id',
  missing_item: 'give every event an item id',
  bad_timestamp: 'write the timestamp as unix seconds (e.g. 1700000000) or ISO 8601 (e.g. 2024-05-01T10:00:00Z)',
  future_timestamp:
    'timestamps are unix seconds: divide milliseconds by 1000 (microseconds by 1000000), and check the clock of the machine that logged it',
  unknown_type: `use one of the event types ${EVENT_TYPES.join(', ')} (empty: view)`,
  not_in_catalog: 'add the item to the catalog, or leave out --catalog to keep every item',
};

const WHAT: Record<Problem, string> = {
  malformed: 'malformed row',
  missing_user: 'no user id',
  missing_item: 'no item id',
  bad_timestamp: 'the timestamp cannot be read',
  future_timestamp: 'the timestamp is in the future',
  unknown_type: 'unknown event type',
  not_in_catalog: 'the item is not in the catalog',
};

export interface BuildSummary {
  /** Events that fed the signals. */
  events: number;
  purchases: number;
  /** Rows skipped per problem, with the first one's place. */
  skipped: Partial<Record<Problem, { count: number; first: string }>>;
  /** Rows of a mapped export that carry no item event (GA4 page_view, Segment 'Signed Up', ...). */
  ignored: Record<string, number>;
  /** The largest DuckDB temporary-file total seen after a step, in bytes. */
  tempBytes: number;
  /** Seconds per step. */
  steps: Record<string, number>;
  format: Exclude<InputFormat, 'auto'>;
}

export interface BuildResult {
  model: GlobalModel;
  summary: BuildSummary;
}

const q = (s: string): string => `'${s.replace(/'/g, "''")}'`;

function fill(sql: string, values: Record<string, string>): string {
  return sql.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    if (!(k in values)) throw new Error(`no value for {{${k}}}`);
    return values[k];
  });
}

const readSql = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8');

/** 00_params.sql with these settings' numbers in place of its defaults. */
export function paramsSql(settings: BuildSettings): string {
  let sql = readSql(SQL_DIR, '00_params.sql');
  for (const [key, column] of Object.entries(PARAM_COLUMNS) as [keyof BuildSettings, string][]) {
    const v = settings[key];
    if (!Number.isInteger(v) || v < 0) throw new Error(`build setting ${key} must be a whole number >= 0 (got ${v})`);
    const re = new RegExp(`\\b\\d+ AS ${column}\\b`);
    if (!re.test(sql)) throw new Error(`00_params.sql has no "<number> AS ${column}"`);
    sql = sql.replace(re, `${v} AS ${column}`);
  }
  if (settings.covisitWindow < 1 || settings.covisitWindow > 50) throw new Error('covisitWindow must be within 1..50 (00_params.sql offsets)');
  return sql;
}

class Session {
  readonly steps: Record<string, number> = {};
  tempBytes = 0;
  constructor(
    readonly conn: DuckDBConnection,
    private readonly log: (msg: string) => void,
  ) {}

  async run(sql: string): Promise<void> {
    await this.conn.run(sql);
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const r = await this.conn.runAndReadAll(sql);
    return r.getRowObjects() as Record<string, unknown>[];
  }

  /** Whether a table (or view) of that name exists in the session. */
  async hasTable(name: string): Promise<boolean> {
    return (await this.rows(`SELECT 1 FROM information_schema.tables WHERE table_name = ${q(name)}`)).length > 0;
  }

  async scalar(sql: string): Promise<number> {
    const r = await this.rows(sql);
    return Number(Object.values(r[0] ?? {})[0] ?? 0);
  }

  /** Runs one step, prints its time and the temp files' size to stderr. */
  async step(name: string, sql: string): Promise<void> {
    const t0 = Date.now();
    this.log(`${name} ...`);
    await this.run(sql);
    const temp = await this.scalar('SELECT coalesce(sum(size), 0) FROM duckdb_temporary_files()');
    this.tempBytes = Math.max(this.tempBytes, temp);
    const s = (Date.now() - t0) / 1000;
    this.steps[name] = s;
    this.log(`${name} done in ${s.toFixed(1)} s${temp ? `, ${(temp / 1e6).toFixed(1)} MB in DuckDB temp files` : ''}`);
  }
}

async function openSession(engine: EngineOptions): Promise<{ session: Session; close: () => void }> {
  const log = engine.log ?? (() => undefined);
  const ownTemp = !engine.tempDir;
  const tempDir = resolve(engine.tempDir ?? join(tmpdir(), `odr-duckdb-${process.pid}-${Date.now()}`));
  mkdirSync(tempDir, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const session = new Session(conn, log);
  await session.run(`SET temp_directory = ${q(tempDir)}`);
  await session.run('SET preserve_insertion_order = true');
  if (engine.memoryLimit) await session.run(`SET memory_limit = ${q(engine.memoryLimit)}`);
  if (engine.threads) await session.run(`SET threads = ${Math.max(1, Math.floor(engine.threads))}`);
  return {
    session,
    close: () => {
      conn.closeSync();
      instance.closeSync();
      if (ownTemp) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}

/** The format of an input path: a directory or *ratings.csv is MovieLens, *.jsonl with "event" keys is Segment, ... */
export function detectFormat(path: string): Exclude<InputFormat, 'auto'> {
  if (statSync(path).isDirectory()) return 'movielens';
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') return 'events';
  // only the first line is read: the logs can be many gigabytes
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(4096);
  const head = buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, 0));
  closeSync(fd);
  const first = head.split(/\r?\n/)[0] ?? '';
  if (ext === '.csv' && /^"?userId"?,"?movieId"?/.test(first)) return 'movielens';
  if (/^\s*\{/.test(first) && /"event"\s*:/.test(first) && /"(userId|anonymousId)"\s*:/.test(first)) return 'segment';
  return 'events';
}

async function parquetColumns(s: Session, path: string): Promise<string[]> {
  return (await s.rows(`DESCRIBE SELECT * FROM read_parquet(${q(path)})`)).map((r) => String(r.column_name));
}

function requireColumns(file: string, have: string[], need: string[], expected: string): void {
  const missing = need.filter((c) => !have.includes(c));
  if (missing.length)
    throw new BuildInputError(
      `${file}: missing column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} (columns found: ${have.join(', ') || 'none'}). Fix: the file needs the columns ${expected}${missing.includes('user') && have.includes('userId') ? ' (a MovieLens ratings.csv: --format movielens)' : ''}.`,
    );
}

/** Reads `input` into raw_input (+ the CSV reader's rejects). Returns how to name a row's place. */
async function readInput(
  s: Session,
  input: InputSpec,
  format: Exclude<InputFormat, 'auto'>,
  located: boolean,
): Promise<{ file: string; place: 'line' | 'row'; rejects: { line: number; message: string }[] }> {
  let file = resolve(input.path);
  if (format === 'movielens' && statSync(file).isDirectory()) {
    file = join(file, 'ratings.csv');
    if (!existsSync(file))
      throw new BuildInputError(`${file} not found. Fix: a MovieLens directory needs ratings.csv (userId,movieId,rating,timestamp).`);
  }
  if (!existsSync(file)) throw new BuildInputError(`${file} not found. Fix: pass an existing CSV, Parquet or JSON Lines file.`);
  if (statSync(file).size === 0)
    throw new BuildInputError(`${file}: the file is empty. Fix: export the events again; the build needs at least one event.`);
  const parquet = extname(file).toLowerCase() === '.parquet';
  // the first pass reads the file through views (one scan, no line numbers); a second, located pass
  // materialises it in file order (rowid) only when some row has a problem to name
  const kind = located ? 'TABLE' : 'VIEW';
  const sql = (name: string, extra: Record<string, string> = {}): string => fill(readSql(INPUTS_DIR, name), { path: q(file), kind, ...extra });
  if (format === 'segment' || (format === 'events' && /\.(jsonl|ndjson|json)$/i.test(file))) {
    await s.step('read JSON lines', sql('lines.sql'));
    await s.step('map rows', sql(format === 'segment' ? 'segment.sql' : 'events-jsonl.sql', { line: located ? 'rowid + 1' : 'NULL' }));
    return { file, place: 'line', rejects: [] };
  }
  if (format === 'ga4') {
    if (!parquet)
      throw new BuildInputError(
        `${file}: --format ga4 reads a Parquet export of the events_* table. Fix: export it as Parquet (bq extract --destination_format PARQUET).`,
      );
    requireColumns(
      file,
      await parquetColumns(s, file),
      ['user_pseudo_id', 'event_timestamp', 'event_name', 'items'],
      'user_pseudo_id, event_timestamp, event_name, items',
    );
    await s.step('read Parquet', sql('events-parquet.sql'));
    await s.step('map rows', sql('ga4.sql'));
    return { file, place: 'row', rejects: [] };
  }
  if (parquet) {
    requireColumns(file, await parquetColumns(s, file), ['user', 'item', 'timestamp'], 'user,item,timestamp[,type][,value]');
    await s.step('read Parquet', sql('events-parquet.sql'));
  } else await s.step('read CSV', sql('events-csv.sql'));
  const cols = (await s.rows('DESCRIBE SELECT * FROM raw_file')).map((r) => String(r.column_name));
  if (!parquet) {
    if (format === 'movielens') requireColumns(file, cols, ['userId', 'movieId', 'rating', 'timestamp'], 'userId,movieId,rating,timestamp');
    else requireColumns(file, cols, ['user', 'item', 'timestamp'], 'user,item,timestamp[,type][,value]');
  }
  const threshold = input.likeThreshold === undefined ? 'NULL' : String(input.likeThreshold);
  const csvLine = located ? 'rowid + 2' : 'NULL';
  if (format === 'movielens') await s.step('map rows', sql('movielens.sql', { like_threshold: threshold, line: csvLine }));
  else
    await s.step(
      'map rows',
      sql('events.sql', {
        line: parquet ? 'file_row_number + 1' : csvLine,
        type: cols.includes('type') ? `lower(coalesce(nullif(trim(CAST("type" AS VARCHAR)), ''), 'view'))` : `'view'`,
      }),
    );
  return { file, place: parquet ? 'row' : 'line', rejects: [] };
}

/** The CSV reader's rejected lines (DuckDB's reject_errors, filled once the file was scanned). */
async function csvRejects(s: Session): Promise<{ line: number; message: string }[]> {
  if (!(await s.hasTable('reject_errors'))) return [];
  const rows = await s.rows(
    'SELECT line, min(error_type) AS error_type, min(error_message) AS error_message FROM reject_errors GROUP BY line ORDER BY line',
  );
  return rows.map((r) => ({ line: Number(r.line), message: `${String(r.error_type).toLowerCase()}: ${String(r.error_message)}` }));
}

/** Drops what readInput and the checks created (before the located pass reads the file again). */
async function dropInput(s: Session): Promise<void> {
  const objects = await s.rows(
    "SELECT table_name AS name, table_type AS kind FROM information_schema.tables WHERE table_name IN ('checked', 'raw_input', 'parsed_lines', 'raw_lines', 'raw_file', 'ignored_input')",
  );
  for (const name of ['ignored_input', 'checked', 'raw_input', 'parsed_lines', 'raw_lines', 'raw_file']) {
    const o = objects.find((x) => x.name === name);
    if (o) await s.run(`DROP ${o.kind === 'VIEW' ? 'VIEW' : 'TABLE'} ${name}`);
  }
  if (await s.hasTable('reject_errors')) {
    await s.run('DELETE FROM reject_errors');
    await s.run('DELETE FROM reject_scans');
  }
}

/** A CSV row's file line from its place among the rows read (rowid + 2), shifted past the rejected lines before it. */
function csvLine(rowLine: number, rejected: readonly number[]): number {
  let line = rowLine;
  for (const r of rejected) if (r <= line) line++;
  return line;
}

/** The --catalog ids as a table the checks read. */
async function loadCatalog(s: Session, catalog: ReadonlySet<string> | undefined): Promise<void> {
  if (!catalog) return;
  await s.run('CREATE TABLE catalog_items (id VARCHAR)');
  const app = await s.conn.createAppender('catalog_items');
  for (const id of [...catalog].sort()) {
    app.appendVarchar(id);
    app.endRow();
  }
  app.closeSync();
}

async function runChecks(s: Session, input: InputSpec): Promise<void> {
  const catalog = input.catalog !== undefined;
  await s.step(
    'check rows',
    fill(readSql(INPUTS_DIR, 'validate.sql'), {
      now: String(Math.floor(input.now ?? Date.now() / 1000)),
      types: EVENT_TYPES.map(q).join(', '),
      catalog_check: catalog ? 'item_id NOT IN (SELECT id FROM catalog_items)' : 'false',
    }),
  );
}

/** Rows with a problem (checked) plus the CSV reader's rejected lines. */
async function problemCount(s: Session): Promise<number> {
  const bad = await s.scalar('SELECT count(*) FROM checked WHERE problem IS NOT NULL');
  const hasRejects = await s.hasTable('reject_errors');
  return bad + (hasRejects ? await s.scalar('SELECT count(DISTINCT line) FROM reject_errors') : 0);
}

/** Reports (strict) or counts the rows `checked` names a problem for, and leaves the good ones in input_events. */
async function checkInput(
  s: Session,
  input: InputSpec,
  where: { file: string; place: 'line' | 'row'; rejects: { line: number; message: string }[] },
  summary: BuildSummary,
): Promise<void> {
  const rejectedLines = where.rejects.map((r) => r.line);
  const placeOf = (line: number): string =>
    `${where.file} ${where.place} ${where.place === 'line' && rejectedLines.length ? csvLine(line, rejectedLines) : line}`;
  const problems = await s.rows(`
    SELECT problem, count(*) AS n, min(src_line) AS first_line,
      arg_min(coalesce(CASE problem WHEN 'unknown_type' THEN event_type WHEN 'not_in_catalog' THEN item_id ELSE ts_text END, ''), src_line) AS example
    FROM checked WHERE problem IS NOT NULL GROUP BY problem ORDER BY min(src_line)`);
  const found: { problem: Problem; count: number; place: string; detail: string }[] = problems.map((r) => {
    const problem = r.problem as Problem;
    const example = String(r.example);
    const detail =
      problem === 'unknown_type'
        ? `"${example}"`
        : problem === 'not_in_catalog'
          ? `item "${example}"`
          : problem === 'bad_timestamp' || problem === 'future_timestamp'
            ? `"${example}"`
            : '';
    return { problem, count: Number(r.n), place: placeOf(Number(r.first_line)), detail };
  });
  if (where.rejects.length)
    found.unshift({
      problem: 'malformed',
      count: where.rejects.length,
      place: `${where.file} line ${where.rejects[0].line}`,
      detail: where.rejects[0].message,
    });
  found.sort((a, b) => a.place.localeCompare(b.place, 'en', { numeric: true }));
  if (input.strict && found.length) {
    const f = found[0];
    throw new BuildInputError(
      `${f.place}: ${WHAT[f.problem]}${f.detail ? ` (${f.detail})` : ''}${f.count > 1 ? `; ${f.count} rows have this problem` : ''}. Fix: ${FIX[f.problem]}. (--strict stops at the first bad row; without it such rows are counted and skipped.)`,
    );
  }
  for (const f of found) {
    const prev = summary.skipped[f.problem];
    summary.skipped[f.problem] = { count: (prev?.count ?? 0) + f.count, first: prev?.first ?? `${f.place}${f.detail ? ` (${f.detail})` : ''}` };
  }
  await s.run('CREATE VIEW input_events AS SELECT user_id, item_id, ts, event_type FROM checked WHERE problem IS NULL');
  if (await s.hasTable('ignored_input'))
    for (const r of await s.rows('SELECT what, n FROM ignored_input ORDER BY what')) summary.ignored[String(r.what)] = Number(r.n);
  summary.events = await s.scalar("SELECT count(*) FROM input_events WHERE event_type NOT IN ('search', 'dismiss')");
  summary.purchases = await s.scalar("SELECT count(*) FROM input_events WHERE event_type = 'purchase'");
  if (summary.events === 0) {
    const skipped = Object.values(summary.skipped).reduce((n, x) => n + x.count, 0);
    throw new BuildInputError(
      `${where.file}: no usable event${skipped ? ` (${skipped} rows skipped: ${describeSkipped(summary)})` : ''}. Fix: the build needs at least one view, click, like, add_to_cart or purchase with a user, an item and a timestamp; no asset was written.`,
    );
  }
}

export function describeSkipped(summary: Pick<BuildSummary, 'skipped'>): string {
  return Object.entries(summary.skipped)
    .map(([p, x]) => `${x.count} ${WHAT[p as Problem]} (first: ${x.first})`)
    .join('; ');
}

/** Tables no later file reads, dropped after the step named (DuckDB holds the rest in memory or its temp files). */
const DROP_AFTER: Record<string, string[]> = {
  '03_sequences.sql': ['VIEW events', 'VIEW input_events', 'TABLE checked'],
};

/** Runs the signal files over input_events. */
async function runSignals(s: Session, settings: BuildSettings): Promise<void> {
  for (const file of signalFiles()) {
    if (file.startsWith('08_ease') && settings.easeTop === 0) continue;
    await s.step(file.replace(/\.sql$/, ''), file === '00_params.sql' ? paramsSql(settings) : readSql(SQL_DIR, file));
    for (const what of DROP_AFTER[file] ?? []) await s.run(`DROP ${what}`);
  }
}

/** Streams a query's rows (numbers) chunk by chunk. */
async function eachRow(s: Session, sql: string, onRow: (v: number[]) => void): Promise<void> {
  const result = await s.conn.run(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const cols = Array.from({ length: chunk.columnCount }, (_, c) => chunk.getColumnValues(c));
    for (let r = 0; r < chunk.rowCount; r++) onRow(cols.map((col) => Number(col[r] as number | bigint)));
  }
}

async function readList(
  s: Session,
  table: string,
  rows: number,
  k: number,
): Promise<{ neighbours: Uint32Array; weights: Float32Array; filled: number }> {
  const neighbours = new Uint32Array(rows * k);
  const weights = new Float32Array(rows * k);
  let filled = 0;
  await eachRow(s, `SELECT from_row, nb_rank, to_row, weight FROM ${table} ORDER BY from_row, nb_rank`, ([from, rank, to, w]) => {
    if (rank < 1 || rank > k || from >= rows || to >= rows) throw new Error(`${table}: row ${from} rank ${rank} -> ${to} is out of range`);
    neighbours[from * k + rank - 1] = to;
    weights[from * k + rank - 1] = Math.fround(w);
    filled++;
  });
  return { neighbours, weights, filled };
}

/** EASE over the Gram matrix of 08_ease_gram.sql: B = -P / diag(P), the strongest k per row replace that row's co-visitation list. */
async function easeRows(s: Session, settings: BuildSettings, model: GlobalModel, log: (msg: string) => void): Promise<number> {
  const chosen: number[] = [];
  await eachRow(s, 'SELECT DISTINCT row_i FROM ease_gram ORDER BY row_i', ([r]) => void chosen.push(r));
  const n = chosen.length;
  if (n === 0) return 0;
  const at = new Map(chosen.map((r, i) => [r, i] as const));
  const g = new Float64Array(n * n);
  await eachRow(s, 'SELECT row_i, row_j, users FROM ease_gram ORDER BY row_i, row_j', ([i, j, u]) => {
    g[(at.get(i) as number) * n + (at.get(j) as number)] = u;
  });
  for (let i = 0; i < n; i++) g[i * n + i] += settings.easeLambda;
  const t0 = Date.now();
  invertSpd(g, n);
  log(`EASE: inverted ${n}x${n} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const k = model.k;
  const entries: [number, number][] = [];
  // EASE weights are on another scale than co-visitation's cosine: rescale each row so its strongest weight equals that row's co-visitation maximum
  for (let i = 0; i < n; i++) {
    entries.length = 0;
    for (let j = 0; j < n; j++) if (j !== i && -g[i * n + j] / g[j * n + j] > 0) entries.push([chosen[j], -g[i * n + j] / g[j * n + j]]);
    entries.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    const r = chosen[i];
    const top = entries[0]?.[1] ?? 0;
    const scale = top > 0 ? model.weights[r * k] / top : 0;
    if (!(scale > 0)) continue;
    for (let t = 0; t < k; t++) {
      model.neighbours[r * k + t] = t < entries.length ? entries[t][0] : 0;
      model.weights[r * k + t] = t < entries.length ? Math.fround(entries[t][1] * scale) : 0;
    }
  }
  return n;
}

/** The GlobalModel from the signal tables (items, popularity, covisitation, transitions, bought). */
async function readModel(s: Session, settings: BuildSettings, log: (msg: string) => void): Promise<GlobalModel> {
  const itemIds: string[] = [];
  const idRows = await s.conn.run('SELECT item_row, CAST(item_id AS VARCHAR) AS item_id FROM items ORDER BY item_row');
  for (;;) {
    const chunk = await idRows.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const rowsCol = chunk.getColumnValues(0);
    const ids = chunk.getColumnValues(1);
    for (let r = 0; r < chunk.rowCount; r++) {
      if (Number(rowsCol[r] as number | bigint) !== itemIds.length) throw new Error('items: item_row is not 0..n-1 in order');
      itemIds.push(String(ids[r]));
    }
  }
  const rows = itemIds.length;
  const popularity = new Float32Array(rows);
  await eachRow(s, 'SELECT item_row, popularity FROM popularity ORDER BY item_row', ([r, p]) => {
    popularity[r] = Math.fround(p);
  });
  const k = settings.neighboursK;
  const kt = settings.transitionsK;
  const co = await readList(s, 'covisitation', rows, k);
  const tr = await readList(s, 'transitions', rows, kt);
  const bo = await readList(s, 'bought', rows, settings.boughtK);
  const model: GlobalModel = {
    itemIds,
    rows,
    k,
    neighbours: co.neighbours,
    weights: co.weights,
    kt,
    next: tr.neighbours,
    nextWeights: tr.weights,
    popularity,
    ...(bo.filled > 0 ? { bought: { k: settings.boughtK, neighbours: bo.neighbours, weights: bo.weights } } : {}),
  };
  if (settings.easeTop > 0) {
    const n = await easeRows(s, settings, model, log);
    log(`EASE neighbours for ${n} items (the ${settings.easeTop} most frequent with >= ${settings.easeMinCount} events), co-visitation for the rest`);
  }
  return model;
}

function newSummary(format: Exclude<InputFormat, 'auto'>): BuildSummary {
  return { events: 0, purchases: 0, skipped: {}, ignored: {}, tempBytes: 0, steps: {}, format };
}

/** Builds the global model from a log file (or MovieLens directory). Throws BuildInputError on unusable input. */
export async function buildFromLogs(
  input: InputSpec,
  settings: BuildSettings = DEFAULT_BUILD_SETTINGS,
  engine: EngineOptions = {},
): Promise<BuildResult> {
  const log = engine.log ?? (() => undefined);
  if (!existsSync(input.path))
    throw new BuildInputError(`${resolve(input.path)} not found. Fix: pass an existing CSV, Parquet or JSON Lines file, or a MovieLens directory.`);
  const format = input.format === 'auto' ? detectFormat(input.path) : input.format;
  const { session: s, close } = await openSession(engine);
  try {
    const summary = newSummary(format);
    await loadCatalog(s, input.catalog);
    let where = await readInput(s, input, format, false);
    await runChecks(s, input);
    if (where.place === 'line' && (await problemCount(s)) > 0) {
      // some row has a problem to name by its line: read the file again, in file order
      log('some rows have problems: reading the file again to name their lines');
      await dropInput(s);
      where = await readInput(s, input, format, true);
      await runChecks(s, input);
      where.rejects = await csvRejects(s);
    }
    await checkInput(s, input, where, summary);
    await runSignals(s, settings);
    const model = await readModel(s, settings, log);
    summary.tempBytes = s.tempBytes;
    summary.steps = s.steps;
    return { model, summary };
  } catch (e) {
    if (e instanceof BuildInputError) throw e;
    const msg = (e as Error).message;
    // DuckDB's own reader errors (a broken Parquet file, an unreadable CSV) name the problem; add the file and the fix
    if (/Invalid Input Error|Conversion Error|Parser Error|IO Error|Binder Error/.test(msg) && !/^build setting/.test(msg))
      throw new BuildInputError(
        `${resolve(input.path)}: DuckDB could not read it: ${msg.split('\n')[0]}. Fix: check the file's format (--format ${INPUT_FORMATS.join('|')}) and its columns.`,
      );
    throw e;
  } finally {
    close();
  }
}

/** Builds the global model from interactions held in memory (the evaluation and build:heads): the same SQL files. */
export async function buildFromInteractions(
  interactions: readonly LoggedInteraction[],
  settings: BuildSettings = DEFAULT_BUILD_SETTINGS,
  engine: EngineOptions = {},
): Promise<GlobalModel> {
  const log = engine.log ?? (() => undefined);
  const { session: s, close } = await openSession(engine);
  try {
    await s.run('CREATE TABLE raw_input (src_line BIGINT, user_id VARCHAR, item_id VARCHAR, ts_text VARCHAR, event_type VARCHAR, malformed BOOLEAN)');
    const app = await s.conn.createAppender('raw_input');
    interactions.forEach((x, i) => {
      app.appendBigInt(BigInt(i + 1));
      app.appendVarchar(x.user);
      app.appendVarchar(x.item);
      app.appendVarchar(String(x.timestamp));
      app.appendVarchar(x.type ?? 'view');
      app.appendBoolean(false);
      app.endRow();
    });
    app.closeSync();
    const summary = newSummary('events');
    await runChecks(s, { path: '(interactions)', format: 'events', strict: true, now: Number.MAX_SAFE_INTEGER / 2 });
    await checkInput(
      s,
      { path: '(interactions)', format: 'events', strict: true, now: Number.MAX_SAFE_INTEGER / 2 },
      { file: '(interactions)', place: 'row', rejects: [] },
      summary,
    );
    await runSignals(s, settings);
    return await readModel(s, settings, log);
  } finally {
    close();
  }
}

/** The signal tables a Spark or BigQuery run exported (items, popularity, covisitation, transitions[, bought]) as Parquet or CSV, read into the model. */
export async function modelFromTables(
  dir: string,
  settings: BuildSettings = DEFAULT_BUILD_SETTINGS,
  engine: EngineOptions = {},
): Promise<GlobalModel> {
  const log = engine.log ?? (() => undefined);
  const { session: s, close } = await openSession(engine);
  const COLUMNS: Record<string, string[]> = {
    items: ['item_id', 'n_events', 'item_row'],
    popularity: ['item_row', 'popularity'],
    covisitation: ['from_row', 'to_row', 'nb_rank', 'weight'],
    transitions: ['from_row', 'to_row', 'nb_rank', 'weight'],
    bought: ['from_row', 'to_row', 'nb_rank', 'weight'],
  };
  try {
    for (const [table, cols] of Object.entries(COLUMNS)) {
      const base = join(resolve(dir), table);
      const found = ['.parquet', '.csv', ''].map((ext) => base + ext).find((p) => existsSync(p));
      if (!found) {
        if (table === 'bought') {
          await s.run('CREATE TABLE bought (from_row BIGINT, to_row BIGINT, nb_rank BIGINT, weight DOUBLE)');
          continue;
        }
        throw new BuildInputError(
          `${base}.parquet (or .csv) not found. Fix: export the ${table} table of the SQL build (columns ${cols.join(', ')}) into ${dir}.`,
        );
      }
      // a file, or a folder of part files (what Spark writes)
      const folder = statSync(found).isDirectory();
      const parquet = found.endsWith('.parquet') || (folder && readdirSync(found).some((f) => f.endsWith('.parquet')));
      const files = folder ? join(found, parquet ? '*.parquet' : '*.csv') : found;
      const reader = parquet ? `read_parquet(${q(files)})` : `read_csv(${q(files)}, header = true)`;
      const have = (await s.rows(`DESCRIBE SELECT * FROM ${reader}`)).map((r) => String(r.column_name));
      requireColumns(found, have, cols, cols.join(', '));
      await s.run(`CREATE TABLE ${table} AS SELECT ${cols.join(', ')} FROM ${reader}`);
    }
    const maxK = async (t: string): Promise<number> => s.scalar(`SELECT coalesce(max(nb_rank), 0) FROM ${t}`);
    const k = Math.max(settings.neighboursK, await maxK('covisitation'));
    const kt = Math.max(settings.transitionsK, await maxK('transitions'));
    const kb = Math.max(settings.boughtK, await maxK('bought'));
    return await readModel(s, { ...settings, neighboursK: k, transitionsK: kt, boughtK: kb, easeTop: 0 }, log);
  } finally {
    close();
  }
}

/** A fingerprint of the build (settings and every SQL file), for cache keys of models built in-process. */
export function buildFingerprint(settings: BuildSettings): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(settings));
  for (const f of signalFiles()) h.update(`${f}\n${readSql(SQL_DIR, f)}`);
  h.update(readSql(INPUTS_DIR, 'validate.sql'));
  return h.digest('hex');
}
