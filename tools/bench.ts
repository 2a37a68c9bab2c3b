/**
 * npm run bench [-- --json] [--quick] [--sizes=10000,100000] [--only=kernels,recommend,breakdown,peers,encoder,demo,browsers,sequence]
 *
 * Every compute path side by side in one headless Chromium run (WebGPU through
 * SwiftShader on a machine without a GPU: compare paths as ratios within a run).
 *  environment: user agent, cores, GPU adapter, WGSL features, cross-origin isolation, WASM kernel build;
 *  (a) recommend() through the public API (worker, IndexedDB, global model, heads, MMR)
 *      at 10k / 100k / 1M items, catalog scoring forced to webgpu (WGSL), wasm
 *      (onnxruntime) and js; catalogs built from MovieLens titles, embedded ahead of
 *      time with npm run embed:catalog (cached in .cache/bench); plus the scoring
 *      kernels alone (retrieval step: WGSL with and without dot4I8Packed, the WASM
 *      kernel's SIMD and scalar builds, onnxruntime's MatMulInteger graph, TypeScript);
 *  (a2) one recommend() call broken down (worker spans: scan, candidates, heads, MMR,
 *      reasons; worker messaging = page time - engine time);
 *  (a3) the in-browser peers on the same vectors and queries (demo/bench-peers.ts):
 *      plain JavaScript brute force, @orama/orama, hnswlib-wasm (recall@10, build
 *      time), voy-search, beside the engine's kernel (one query, top 10);
 *  (b) encoder items/s, webgpu and wasm;
 *  (c) track(): events/s persisted, and the longest main-thread time of an API call;
 *  (d) time to first recommendation on the demo (3,000 items), cold and warm vector cache;
 *  (e) memory at 100k items: page + worker JS heap (measureUserAgentSpecificMemory) and the GPU item buffer;
 *  (f) gzip sizes of the script bundles and of each model;
 *  (g) per browser, Chromium, Firefox ESR and WebKitGTK (e2e/browsers.ts drives them): time to the
 *      demo's first slate in a fresh profile, and recommend() p50 / p95 at 10k items on the wasm path;
 *  (h) the behaviour model's run in the worker for a 200-event history (the sequence_model span: the graph only,
 *      no catalog scan), p50 / p95 on wasm and webgpu, and its folder's gzip size for 10k items (tools/bench-sequence.ts).
 * Writes docs/bench-latency.svg (latency against catalog size: recommend() per path and the peers' top-10 query).
 */
import { ORT_FILES } from '../src/runtime/ort-files';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { itemText } from '../src/catalog/validate';
import { DIST, launch, serveStatic } from '../e2e/harness';
import { launchBrowser, type BrowserName } from '../e2e/browsers';
import { loadMovieLens, movieLensCatalog, MOVIELENS_DIR } from './data/movielens';
import { embedCatalog } from './embed-catalog';
import { mulberry32 } from '../src/math/random';
import { benchBreakdown, benchEnvironment, benchKernels, benchPeers, latencyChart, printSideBySide, sideBySideRatios } from './bench-side-by-side';
import type { CatalogItem } from '../src/types';
import { benchSequence, type SequenceBench } from './bench-sequence';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const ROOT = resolve(import.meta.dirname, '..');
const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);
const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const SIZES = arg('sizes')?.split(',').map(Number) ?? (quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000]);
const ONLY = new Set(arg('only')?.split(',') ?? ['kernels', 'recommend', 'breakdown', 'peers', 'encoder', 'demo', 'browsers', 'sequence']);
/** A peer runs at a size only if its build time, projected from the size below (x size ratio, x1.3 for HNSW's log factor), stays under this. */
const PEER_BUILD_BUDGET_MS = 120_000;
const RUNS: Record<number, number> = { 10_000: 30, 100_000: 10, 1_000_000: 3 };

