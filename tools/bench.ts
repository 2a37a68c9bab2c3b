/**
 * npm run bench [-- --json] [--quick]
 *
 * Every compute path side by side in one headless Chromium run (WebGPU through
 * SwiftShader on a machine without a GPU: compare paths as ratios within a run).
 *  (a) recommend() through the public API (worker, IndexedDB, global model, heads, MMR)
 *      at 10k / 100k / 1M items, catalog scoring forced to webgpu (WGSL), wasm
 *      (onnxruntime) and js; catalogs built from MovieLens titles, embedded ahead of
 *      time with npm run embed:catalog (cached in .cache/bench); plus the scoring
 *      kernels alone (retrieval step) for comparison;
 *  (b) encoder items/s, webgpu and wasm;
 *  (c) track(): events/s persisted, and the longest main-thread time of an API call;
 *  (d) time to first recommendation on the demo (3,000 items), cold and warm vector cache;
 *  (e) memory at 100k items: page + worker JS heap (measureUserAgentSpecificMemory) and the GPU item buffer;
 *  (f) gzip sizes of the script bundles and of each model.
 * Writes docs/bench-latency.svg (latency against catalog size per path).
 */
import { ORT_FILES } from '../src/runtime/ort-files';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { itemText } from '../src/catalog/validate';
import { DIST, launch, serveStatic } from '../e2e/harness';
import { loadMovieLens, movieLensCatalog, MOVIELENS_DIR } from './data/movielens';
import { embedCatalog } from './embed-catalog';
import { mulberry32 } from '../src/math/random';
import type { CatalogItem } from '../src/types';

const json = process.argv.includes('--json');
const quick = process.argv.includes('--quick');
const ROOT = resolve(import.meta.dirname, '..');
const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);
const SIZES = quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
const RUNS: Record<number, number> = { 10_000: 30, 100_000: 10, 1_000_000: 3 };

