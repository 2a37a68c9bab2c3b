/**
 * A synthetic site whose structure is real, for measuring the engine at a shop's scale
 * (tools/scale/README.md describes the model and its parameters):
 *
 *   node --import tsx tools/scale/generate.ts [--large] [--items 100000] [--events 10000000]
 *        [--seed 12] [--holdout 500] [--parquet] [--out .cache/scale/<name>] [--force]
 *
 * Every synthetic item is a copy of a real MovieLens movie (data/movielens-latest-small):
 * its title, genres and tags come from the source movie, so the text encoder gives it a
 * meaningful vector; item popularity follows a power law fitted to the real movies'
 * rating counts; visitors' sessions walk the real item-to-item co-occurrence neighbours of
 * the copies' source movies; every visited item is a view, some become clicks, add_to_cart
 * and purchase at funnel rates; a share of the items arrive during the logged period and
 * are never seen before they arrive. The last visited item of `holdout` visitors is kept
 * out of the events (holdout.json) for HR@10.
 *
 * Written to the output folder (cached: a folder whose meta.json has the same parameters is reused):
 *   events.csv      user,item,timestamp,type (seconds; one visitor's events in time order)
 *   events.parquet  the same rows (--parquet, through DuckDB's COPY)
 *   catalog.json    the items (id, title, category, tags, publishedAt)
 *   holdout.json    [{ user, history: [{ item, type, timestamp }], target }]
 *   meta.json       the parameters, counts and the generation time
 * Streams the events to disk (one row buffer at a time), never holding them as objects.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../../src/math/random';
import type { CatalogItem } from '../../src/types';
import { loadMovieLens, movieToItem, MOVIELENS_DIR } from '../data/movielens';

/** Bump when the generated output changes for the same parameters (the cache key includes it). */
export const GENERATOR_VERSION = 1;

export interface ScaleSiteOptions {
  items: number;
  events: number;
  seed: number;
  /** Visitors whose last visited item is held out (holdout.json). */
  holdout: number;
  /** Also write events.parquet (DuckDB COPY). */
  parquet: boolean;
  /** Source of the real structure (a MovieLens directory). */
  movielens: string;
}

export const SCALE_DEFAULTS: ScaleSiteOptions = {
  items: 100_000,
  events: 10_000_000,
  seed: 12,
  holdout: 500,
  parquet: false,
  movielens: MOVIELENS_DIR,
};
export const SCALE_LARGE: Pick<ScaleSiteOptions, 'items' | 'events'> = { items: 1_000_000, events: 100_000_000 };

/** The site model's constants (documented in tools/scale/README.md). */
export const SITE_MODEL = {
  /** The logged period ends here (seconds); it lasts `days`. */
  end: Date.UTC(2026, 10, 1) / 1000,
  days: 180,
  /** Share of items present when the log starts; the rest arrive uniformly over the period. */
  presentAtStart: 0.7,
  /** Funnel: P(click | view), P(add_to_cart | click), P(purchase | add_to_cart). */
  funnel: { click: 0.3, cart: 0.15, purchase: 0.4 },
  /** Within a session: P(next item walks a co-occurrence neighbour of the current one's source movie), else a popularity draw. */
  walk: 0.75,
  /** Within a walk step: P(another copy of the same source movie) instead of a neighbour movie. */
  sameSource: 0.1,
  /** A new session starts from a neighbour of one of the visitor's earlier items with this probability. */
  continuity: 0.6,
  /** Sessions per visitor: 1 + geometric with this continuation probability; items per session likewise. */
  moreSessions: 0.65,
  moreItems: 0.78,
  /** Mean gap between sessions (days); seconds between items of a session (uniform range). */
  sessionGapDays: 3,
  itemGapSeconds: [20, 240] as const,
  /** Real co-occurrence: positions ahead in a MovieLens user's time order that count, and neighbours kept per movie. */
  window: 5,
  neighbours: 30,
  /** Log-normal jitter (sigma) of each copy's popularity around the fitted power law. */
  popularityJitter: 0.35,
};