type Latency = { p50_ms: number; p95_ms: number };
const result = {
  recommend: { webgpu: {} as Record<string, Latency>, wasm: {} as Record<string, Latency>, js: {} as Record<string, Latency> },
  environment: {} as Record<string, unknown>,
  /** The scoring kernels alone (retrieval step: scores + top 10 for 4 interest vectors). */
  scoring_kernel: {} as Record<string, Record<string, Latency>>,
  /** One recommend() (wasm path) broken down, ms per call (mean over the runs). */
  breakdown: {} as Record<string, Record<string, number>>,
  /** Top-10 for one query on the same vectors: the engine's kernel and the peers. */
  peers: {} as Record<string, Record<string, unknown>>,
  ratios: {} as Record<string, number | string>,
  similar_p50_ms: {} as Record<string, Record<string, number>>,
  catalog_load_ms: {} as Record<string, Record<string, number>>,
  main_thread: { api_call_max_ms: 0, event_loop_max_gap_ms: 0 },
  encoder: {} as Record<string, { items_per_s: number }>,
  track: { events_per_s: 0, main_thread_max_ms: 0 },
  first_recommendation_ms: { cold: 0, warm: 0 },
  memory_mb: {} as Record<string, number>,
  gzip_kb: {} as Record<string, number>,
  adapter: '',
  /** (g) the same demo and the same 10k-item recommend() in each browser engine. */
  browsers: {} as Record<string, { version: string; first_slate_ms: number; recommend_10k: Latency & { scoring: string } }>,
  /** (h) the behaviour model's graph run in the worker (200-event history), and its folder's size for 10k items. */
  sequence_model: null as SequenceBench | null,
};

/** A catalog of `count` items from MovieLens titles (the real movies first, then variants with two extra words each). */
const WORDS =
  'classic remastered extended directors cut collector edition anniversary special uncut restored deluxe ultimate final original theatrical international version part sequel prequel saga chapter volume episode returns rises begins legacy origins reborn revenge night day city world war love story life death dream dark light fire ice gold silver blood secret lost hidden last first great little big wild free young old new black white red blue green summer winter spring autumn ocean mountain river desert island forest space star planet moon sun galaxy future past time machine ghost monster hero king queen prince princess knight dragon wizard witch magic mystery murder detective spy agent soldier pilot doctor teacher student family brother sister mother father son daughter friend stranger'.split(
    ' ',
  );
