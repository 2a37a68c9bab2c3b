/**
 * npm run bench:scale [-- --json] [--large] [--visitors 200] [--skip-build] [--items N --events N]
 *
 * A real site's scale, from its raw event logs to the visitor's device (issue 12): a benchmark
 * that prints figures, never a test.
 *  1. the synthetic site (tools/scale/generate.ts: 100,000 items and 10 million events, or
 *     1M / 100M with --large), generated once and cached under .cache/scale/;
 *  2. the site-side build (npm run build:global's tools/build-global.ts, spawned under
 *     /usr/bin/time -v): wall time, peak RSS, DuckDB temp bytes (peak size of the temp
 *     directory, when the build is the DuckDB one), asset bytes per item raw and gzip;
 *  3. in headless Chromium (e2e/harness.ts: the demo build served with gzip, as a static host
 *     would): visitor bytes before the first recommendation (the encoded bytes of every
 *     request of the page and its worker, the catalog JSON excluded), time to the first
 *     recommendation from navigation start in a fresh profile (cold: nothing cached) and after
 *     a reload (warm: HTTP cache and the IndexedDB vector cache), recommend() p50 / p95, and
 *     HR@10 of the engine on the held-out last items of the synthetic visitors against
 *     popularity (the most frequent items of the logs the visitor has not seen).
 * --json writes one JSON object on the last line. --skip-build reuses the previous asset.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { gzipSync } from 'node:zlib';
import type { Request } from 'playwright-core';
import { launch, serveStatic } from '../e2e/harness';
import { percentile } from '../support/percentile';
import { generateScaleSite, SCALE_LARGE, type HoldoutVisitor, type ScaleSiteOptions } from './scale/generate';
import { SCALE_DATA, SCALE_GLOBAL_MODEL, scaleSiteRoot } from './scale/site';

const ROOT = resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const large = args.includes('--large');
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const log = (m: string): void => void process.stderr.write(`[bench:scale] ${m}\n`);
const VISITORS = Number(flag('visitors') ?? 200);
const K = 10;

const given: Partial<ScaleSiteOptions> = large ? { ...SCALE_LARGE } : {};
if (flag('items')) given.items = Number(flag('items'));
if (flag('events')) given.events = Number(flag('events'));
const site = await generateScaleSite(given, { log });
const items = site.meta.items;

// ---- 2. the site-side build, spawned so its peak RSS is its own
const buildSource = readFileSync(join(ROOT, 'tools', 'build-global.ts'), 'utf8');
const duckdb = /duckdb/i.test(buildSource);
const which = duckdb
  ? 'DuckDB build (tools/build-global.ts on tools/global/duckdb-build.ts)'
  : 'JavaScript build (tools/global/build.ts: every row in memory, dense EASE)';
const out = join(ROOT, '.cache', 'scale-build', `${site.dir.split('/').pop()}`, SCALE_GLOBAL_MODEL);
const tempDir = join(ROOT, '.cache', 'scale-build', 'duckdb-temp');
const build = { which, wall_s: 0, peak_rss_mb: 0, duckdb_temp_mb: null as number | null, exit: 0, skipped: false };
if (args.includes('--skip-build') && existsSync(join(out, 'manifest.json'))) {
  build.skipped = true;
  log(`--skip-build: reusing ${out}`);
} else {
  const tempFlag = duckdb && /--temp-dir/.test(buildSource) ? ['--temp-dir', tempDir] : [];
  rmSync(tempDir, { recursive: true, force: true });
  mkdirSync(tempDir, { recursive: true });
  mkdirSync(join(out, '..'), { recursive: true });
  const cmd = [
    '-v',
    process.execPath,
    '--max-old-space-size=8192',
    '--import',
    'tsx',
    'tools/build-global.ts',
    site.eventsCsv,
    out,
    '--catalog',
    site.catalog,
    ...tempFlag,
  ];
  log(`${which}: /usr/bin/time ${cmd.join(' ')}`);
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', cmd, { cwd: ROOT, stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (
      !/^\s*(Command being timed|User time|System time|Percent|Elapsed|Average|Maximum|Major|Minor|Voluntary|Involuntary|Swaps|File system|Socket|Signals|Page size|Exit status)/m.test(
        c.toString(),
      )
    )
      process.stderr.write(c);
  });
  // DuckDB's spill files: the peak size of the temp directories it may use
  let tempPeak = 0;
  const temps = [tempDir, join(ROOT, '.tmp'), join(out, '..', '.tmp')];
  const poll = setInterval(
    () =>
      (tempPeak = Math.max(
        tempPeak,
        temps.reduce((n, d) => n + folderBytes(d), 0),
      )),
    250,
  );
  build.exit = await new Promise<number>((r) => child.on('close', (code) => r(code ?? 1)));
  clearInterval(poll);
  build.wall_s = Math.round((performance.now() - t0) / 100) / 10;
  build.peak_rss_mb = Math.round(Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? 0) / 1024);
  build.duckdb_temp_mb = duckdb ? Math.round((tempPeak / 2 ** 20) * 10) / 10 : null;
  if (build.exit !== 0) log(`the build failed (exit ${build.exit}); the browser figures use the previous asset if there is one`);
}
if (!existsSync(join(out, 'manifest.json'))) throw new Error(`no global asset at ${out}: the build failed`);
const assetFiles = readdirSync(out).filter((f) => !f.endsWith('.md'));
const raw = assetFiles.reduce((n, f) => n + statSync(join(out, f)).size, 0);
const gz = assetFiles.reduce((n, f) => n + gzipSync(readFileSync(join(out, f)), { level: 6 }).length, 0);
const asset = {
  files: assetFiles.length,
  raw_mb: Math.round((raw / 1e6) * 100) / 100,
  gzip_mb: Math.round((gz / 1e6) * 100) / 100,
  raw_bytes_per_item: Math.round((raw / items) * 10) / 10,
  gzip_bytes_per_item: Math.round((gz / items) * 10) / 10,
};

// ---- popularity baseline (Node): the most frequent items of the logs, minus what the visitor saw
const holdout = (JSON.parse(readFileSync(site.holdout, 'utf8')) as HoldoutVisitor[]).slice(0, VISITORS);
const counts = new Map<string, number>();
const lines = createInterface({ input: createReadStream(site.eventsCsv), crlfDelay: Infinity });
let header = true;
for await (const line of lines) {
  if (header) {
    header = false;
    continue;
  }
  const a = line.indexOf(',');
  const item = line.slice(a + 1, line.indexOf(',', a + 1));
  counts.set(item, (counts.get(item) ?? 0) + 1);
}
const byCount = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([id]) => id);
let popularityHits = 0;
for (const v of holdout) {
  const seen = new Set(v.history.map((e) => e.item));
  const top: string[] = [];
  for (const id of byCount) {
    if (top.length === K) break;
    if (!seen.has(id)) top.push(id);
  }
  if (top.includes(v.target)) popularityHits++;
}

// ---- 3. on the device
const SITE = scaleSiteRoot(join(ROOT, '.cache', 'scale-site'), { globalDir: out, dataDir: site.dir, copy: true });
const server = await serveStatic(SITE, { 'Cache-Control': 'max-age=3600' }, { gzip: true });
const browser = await launch({ webgpu: true });
const device = {
  visitor_bytes: { total_mb: 0, requests: 0, by_file_kb: {} as Record<string, number>, warm_mb: 0 },
  first_recommendation_ms: { cold: 0, warm: 0 },
  catalog_loaded_ms: { cold: 0, warm: 0 },
  report: { cold: {} as Record<string, unknown>, warm: {} as Record<string, unknown> },
  /** When each loading phase was reached (ms from navigation start): encoder loaded, catalog validated, cache read, embedded, ready. */
  phases_ms: { cold: {} as Record<string, number>, warm: {} as Record<string, number> },
  scoring: '',
  encoder: '',
  recommend: { p50_ms: 0, p95_ms: 0, calls: 0 },
  hr10: { engine: 0, popularity: 0, visitors: holdout.length },
  errors: [] as string[],
};
try {
  const context = await browser.newContext();
  const transfers: { url: string; bytes: number }[] = [];
  const pending: Promise<void>[] = [];
  context.on('requestfinished', (r: Request) => {
    pending.push(
      r.sizes().then(
        (s) => void transfers.push({ url: r.url(), bytes: s.responseBodySize + s.responseHeadersSize }),
        () => undefined,
      ),
    );
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => device.errors.push(e.message));
  const open = async (): Promise<Awaited<ReturnType<Window['lab']['openCatalog']>>> => {
    if (page.url().startsWith(server.url)) await page.reload();
    else await page.goto(new URL('lab.html', server.url).href);
    await page.waitForFunction(() => document.body.dataset.labReady === 'true', undefined, { timeout: 120_000 });
    return page.evaluate((o) => window.lab.openCatalog(o), {
      options: { storeName: 'scale', globalModel: SCALE_GLOBAL_MODEL, rankingHeads: 'ranking-heads', exploration: { rate: 0 } },
      catalogUrl: `${SCALE_DATA}/catalog.json`,
      k: K,
    });
  };
  log(`cold: a fresh profile opens the lab page and asks for the first recommendation (${items} items)`);
  const cold = await open();
  await Promise.all(pending);
  const counted = transfers.filter((t) => !t.url.includes(`/${SCALE_DATA}/`));
  device.visitor_bytes.total_mb = Math.round((counted.reduce((n, t) => n + t.bytes, 0) / 1e6) * 100) / 100;
  device.visitor_bytes.requests = counted.length;
  for (const t of counted) {
    const name = new URL(t.url).pathname.replace(/-[A-Za-z0-9_-]{8}\.(js|wasm|css)$/, '.$1');
    device.visitor_bytes.by_file_kb[name] = Math.round((device.visitor_bytes.by_file_kb[name] ?? 0) + t.bytes / 1024);
  }
  device.first_recommendation_ms.cold = cold.firstSlateMs;
  device.catalog_loaded_ms.cold = cold.catalogMs;
  device.report.cold = { ...cold.report, problems: cold.report.problems.length };
  device.phases_ms.cold = phasesOf(cold.timeline);
  transfers.length = 0;
  pending.length = 0;
  log(`warm: the same profile reloads the page`);
  const warm = await open();
  await Promise.all(pending);
  device.visitor_bytes.warm_mb =
    Math.round((transfers.filter((t) => !t.url.includes(`/${SCALE_DATA}/`)).reduce((n, t) => n + t.bytes, 0) / 1e6) * 100) / 100;
  device.first_recommendation_ms.warm = warm.firstSlateMs;
  device.catalog_loaded_ms.warm = warm.catalogMs;
  device.report.warm = { ...warm.report, problems: warm.report.problems.length };
  device.phases_ms.warm = phasesOf(warm.timeline);
  device.scoring = `${warm.stats.scoring?.path} (${warm.stats.scoring?.reason})`;
  device.encoder = `${warm.stats.encoder?.name} on ${warm.stats.encoder?.backend}`;
  for (const e of [...cold.events, ...warm.events]) if (e.type === 'error') device.errors.push(`${e.code}: ${e.message}`);
  log(`HR@${K} on ${holdout.length} held-out visitors (their history tracked, recommend(), deleteData())`);
  const hr = await page.evaluate((o) => window.lab.hitRate(o), { visitors: holdout, k: K });
  device.recommend = { p50_ms: percentile(hr.recommendMs, 0.5), p95_ms: percentile(hr.recommendMs, 0.95), calls: hr.recommendMs.length };
  device.hr10 = {
    engine: Math.round((hr.hits / hr.visitors) * 1000) / 1000,
    popularity: Math.round((popularityHits / holdout.length) * 1000) / 1000,
    visitors: hr.visitors,
  };
  await context.close();
} finally {
  await browser.close();
  await server.close();
}

/** The loading timeline as named points: catalog fetch started, encoder loaded, catalog validated, vector cache read, every item embedded, ready. */
function phasesOf(timeline: { phase: string; done: number; total: number; ms: number }[]): Record<string, number> {
  const at = (phase: string, last: boolean): number | undefined => {
    const hits = timeline.filter((t) => t.phase === phase && (last ? t.done === t.total : t.done === 0));
    return hits.length ? hits[last ? hits.length - 1 : 0].ms : undefined;
  };
  const out: Record<string, number | undefined> = {
    catalog_fetch: at('catalog', false),
    encoder_loaded: at('model', true),
    catalog_validated: at('catalog', true),
    vector_cache_read: at('embed', false),
    embedded: at('embed', true),
    ready: at('ready', true),
  };
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, number] => e[1] !== undefined));
}

function folderBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? folderBytes(p) : e.isFile() ? (statSync(p, { throwIfNoEntry: false })?.size ?? 0) : 0;
  }
  return n;
}

const result = {
  site: {
    dir: site.dir,
    items,
    events: site.meta.events,
    visitors: site.meta.users,
    generate_s: site.meta.generateSeconds,
    csv_mb: Math.round(site.meta.csvBytes / 1e6),
  },
  build,
  asset,
  device,
  load_average: (await import('node:os')).loadavg().map((x) => Math.round(x * 10) / 10),
};
console.log(
  `\nsynthetic site: ${items} items, ${site.meta.events} events of ${site.meta.users} visitors (${site.dir}, generated in ${site.meta.generateSeconds} s)`,
);
console.log(`| figure | value |\n| --- | --- |`);
const row = (k: string, v: string | number): void => console.log(`| ${k} | ${v} |`);
row('build', which);
row('build wall time', build.skipped ? 'skipped (--skip-build)' : `${build.wall_s} s${build.exit ? ` (failed, exit ${build.exit})` : ''}`);
row('build peak RSS', build.skipped ? 'n/a' : `${build.peak_rss_mb} MB`);
row('DuckDB temp', build.skipped ? 'n/a (--skip-build)' : build.duckdb_temp_mb === null ? 'n/a (not a DuckDB build)' : `${build.duckdb_temp_mb} MB`);
row('global asset', `${asset.raw_mb} MB raw, ${asset.gzip_mb} MB gzip: ${asset.raw_bytes_per_item} / ${asset.gzip_bytes_per_item} bytes per item`);
row(
  'visitor bytes before the first recommendation (gzip, catalog excluded)',
  `${device.visitor_bytes.total_mb} MB in ${device.visitor_bytes.requests} requests (warm reload: ${device.visitor_bytes.warm_mb} MB)`,
);
row(
  'first recommendation, cold / warm',
  `${device.first_recommendation_ms.cold} / ${device.first_recommendation_ms.warm} ms (catalog loaded at ${device.catalog_loaded_ms.cold} / ${device.catalog_loaded_ms.warm} ms)`,
);
row('vectors', `cold: ${device.report.cold.embedded} embedded on the device; warm: ${device.report.warm.fromCache} from the IndexedDB cache`);
row('recommend() p50 / p95', `${device.recommend.p50_ms} / ${device.recommend.p95_ms} ms (${device.recommend.calls} calls, ${device.scoring})`);
row(`HR@${K}, engine / popularity`, `${device.hr10.engine} / ${device.hr10.popularity} (${device.hr10.visitors} held-out visitors)`);
row('load average', result.load_average.join(', '));
console.log(`visitor bytes by file (KB): ${JSON.stringify(device.visitor_bytes.by_file_kb)}`);
console.log(`loading phases, ms from navigation start: cold ${JSON.stringify(device.phases_ms.cold)}; warm ${JSON.stringify(device.phases_ms.warm)}`);
if (device.errors.length) console.log(`errors seen: ${device.errors.join(' | ')}`);
if (json) console.log(JSON.stringify(result));