type Latency = { p50_ms: number; p95_ms: number };
const result = {
  recommend: { webgpu: {} as Record<string, Latency>, wasm: {} as Record<string, Latency>, js: {} as Record<string, Latency> },
  /** The scoring kernels alone (retrieval step: scores + top 10 for 4 interest vectors). */
  scoring_kernel: { webgpu: {} as Record<string, Latency>, wasm: {} as Record<string, Latency>, js: {} as Record<string, Latency> },
  similar_p50_ms: {} as Record<string, Record<string, number>>,
  catalog_load_ms: {} as Record<string, Record<string, number>>,
  main_thread: { api_call_max_ms: 0, event_loop_max_gap_ms: 0 },
  encoder: {} as Record<string, { items_per_s: number }>,
  track: { events_per_s: 0, main_thread_max_ms: 0 },
  first_recommendation_ms: { cold: 0, warm: 0 },
  memory_mb: {} as Record<string, number>,
  gzip_kb: {} as Record<string, number>,
  adapter: '',
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
const served = join(DIST, 'bench-data');
rmSync(served, { recursive: true, force: true });
symlinkSync(CACHE, served);
const demoIds = (JSON.parse(readFileSync(join(ROOT, 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]).map((it) => it.id);
const clicks = [demoIds[0], demoIds[2], demoIds[5], demoIds[9], demoIds[14], demoIds[20], demoIds[27], demoIds[35]];

const server = await serveStatic();
const browser = await launch({ webgpu: true });
try {
  const lab = await browser.newPage();
  await lab.goto(new URL('lab.html', server.url).href);
  await lab.waitForFunction(() => document.body.dataset.labReady === 'true');
  const adapter = await lab.evaluate(() => window.lab.gpuAdapter());
  result.adapter = adapter ? `${adapter.vendor}/${adapter.architecture}` : 'none';
  for (const count of SIZES) {
    log(`scoring kernels alone, ${count} items`);
    const r = await lab.evaluate((o) => window.lab.benchScoring(o), { count, dims: 100, queries: 4, k: 10, runs: RUNS[count] });
    for (const path of ['webgpu', 'wasm', 'js'] as const) if (r[path]) result.scoring_kernel[path][String(count)] = r[path] as Latency;
    if (count === 100_000) result.memory_mb.gpu_item_buffer_100k = Math.round(((r.gpu_item_bytes?.p50_ms ?? 0) / 2 ** 20) * 10) / 10;
  }
  for (const count of SIZES) {
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
  const texts = movieLensCatalog(loadMovieLens(MOVIELENS_DIR)).map(itemText);
  const corpus = Array.from({ length: 10_000 }, (_, i) => `${texts[i % texts.length]}${i >= texts.length ? ` ${i}` : ''}`);
  for (const backend of ['webgpu', 'wasm'] as const) {
    log(`encoder on ${backend}`);
    const r = await lab.evaluate(({ t, b }) => window.lab.benchEncoder(t, b), { t: quick ? corpus.slice(0, 1000) : corpus, b: backend });
    result.encoder[backend] = { items_per_s: Math.round(r.itemsPerSecond) };
  }
  await lab.close();

  // demo: first recommendation cold and warm, track throughput, main-thread time per call
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
} finally {
  await browser.close();
  await server.close();
}

// gzip sizes
const kb = (bytes: Buffer): number => Math.round((gzipSync(bytes, { level: 9 }).length / 1024) * 10) / 10;
const assets = readdirSync(join(DIST, 'assets'));
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
result.gzip_kb.onnxruntime_wasm = kb(readFileSync(join(DIST, 'ort', ORT_FILES.wasm[0])));
result.gzip_kb.onnxruntime_webgpu_wasm = kb(readFileSync(join(DIST, 'ort', ORT_FILES.webgpu[0])));
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
const colors = { webgpu: '#2b8a3e', wasm: '#e67700', js: '#364fc7' };
const W = 560;
const H = 320;
const pad = 56;
const maxMs = Math.max(1, ...paths.flatMap((p) => Object.values(result.recommend[p]).map((v) => v.p50_ms)));
const x = (i: number): number => pad + (i * (W - 2 * pad)) / Math.max(1, SIZES.length - 1);
const y = (ms: number): number => H - pad - (Math.log10(Math.max(0.1, ms) / 0.1) / Math.log10(maxMs / 0.1 || 10)) * (H - 2 * pad);
const lines = paths
  .map((p, pi) => {
    const pts = SIZES.map((s, i) => (result.recommend[p][String(s)] ? `${x(i)},${y(result.recommend[p][String(s)].p50_ms)}` : null)).filter(Boolean);
    return `<polyline fill="none" stroke="${colors[p]}" stroke-width="2.5" points="${pts.join(' ')}"/><text x="${W - pad + 6}" y="${pad + 18 * pi}" fill="${colors[p]}" font-size="13">${p}</text>`;
  })
  .join('\n');
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W + 40}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${pad}" y="24" font-size="14">recommend() p50 ms (log scale) by catalog size and scoring path, ${result.adapter}</text>
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#888"/>
${SIZES.map((s, i) => `<text x="${x(i) - 18}" y="${H - pad + 20}" font-size="12">${s >= 1e6 ? `${s / 1e6}M` : `${s / 1e3}k`}</text>`).join('')}
${[0.1, 1, 10, 100, 1000, 10000]
  .filter((v) => v <= maxMs * 1.5)
  .map((v) => `<text x="8" y="${y(v) + 4}" font-size="11">${v} ms</text>`)
  .join('')}
${lines}
</svg>
`;
mkdirSync(join(ROOT, 'docs'), { recursive: true });
writeFileSync(join(ROOT, 'docs', 'bench-latency.svg'), svg);

console.log(`\nHeadless Chromium, GPU adapter: ${result.adapter}`);
const table = (title: string, data: Record<string, Record<string, Latency>>): void => {
  console.log(`\n${title} (ms, p50 / p95)`);
  console.log(`| path | ${SIZES.map((s) => `${s} items`).join(' | ')} |\n| --- | ${SIZES.map(() => '---').join(' | ')} |`);
  for (const p of paths)
    console.log(
      `| ${p} | ${SIZES.map((s) => (data[p][String(s)] ? `${data[p][String(s)].p50_ms} / ${data[p][String(s)].p95_ms}` : 'n/a')).join(' | ')} |`,
    );
};
table('(a) recommend(), k = 10, through the public API', result.recommend);
table('    scoring kernel alone (retrieval step, 4 interest vectors, top 10)', result.scoring_kernel);
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
console.log('chart: docs/bench-latency.svg');
if (json) console.log(JSON.stringify(result));