function benchCatalog(count: number, movies: CatalogItem[]): CatalogItem[] {
  const rand = mulberry32(7);
  const out: CatalogItem[] = movies.slice(0, Math.min(count, movies.length));
  for (let i = out.length; i < count; i++) {
    const m = movies[i % movies.length];
    const w1 = WORDS[Math.floor(rand() * WORDS.length)];
    const w2 = WORDS[Math.floor(rand() * WORDS.length)];
    out.push({ id: `${m.id}-v${i}`, title: `${m.title} ${w1} ${w2}`, tags: m.tags?.slice(0, 4), category: m.category });
  }
  return out;
}
const movieItems = movieLensCatalog(loadMovieLens(MOVIELENS_DIR));
const CACHE = join(ROOT, '.cache', 'bench-v1');
for (const count of SIZES) {
  const dir = join(CACHE, String(count));
  if (!existsSync(join(dir, 'vectors', 'manifest.json'))) {
    log(`building a ${count}-item catalog and embedding it ahead of time (cached in ${dir})`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'catalog.json'), JSON.stringify(benchCatalog(count, movieItems)));
    await embedCatalog(join(dir, 'catalog.json'), join(dir, 'vectors'));
  }
}
// served from a snapshot of the build: a vite build run meanwhile (another checkout's tests) empties dist/
const SITE = join(ROOT, '.cache', 'bench-site');
rmSync(SITE, { recursive: true, force: true });
cpSync(DIST, SITE, { recursive: true, filter: (src) => !src.startsWith(join(DIST, 'bench-data')) });
symlinkSync(CACHE, join(SITE, 'bench-data'));
const demoIds = (JSON.parse(readFileSync(join(ROOT, 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]).map((it) => it.id);
const clicks = [demoIds[0], demoIds[2], demoIds[5], demoIds[9], demoIds[14], demoIds[20], demoIds[27], demoIds[35]];

const server = await serveStatic(SITE);
const browser = await launch({ webgpu: true });
try {
  const lab = await browser.newPage();
  await lab.goto(new URL('lab.html', server.url).href);
  await lab.waitForFunction(() => document.body.dataset.labReady === 'true');
  result.environment = await benchEnvironment(lab);
  result.adapter = String(result.environment.adapter);
  if (ONLY.has('kernels')) {
    const kernels = await benchKernels(lab, SIZES, RUNS);
    result.scoring_kernel = kernels.rows;
    result.memory_mb.gpu_item_buffer_100k = Math.round((kernels.gpuBytes100k / 2 ** 20) * 10) / 10;
  }
  for (const count of ONLY.has('recommend') ? SIZES : []) {
    for (const path of ['webgpu', 'wasm', 'js'] as const) {
      log(`recommend() on ${path}, ${count} items`);
      const page = await browser.newPage();
      await page.goto(new URL('lab.html', server.url).href);
      await page.waitForFunction(() => document.body.dataset.labReady === 'true');
      const r = await page.evaluate((o) => window.lab.benchRecommend(o), {
        catalogUrl: `bench-data/${count}/catalog.json`,
        vectorsUrl: `bench-data/${count}/vectors/`,
        scoring: path,
        runs: RUNS[count],
        clicks,
        memory: count === 100_000,
      });
      await page.close();
      log(
        `  ${path} ${count}: load ${r.loadMs} ms, recommend p50 ${r.p50_ms} / p95 ${r.p95_ms} ms, scoring ${r.stats.scoring?.path} (${r.stats.scoring?.reason}), main thread max ${r.mainThreadMaxMs} ms, gap ${r.eventLoopMaxGapMs} ms`,
      );
      if (r.stats.scoring?.path !== path) log(`  note: ${path} was requested, ${r.stats.scoring?.path} ran`);
      result.recommend[path][String(count)] = { p50_ms: r.p50_ms, p95_ms: r.p95_ms };
      (result.similar_p50_ms[path] ??= {})[String(count)] = r.similar_p50_ms;
      (result.catalog_load_ms[path] ??= {})[String(count)] = r.loadMs;
      result.main_thread.api_call_max_ms = Math.max(result.main_thread.api_call_max_ms, r.mainThreadMaxMs);
      result.main_thread.event_loop_max_gap_ms = Math.max(result.main_thread.event_loop_max_gap_ms, r.eventLoopMaxGapMs);
      if (r.memoryMb) {
        result.memory_mb[`agent_js_heap_100k_${path}`] = r.memoryMb.total;
        result.memory_mb[`worker_js_heap_100k_${path}`] = r.memoryMb.workers;
      }
      if (path === 'webgpu' && count === 100_000)
        result.memory_mb.gpu_item_buffer_engine_100k = Math.round(((r.stats.scoring?.deviceBytes ?? 0) / 2 ** 20) * 10) / 10;
    }
  }
  if (ONLY.has('breakdown'))
    for (const count of SIZES.filter((s) => s >= 100_000))
      result.breakdown[String(count)] = await benchBreakdown(browser, server.url, count, clicks, RUNS[count] * 3);
  if (ONLY.has('peers')) result.peers = await benchPeers(browser, server.url, SIZES, PEER_BUILD_BUDGET_MS);
  if (ONLY.has('sequence') && existsSync(join(CACHE, '10000', 'catalog.json'))) {
    log('behaviour model in the worker, 200-event history');
    result.sequence_model = await benchSequence(browser, server.url, SITE, CACHE, { runs: quick ? 20 : 60, webgpu: true });
  } else if (ONLY.has('sequence')) log('behaviour model: skipped, the 10k-item catalog is not built (run with 10000 among --sizes)');
  result.ratios = sideBySideRatios(result.scoring_kernel, result.peers);
  const texts = movieLensCatalog(loadMovieLens(MOVIELENS_DIR)).map(itemText);
  const corpus = Array.from({ length: 10_000 }, (_, i) => `${texts[i % texts.length]}${i >= texts.length ? ` ${i}` : ''}`);
  for (const backend of ONLY.has('encoder') ? (['webgpu', 'wasm'] as const) : []) {
    log(`encoder on ${backend}`);
    const r = await lab.evaluate(({ t, b }) => window.lab.benchEncoder(t, b), { t: quick ? corpus.slice(0, 1000) : corpus, b: backend });
    result.encoder[backend] = { items_per_s: Math.round(r.itemsPerSecond) };
  }
  await lab.close();

  // demo: first recommendation cold and warm, track throughput, main-thread time per call
  if (ONLY.has('demo')) {
    const context = await browser.newContext();
    const demo = await context.newPage();
    let t0 = Date.now();
    await demo.goto(server.url);
    await demo.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 300_000 });
    result.first_recommendation_ms.cold = Date.now() - t0;
    t0 = Date.now();
    await demo.reload();
    await demo.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 300_000 });
    result.first_recommendation_ms.warm = Date.now() - t0;
    log('track throughput');
    // a string, so the bundler's name helpers (tsx keeps function names) do not leak into the page
    const track = (await demo.evaluate(`(async () => {
    const ids = [...document.querySelectorAll('[data-item-id]')].map((e) => e.getAttribute('data-item-id'));
    let mainMax = 0;
    const timed = (fn) => {
      const s = performance.now();
      const p = fn();
      mainMax = Math.max(mainMax, performance.now() - s);
      return p;
    };
    const n = 2000;
    const start = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => timed(() => window.__recs.track({ type: 'view', itemId: ids[i % ids.length] }))));
    const seconds = (performance.now() - start) / 1000;
    await timed(() => window.__recs.recommend({ k: 10 }));
    await timed(() => window.__recs.similar(ids[0], 10));
    await timed(() => window.__recs.search('space adventure', 10));
    await timed(() => window.__recs.stats());
    return { eventsPerSecond: n / seconds, mainMax };
  })()`)) as { eventsPerSecond: number; mainMax: number };
    result.track = {
      events_per_s: Math.round(track.eventsPerSecond),
      main_thread_max_ms: Math.max(result.main_thread.api_call_max_ms, Math.round(track.mainMax * 100) / 100),
    };
    await context.close();
  }

  // (g) per browser: first slate on the demo (fresh profile) and recommend() at 10k items, wasm scoring
  const browsers: BrowserName[] = ONLY.has('browsers') ? ['chromium', 'firefox', 'webkit'] : [];
  if (browsers.length && !existsSync(join(CACHE, '10000', 'vectors', 'manifest.json'))) {
    log('per browser: skipped, the 10k-item catalog is not built (run with 10000 among --sizes)');
    browsers.length = 0;
  }
  for (const name of browsers) {
    log(`per browser: ${name}`);
    const other = await launchBrowser(name, { webgpu: false, origins: [server.url] });
    try {
      const ctx = await other.newContext();
      const page = await ctx.open(server.url);
      // measured in the page from its navigation start (the driver's open() returns at the load event)
      const firstSlate = await page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            // no named inner function: tsx's name helper does not exist in the page
            const timer = setInterval(() => {
              if (document.body.dataset.ready !== 'true') return;
              clearInterval(timer);
              resolve(performance.now());
            }, 10);
          }),
      );
      await ctx.close();
      const labContext = await other.newContext();
      const lab = await labContext.open(new URL('lab.html', server.url).href);
      await lab.waitFor('the lab page', () => document.body.dataset.labReady === 'true', undefined, 120_000);
      const r = await lab.evaluate((o) => window.lab.benchRecommend(o), {
        catalogUrl: 'bench-data/10000/catalog.json',
        vectorsUrl: 'bench-data/10000/vectors/',
        scoring: 'wasm' as const,
        runs: RUNS[10_000],
        clicks,
      });
      await labContext.close();
      result.browsers[name] = {
        version: other.version,
        first_slate_ms: Math.round(firstSlate),
        recommend_10k: { p50_ms: r.p50_ms, p95_ms: r.p95_ms, scoring: r.stats.scoring?.path ?? 'unknown' },
      };
      log(
        `  ${other.version}: first slate ${Math.round(firstSlate)} ms, recommend() 10k p50 ${r.p50_ms} / p95 ${r.p95_ms} ms (${r.stats.scoring?.path})`,
      );
    } finally {
      await other.close();
    }
  }
} finally {
  await browser.close();
  await server.close();
}