export interface ScaleSite {
  dir: string;
  eventsCsv: string;
  eventsParquet: string | null;
  catalog: string;
  holdout: string;
  meta: ScaleMeta;
}

export interface ScaleMeta {
  generator: number;
  options: Omit<ScaleSiteOptions, 'movielens'>;
  events: number;
  users: number;
  items: number;
  byType: Record<string, number>;
  /** Items whose first event is after the log started (they arrived later). */
  arrivedLater: number;
  /** The fitted power law of the real movies' popularity: count ~ rank^-exponent. */
  popularityExponent: number;
  generateSeconds: number;
  csvBytes: number;
}

/** Holdout visitor: their history as logged (oldest first) and the item they visited next. */
export interface HoldoutVisitor {
  user: string;
  history: { item: string; type: string; timestamp: number }[];
  target: string;
}

/** Where a site with these parameters is cached. */
export function scaleSiteDir(o: ScaleSiteOptions, root = resolve(import.meta.dirname, '..', '..', '.cache', 'scale')): string {
  const short = (n: number): string => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}m` : n % 1000 === 0 ? `${n / 1000}k` : String(n));
  return join(root, `v${GENERATOR_VERSION}-${short(o.items)}-items-${short(o.events)}-events-seed${o.seed}-holdout${o.holdout}`);
}

/** Vose's alias table: O(1) draws from a discrete distribution. */
class AliasTable {
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;
  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += weights[i];
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      scaled[i] = (weights[i] * n) / sum;
      (scaled[i] < 1 ? small : large).push(i);
    }
    while (small.length && large.length) {
      const s = small.pop() as number;
      const l = large.pop() as number;
      this.prob[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      (scaled[l] < 1 ? small : large).push(l);
    }
    for (const i of [...small, ...large]) this.prob[i] = 1;
  }
  draw(rand: () => number): number {
    const i = Math.floor(rand() * this.prob.length);
    return rand() < this.prob[i] ? i : this.alias[i];
  }
}

/** Least-squares slope of log(count) on log(rank) over the movies with at least 2 ratings (the 1s are a flat floor). */
export function fitPowerLaw(countsDescending: readonly number[]): number {
  const pts = countsDescending.filter((c) => c >= 2).map((c, r) => [Math.log(r + 1), Math.log(c)]);
  const n = pts.length;
  const mx = pts.reduce((s, p) => s + p[0], 0) / n;
  const my = pts.reduce((s, p) => s + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of pts) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  return -sxy / sxx;
}

const EDITIONS =
  'Collector Edition|Special Edition|Remastered|Director Cut|Extended Cut|Anniversary Edition|Deluxe Box|Limited Steelbook|4K Ultra HD|Blu-ray|DVD|Digital HD|Soundtrack Vinyl|Poster|Art Book|T-Shirt|Hoodie|Mug|Figure|Board Game|Novelization|Screenplay|Gift Set|Trilogy Pack|Theatrical Cut|Uncut|Criterion|Signed Print|Lunch Box|Keychain'.split(
    '|',
  );

/** Generates (or reuses the cached) synthetic site. */
export async function generateScaleSite(
  given: Partial<ScaleSiteOptions> = {},
  opts: { dir?: string; force?: boolean; log?: (m: string) => void } = {},
): Promise<ScaleSite> {
  const o: ScaleSiteOptions = { ...SCALE_DEFAULTS, ...given };
  const log = opts.log ?? ((m: string) => void process.stderr.write(`[scale] ${m}\n`));
  const dir = opts.dir ?? scaleSiteDir(o);
  const paths = {
    dir,
    eventsCsv: join(dir, 'events.csv'),
    eventsParquet: o.parquet ? join(dir, 'events.parquet') : null,
    catalog: join(dir, 'catalog.json'),
    holdout: join(dir, 'holdout.json'),
  };
  const { movielens: _source, ...keyed } = o;
  const metaFile = join(dir, 'meta.json');
  if (!opts.force && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as ScaleMeta;
    if (
      meta.generator === GENERATOR_VERSION &&
      JSON.stringify(meta.options) === JSON.stringify(keyed) &&
      (!o.parquet || existsSync(paths.eventsParquet!))
    ) {
      log(`reusing ${dir} (${meta.events} events, ${meta.items} items)`);
      return { ...paths, meta };
    }
  }
  if (!Number.isInteger(o.items) || o.items < 100) throw new Error(`--items ${o.items}: give a whole number of at least 100`);
  if (!Number.isInteger(o.events) || o.events < o.items) throw new Error(`--events ${o.events}: give a whole number at least --items (${o.items})`);
  const t0 = performance.now();
  const M = SITE_MODEL;
  const rand = mulberry32(o.seed);

  // ---- the real structure: popularity and co-occurrence of MovieLens movies
  const ml = loadMovieLens(o.movielens);
  const movieIds = [...new Set(ml.ratings.map((r) => r.movieId))];
  const countOf = new Map<number, number>();
  for (const r of ml.ratings) countOf.set(r.movieId, (countOf.get(r.movieId) ?? 0) + 1);
  movieIds.sort((a, b) => (countOf.get(b) as number) - (countOf.get(a) as number) || a - b);
  const movieRow = new Map(movieIds.map((id, i) => [id, i] as const));
  const R = movieIds.length;
  const exponent = fitPowerLaw(movieIds.map((id) => countOf.get(id) as number));
  // directed co-occurrence: b follows a within `window` positions in a user's time order (1/gap), half as much the other way
  const byUser = new Map<number, { m: number; t: number }[]>();
  for (const r of ml.ratings) {
    const list = byUser.get(r.userId) ?? [];
    list.push({ m: movieRow.get(r.movieId) as number, t: r.timestamp });
    byUser.set(r.userId, list);
  }
  const co: Map<number, number>[] = Array.from({ length: R }, () => new Map());
  for (const list of byUser.values()) {
    list.sort((a, b) => a.t - b.t || a.m - b.m);
    for (let i = 0; i < list.length; i++)
      for (let d = 1; d <= M.window && i + d < list.length; d++) {
        const a = list[i].m;
        const b = list[i + d].m;
        if (a === b) continue;
        co[a].set(b, (co[a].get(b) ?? 0) + 1 / d);
        co[b].set(a, (co[b].get(a) ?? 0) + 0.5 / d);
      }
  }
  const neighbours: { to: Int32Array; cum: Float64Array }[] = co.map((m) => {
    const top = [...m.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, M.neighbours);
    let s = 0;
    return { to: Int32Array.from(top.map((e) => e[0])), cum: Float64Array.from(top.map((e) => (s += e[1]))) };
  });

  // ---- the synthetic items: item of popularity rank r copies the real movie of about the same rank
  const N = o.items;
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const weight = new Float64Array(N);
  const source = new Int32Array(N);
  for (let r = 0; r < N; r++) {
    weight[r] = Math.pow(r + 1, -exponent) * Math.exp(M.popularityJitter * gauss());
    const base = Math.floor((r * R) / N);
    source[r] = Math.min(R - 1, Math.max(0, base + Math.round(gauss() * 3)));
  }
  // ids in a shuffled order, so neither id nor catalog position tells an item's popularity
  const idOf = Int32Array.from({ length: N }, (_, i) => i);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idOf[i], idOf[j]] = [idOf[j], idOf[i]];
  }
  const start = M.end - M.days * 86400;
  const arrival = new Float64Array(N);
  const copies: number[][] = Array.from({ length: R }, () => []);
  for (let r = 0; r < N; r++) copies[source[r]].push(r);
  for (let r = 0; r < N; r++) {
    // the first copy of each movie is there from the start, so a walk always has somewhere to go
    const first = copies[source[r]][0] === r;
    arrival[r] = first || rand() < M.presentAtStart ? start : start + rand() * (M.end - start);
  }
  const copyCum = copies.map((list) => {
    let s = 0;
    return Float64Array.from(list.map((r) => (s += weight[r])));
  });
  const popular = new AliasTable(weight);
  const pickCum = (cum: Float64Array): number => {
    const x = rand() * cum[cum.length - 1];
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  /** An item present at time t: a popularity draw (redrawn while it has not arrived yet). */
  const drawPopular = (t: number): number => {
    for (let tries = 0; tries < 8; tries++) {
      const r = popular.draw(rand);
      if (arrival[r] <= t) return r;
    }
    return copies[source[popular.draw(rand)]][0];
  };
  /** A copy of movie m present at time t, by copy popularity. */
  const drawCopy = (m: number, t: number): number => {
    const list = copies[m];
    if (!list.length) return -1;
    for (let tries = 0; tries < 4; tries++) {
      const r = list[pickCum(copyCum[m])];
      if (arrival[r] <= t) return r;
    }
    return list[0];
  };
  /** One walk step from item r: a co-occurrence neighbour of its source movie (or another copy of it). */
  const walkFrom = (r: number, t: number): number => {
    const m = source[r];
    if (rand() < M.sameSource && copies[m].length > 1) return drawCopy(m, t);
    const nb = neighbours[m];
    for (let tries = 0; tries < 4 && nb.to.length; tries++) {
      const c = drawCopy(nb.to[pickCum(nb.cum)], t);
      if (c >= 0) return c;
    }
    return drawPopular(t);
  };

  // ---- catalog
  mkdirSync(dir, { recursive: true });
  const movieById = new Map(ml.movies.map((m) => [m.movieId, m] as const));
  const items: CatalogItem[] = new Array<CatalogItem>(N);
  for (let r = 0; r < N; r++) {
    const movieId = movieIds[source[r]];
    const item = movieToItem(movieById.get(movieId) ?? { movieId, title: `Movie ${movieId}`, genres: [] }, ml.tags.get(movieId) ?? [], 6);
    const k = copies[source[r]].indexOf(r);
    if (k > 0) item.title = `${item.title} ${EDITIONS[(k - 1) % EDITIONS.length]}${k > EDITIONS.length ? ` ${Math.ceil(k / EDITIONS.length)}` : ''}`;
    item.id = String(idOf[r]);
    item.publishedAt = new Date(arrival[r] * 1000).toISOString();
    items[idOf[r]] = item;
  }
  writeFileSync(paths.catalog, JSON.stringify(items));

  // ---- visitors and their events, streamed to events.csv
  const tmp = `${paths.eventsCsv}.partial`;
  const fd = openSync(tmp, 'w');
  let buf = 'user,item,timestamp,type\n';
  let csvBytes = 0;
  const flush = (): void => {
    csvBytes += writeSync(fd, buf);
    buf = '';
  };
  const byType: Record<string, number> = { view: 0, click: 0, add_to_cart: 0, purchase: 0 };
  const firstSeen = new Float64Array(N).fill(Infinity);
  let events = 0;
  let users = 0;
  const holdout: HoldoutVisitor[] = [];
  // holdout visitors are spread over the run: every `stride`-th visitor with at least 3 visited items
  const expectedUsers = o.events / 16;
  const stride = Math.max(1, Math.floor(expectedUsers / Math.max(1, o.holdout) / 2));
  const visited: number[] = [];
  const visitEvents: { r: number; type: string; t: number }[] = [];
  const emit = (r: number, t: number, type: string): void => void visitEvents.push({ r, type, t });
  let lastProgress = performance.now();
  while (events < o.events) {
    const u = users++;
    visited.length = 0;
    visitEvents.length = 0;
    let t = start + rand() * (M.end - start) * 0.9;
    do {
      let r = visited.length && rand() < M.continuity ? walkFrom(visited[Math.floor(rand() * visited.length)], t) : drawPopular(t);
      do {
        visited.push(r);
        emit(r, t, 'view');
        if (rand() < M.funnel.click) {
          emit(r, t + 5 + rand() * 25, 'click');
          if (rand() < M.funnel.cart) {
            emit(r, t + 40 + rand() * 60, 'add_to_cart');
            if (rand() < M.funnel.purchase) emit(r, t + 120 + rand() * 180, 'purchase');
          }
        }
        t += M.itemGapSeconds[0] + rand() * (M.itemGapSeconds[1] - M.itemGapSeconds[0]) + 300;
        r = rand() < M.walk ? walkFrom(r, t) : drawPopular(t);
      } while (rand() < M.moreItems && t < M.end);
      t += -Math.log(1 - rand()) * M.sessionGapDays * 86400;
    } while (rand() < M.moreSessions && t < M.end);
    // held out: the last visited item (every event about it), when it is new to the visitor
    let keep = visitEvents.length;
    let target = -1;
    if (holdout.length < o.holdout && u % stride === 0 && visited.length >= 4) {
      const last = visited[visited.length - 1];
      if (visited.indexOf(last) === visited.length - 1) {
        target = last;
        keep = visitEvents.findIndex((e) => e.r === last);
      }
    }
    const user = `u${u}`;
    for (let i = 0; i < keep; i++) {
      const e = visitEvents[i];
      const ts = Math.min(M.end - 1, Math.floor(e.t));
      buf += `${user},${idOf[e.r]},${ts},${e.type}\n`;
      byType[e.type]++;
      if (ts < firstSeen[e.r]) firstSeen[e.r] = ts;
      events++;
    }
    if (target >= 0)
      holdout.push({
        user,
        history: visitEvents.slice(0, keep).map((e) => ({ item: String(idOf[e.r]), type: e.type, timestamp: Math.floor(e.t) })),
        target: String(idOf[target]),
      });
    if (buf.length > 1 << 20) flush();
    if (performance.now() - lastProgress > 5000) {
      lastProgress = performance.now();
      log(`${events} / ${o.events} events (${users} visitors)`);
    }
  }
  flush();
  closeSync(fd);
  renameSync(tmp, paths.eventsCsv);
  writeFileSync(paths.holdout, JSON.stringify(holdout));
  if (paths.eventsParquet) await csvToParquet(paths.eventsCsv, paths.eventsParquet);
  let arrivedLater = 0;
  for (let r = 0; r < N; r++) if (arrival[r] > start && firstSeen[r] < Infinity) arrivedLater++;
  const meta: ScaleMeta = {
    generator: GENERATOR_VERSION,
    options: keyed,
    events,
    users,
    items: N,
    byType,
    arrivedLater,
    popularityExponent: Math.round(exponent * 1000) / 1000,
    generateSeconds: Math.round((performance.now() - t0) / 100) / 10,
    csvBytes,
  };
  writeFileSync(metaFile, JSON.stringify(meta, null, 2));
  log(`wrote ${dir}: ${events} events of ${users} visitors on ${N} items in ${meta.generateSeconds} s (${holdout.length} held out)`);
  return { ...paths, meta };
}

/** events.csv -> events.parquet with DuckDB (typed columns, zstd). */
async function csvToParquet(csv: string, parquet: string): Promise<void> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const q = (p: string): string => `'${p.replace(/'/g, "''")}'`;
  rmSync(parquet, { force: true });
  await con.run(
    `COPY (SELECT * FROM read_csv(${q(csv)}, header = true, columns = {'user': 'VARCHAR', 'item': 'VARCHAR', 'timestamp': 'BIGINT', 'type': 'VARCHAR'})) TO ${q(parquet)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  con.closeSync();
  db.closeSync();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const num = (name: string): number | undefined => (flag(name) === undefined ? undefined : Number(flag(name)));
  const large = args.includes('--large') ? SCALE_LARGE : {};
  const given: Partial<ScaleSiteOptions> = { ...large, parquet: args.includes('--parquet') };
  for (const key of ['items', 'events', 'seed', 'holdout'] as const) {
    const v = num(key);
    if (v !== undefined) given[key] = v;
  }
  const out = flag('out');
  const site = await generateScaleSite(given, { dir: out ? resolve(out) : undefined, force: args.includes('--force') });
  console.log(JSON.stringify({ dir: site.dir, ...site.meta }));
}