// gzip sizes
const kb = (bytes: Buffer): number => Math.round((gzipSync(bytes, { level: 9 }).length / 1024) * 10) / 10;
const assets = readdirSync(join(SITE, 'assets'));
const pick = (prefix: string, ext: string): Buffer =>
  Buffer.concat(assets.filter((f) => f.startsWith(prefix) && f.endsWith(ext)).map((f) => readFileSync(join(DIST, 'assets', f))));
result.gzip_kb.page_script = kb(pick('main-', '.js'));
result.gzip_kb.engine_worker = kb(pick('engine.worker-', '.js'));
// the npm package's script-tag bundle and library entry (npm run bench builds lib/ first)
for (const [key, file] of [
  ['embed_js', 'embed.js'],
  ['package_index', 'index.js'],
  ['package_element', 'element.js'],
  ['package_worker', 'engine.worker.js'],
] as const) {
  if (existsSync(join(ROOT, 'lib', file))) result.gzip_kb[key] = kb(readFileSync(join(ROOT, 'lib', file)));
}
result.gzip_kb.onnxruntime_wasm = kb(readFileSync(join(SITE, 'ort', ORT_FILES.wasm[0])));
result.gzip_kb.onnxruntime_webgpu_wasm = kb(readFileSync(join(SITE, 'ort', ORT_FILES.webgpu[0])));
for (const model of readdirSync(join(ROOT, 'public', 'models'))) {
  const dir = join(ROOT, 'public', 'models', model);
  if (!statSync(dir).isDirectory()) continue;
  result.gzip_kb[`model_${model}`] = kb(
    Buffer.concat(
      readdirSync(dir)
        .filter((f) => !f.endsWith('.md'))
        .map((f) => readFileSync(join(dir, f))),
    ),
  );
}

// chart
const paths = ['webgpu', 'wasm', 'js'] as const;
// (only from a run that measured recommend(): a partial --only run leaves the chart alone)
if (ONLY.has('recommend')) {
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  writeFileSync(join(ROOT, 'docs', 'bench-latency.svg'), latencyChart(SIZES, result.recommend, result.peers, result.adapter));
}

console.log(`\nHeadless Chromium, GPU adapter: ${result.adapter}`);
console.log(`environment: ${JSON.stringify(result.environment)}`);
const table = (title: string, data: Record<string, Record<string, Latency>>): void => {
  console.log(`\n${title} (ms, p50 / p95)`);
  console.log(`| path | ${SIZES.map((s) => `${s} items`).join(' | ')} |\n| --- | ${SIZES.map(() => '---').join(' | ')} |`);
  for (const p of paths)
    console.log(
      `| ${p} | ${SIZES.map((s) => (data[p][String(s)] ? `${data[p][String(s)].p50_ms} / ${data[p][String(s)].p95_ms}` : 'n/a')).join(' | ')} |`,
    );
};
table('(a) recommend(), k = 10, through the public API', result.recommend);
printSideBySide(SIZES, result.scoring_kernel, result.breakdown, result.peers, result.ratios);
console.log(`    catalog load ms (setCatalog with ahead-of-time vectors): ${JSON.stringify(result.catalog_load_ms)}`);
console.log(
  `    main thread: longest synchronous API call ${result.main_thread.api_call_max_ms} ms; longest event-loop gap while the engine worked ${result.main_thread.event_loop_max_gap_ms} ms`,
);
console.log(`\n(b) encoder items/s: webgpu ${result.encoder.webgpu?.items_per_s}, wasm ${result.encoder.wasm?.items_per_s}`);
console.log(
  `(c) track: ${result.track.events_per_s} events/s persisted; longest main-thread time of an API call ${result.track.main_thread_max_ms} ms`,
);
console.log(
  `(d) first recommendation (demo, 3,000 items): cold ${result.first_recommendation_ms.cold} ms, warm ${result.first_recommendation_ms.warm} ms`,
);
console.log(`(e) memory MB: ${JSON.stringify(result.memory_mb)}`);
console.log(`(f) gzip KB: ${JSON.stringify(result.gzip_kb)}`);
console.log('\n(g) per browser: demo first slate (fresh profile, ms) and recommend() at 10k items, k = 10, wasm scoring (ms, p50 / p95)');
console.log('| browser | first slate | recommend() 10k p50 / p95 | scoring ran on |\n| --- | --- | --- | --- |');
for (const b of Object.values(result.browsers))
  console.log(`| ${b.version} | ${b.first_slate_ms} | ${b.recommend_10k.p50_ms} / ${b.recommend_10k.p95_ms} | ${b.recommend_10k.scoring} |`);
const sm = result.sequence_model;
if (sm)
  console.log(
    `\n(h) behaviour model in the worker, ${sm.history_events}-event history, no catalog scan (ms, p50 / p95): wasm ${sm.wasm?.p50_ms} / ${sm.wasm?.p95_ms}, webgpu ${sm.webgpu?.p50_ms} / ${sm.webgpu?.p95_ms} (ran on ${sm.webgpu?.backend}); "why this" leave-one-out run (${sm.attribution_rows} batch rows, calls with a slot the model drove): wasm ${JSON.stringify(sm.wasm?.attribution)}, webgpu ${JSON.stringify(sm.webgpu?.attribution)}; model files ${sm.model_gzip_kb} KB gzip for 10,000 items`,
  );
console.log('chart: docs/bench-latency.svg');
if (json) console.log(JSON.stringify(result));
