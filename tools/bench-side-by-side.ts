/**
 * The side-by-side parts of npm run bench (tools/bench.ts calls them in its one
 * Chromium run): the environment, the scoring kernels alone, one recommend() call
 * broken down, the in-browser peers on the same vectors and queries, the ratios
 * the README quotes, and the latency chart (docs/bench-latency.svg).
 */
import type { Browser, Page } from 'playwright-core';
import type { PeerResult, PeerRow } from '../demo/bench-peers';

type Latency = { p50_ms: number; p95_ms: number };
const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);
const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;

export const KERNEL_ROWS = ['webgpu', 'webgpu_plain', 'wasm_simd', 'wasm_scalar', 'onnxruntime', 'js'] as const;
export const PEER_ROWS = ['engine_wasm_simd', 'engine_wasm_scalar', 'js_brute_force_float', 'orama', 'hnswlib_wasm', 'voy_search'] as const;

export async function openLab(browser: Browser, serverUrl: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(new URL('lab.html', serverUrl).href);
  await page.waitForFunction(() => document.body.dataset.labReady === 'true');
  return page;
}

export async function benchEnvironment(lab: Page): Promise<Record<string, unknown>> {
  const env = await lab.evaluate(() => window.lab.environment());
  const adapter = await lab.evaluate(() => window.lab.gpuAdapter());
  return { ...env, adapter: adapter ? `${adapter.vendor}/${adapter.architecture}` : 'none', adapter_features: adapter?.features ?? [] };
}

/** The scoring kernels alone: 4 interest vectors, top 10, 50 exclusions. */
export async function benchKernels(
  lab: Page,
  sizes: number[],
  runs: Record<number, number>,
): Promise<{ rows: Record<string, Record<string, Latency>>; gpuBytes100k: number }> {
  const rows: Record<string, Record<string, Latency>> = {};
  let gpuBytes100k = 0;
  for (const count of sizes) {
    log(`scoring kernels alone, ${count} items`);
    const r = await lab.evaluate((o) => window.lab.benchScoring(o), { count, dims: 100, queries: 4, k: 10, runs: runs[count] });
    for (const path of KERNEL_ROWS) if (r[path]) (rows[path] ??= {})[String(count)] = r[path] as Latency;
    if (count === 100_000) gpuBytes100k = r.gpu_item_bytes?.p50_ms ?? 0;
  }
  return { rows, gpuBytes100k };
}

/**
 * One recommend() on the wasm path broken down: the worker records spans (runtime/spans.ts) over
 * `runs` calls; per call: the scan, the exclusion mask, candidate retrieval, content/global scores,
 * heads, MMR, reasons, the rest of the engine (profile, rules, exploration, IndexedDB: the history
 * is read once, then served from memory), and the worker messaging (page time minus engine time).
 */
export async function benchBreakdown(
  browser: Browser,
  serverUrl: string,
  count: number,
  clicks: string[],
  runs: number,
): Promise<Record<string, number>> {
  const page = await openLab(browser, serverUrl);
  try {
    const stats = await page.evaluate((o) => window.lab.openBench(o), {
      catalogUrl: `bench-data/${count}/catalog.json`,
      vectorsUrl: `bench-data/${count}/vectors/`,
      scoring: 'wasm' as const,
      clicks,
    });
    const worker = page.workers().find((w) => w.url().includes('engine.worker'));
    if (!worker) throw new Error('the engine worker is not running');
    type Debug = { __odrDebug: { recordSpans(on: boolean): void; takeSpans(): Record<string, number> } };
    await worker.evaluate(() => (self as unknown as Debug).__odrDebug.recordSpans(true));
    const times = await page.evaluate((n) => window.lab.recommendTimes(n), runs);
    const spans = await worker.evaluate(() => (self as unknown as Debug).__odrDebug.takeSpans());
    await worker.evaluate(() => (self as unknown as Debug).__odrDebug.recordSpans(false));
    const per = (name: string): number => (spans[name] ?? 0) / runs;
    const total = times.reduce((a, b) => a + b, 0) / runs;
    const named = ['scan', 'mask', 'candidates', 'score', 'heads', 'mmr', 'reasons'];
    const out: Record<string, number> = { total_ms: round(total) };
    for (const n of named) out[`${n}_ms`] = round(per(n));
    out.engine_other_ms = round(per('engine') - named.reduce((a, n) => a + per(n), 0));
    out.worker_messaging_ms = round(total - per('engine'));
    log(`  breakdown at ${count} (${stats.scoring?.reason}): ${JSON.stringify(out)}`);
    return out;
  } finally {
    await page.close();
  }
}

/** The peers at each size, in a fresh page each; a peer whose projected build time exceeds the budget is skipped, with the reason. */
export async function benchPeers(
  browser: Browser,
  serverUrl: string,
  sizes: number[],
  buildBudgetMs: number,
): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  let previous: { count: number; rows: PeerResult } | null = null;
  for (const count of sizes) {
    const skip: Record<string, string> = {};
    // orama and voy take each vector as a JS array of numbers in a document object (voy copies it once more into its wasm):
    // at 1M items of 100 dims that is over 0.8 GB of arrays before the index, more than one tab should hold
    if (count > 500_000)
      for (const name of ['orama', 'voy_search'])
        skip[name] =
          `not run: its input is ${count.toLocaleString('en')} JS arrays of numbers (over ${Math.round(((count * 100 * 8) / 1e9) * 10) / 10} GB) before any index`;
    if (previous) {
      for (const name of ['orama', 'hnswlib_wasm', 'voy_search']) {
        if (skip[name]) continue;
        const row = previous.rows[name];
        if (!row || 'skipped' in row) {
          skip[name] = `not run: ${row && 'skipped' in row ? row.skipped : 'no result'} at ${previous.count}`;
          continue;
        }
        const projected = row.build_ms * (count / previous.count) * (name === 'hnswlib_wasm' ? 1.3 : 1);
        if (projected > buildBudgetMs)
          skip[name] =
            `not run: building it at ${previous.count} items took ${(row.build_ms / 1000).toFixed(1)} s, so about ${(projected / 1000).toFixed(0)} s projected here (budget ${buildBudgetMs / 1000} s)`;
      }
    }
    log(`peers at ${count} items${Object.keys(skip).length ? ` (skipping ${Object.keys(skip).join(', ')})` : ''}`);
    const page = await openLab(browser, serverUrl);
    try {
      const r = await page.evaluate((o) => window.lab.benchPeers(o), {
        vectorsUrl: new URL(`bench-data/${count}/vectors/`, serverUrl).href,
        queries: 20,
        k: 10,
        skip,
        hnsw: { m: 16, efConstruction: 100, efSearch: 64 },
      });
      out[String(count)] = r.rows;
      previous = { count, rows: r.rows };
      log(`  ${JSON.stringify(r.rows)}`);
    } finally {
      await page.close();
    }
  }
  return out;
}

/** The ratios the README quotes, at 100,000 items. */
export function sideBySideRatios(
  kernels: Record<string, Record<string, Latency>>,
  peers: Record<string, Record<string, unknown>>,
  size = '100000',
): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  const k = (name: string): number | undefined => kernels[name]?.[size]?.p50_ms;
  const simd = k('wasm_simd');
  if (simd && k('onnxruntime')) out[`onnxruntime_over_wasm_simd_4q_${size}`] = round((k('onnxruntime') as number) / simd, 1);
  if (simd && k('js')) out[`js_over_wasm_simd_4q_${size}`] = round((k('js') as number) / simd, 1);
  const rows = peers[size] as Record<string, PeerRow | { skipped: string }> | undefined;
  const engine = rows?.engine_wasm_simd;
  if (rows && engine && !('skipped' in engine)) {
    for (const name of ['js_brute_force_float', 'orama', 'voy_search', 'hnswlib_wasm']) {
      const row = rows[name];
      out[`${name}_over_engine_1q_${size}`] = !row ? 'n/a' : 'skipped' in row ? row.skipped : round(row.p50_ms / engine.p50_ms, 1);
    }
  }
  return out;
}

export function printSideBySide(
  sizes: number[],
  kernels: Record<string, Record<string, Latency>>,
  breakdown: Record<string, Record<string, number>>,
  peers: Record<string, Record<string, unknown>>,
  ratios: Record<string, number | string>,
): void {
  const cell = (v: Latency | undefined): string => (v ? `${v.p50_ms} / ${v.p95_ms}` : 'n/a');
  console.log(`\n    scoring kernel alone (retrieval step, 4 interest vectors, top 10; ms, p50 / p95)`);
  console.log(`| kernel | ${sizes.map((s) => `${s} items`).join(' | ')} |\n| --- | ${sizes.map(() => '---').join(' | ')} |`);
  for (const p of KERNEL_ROWS) if (kernels[p]) console.log(`| ${p} | ${sizes.map((s) => cell(kernels[p][String(s)])).join(' | ')} |`);
  for (const [size, b] of Object.entries(breakdown))
    console.log(`(a2) one recommend() at ${size} items, wasm path, ms per call: ${JSON.stringify(b)}`);
  console.log(`\n(a3) top 10 for one query on the same vectors (ms p50 / p95; build ms; recall@10 against float brute force)`);
  console.log(`| | ${sizes.map((s) => `${s} items`).join(' | ')} |\n| --- | ${sizes.map(() => '---').join(' | ')} |`);
  for (const p of PEER_ROWS) {
    const cells = sizes.map((s) => {
      const row = peers[String(s)]?.[p] as PeerRow | { skipped: string } | undefined;
      if (!row) return 'n/a';
      if ('skipped' in row) return row.skipped;
      return `${row.p50_ms} / ${row.p95_ms}; build ${row.build_ms}; recall ${row.recall_at_10}`;
    });
    console.log(`| ${p} | ${cells.join(' | ')} |`);
  }
  console.log(`ratios: ${JSON.stringify(ratios)}`);
}

/** docs/bench-latency.svg: recommend() p50 per scoring path and the top-10 query p50 of the kernel and each peer, against catalog size (log scale). */
export function latencyChart(
  sizes: number[],
  recommend: Record<string, Record<string, Latency>>,
  peers: Record<string, Record<string, unknown>>,
  adapter: string,
): string {
  const series: { name: string; color: string; dash: string; points: (number | null)[] }[] = [];
  const recColors: Record<string, string> = { webgpu: '#2b8a3e', wasm: '#e67700', js: '#364fc7' };
  for (const p of ['webgpu', 'wasm', 'js'])
    series.push({ name: `recommend() ${p}`, color: recColors[p], dash: '', points: sizes.map((s) => recommend[p]?.[String(s)]?.p50_ms ?? null) });
  const peerColors: Record<string, string> = {
    engine_wasm_simd: '#e67700',
    js_brute_force_float: '#495057',
    orama: '#c2255c',
    hnswlib_wasm: '#1098ad',
    voy_search: '#7048e8',
  };
  for (const p of Object.keys(peerColors))
    series.push({
      name: `top-10 query: ${p}`,
      color: peerColors[p],
      dash: '6 4',
      points: sizes.map((s) => {
        const row = peers[String(s)]?.[p] as PeerRow | { skipped: string } | undefined;
        return row && !('skipped' in row) ? row.p50_ms : null;
      }),
    });
  const all = series.flatMap((s) => s.points.filter((v): v is number => v !== null));
  const W = 620;
  const H = 360;
  const pad = 56;
  const legend = 230;
  const lo = Math.max(0.01, Math.min(...all, 1) / 2);
  const hi = Math.max(...all, 10) * 1.5;
  const x = (i: number): number => pad + (i * (W - 2 * pad)) / Math.max(1, sizes.length - 1);
  const y = (ms: number): number => H - pad - (Math.log10(Math.max(lo, ms) / lo) / Math.log10(hi / lo)) * (H - 2 * pad);
  const lines = series
    .map((s, si) => {
      const pts = s.points.map((v, i) => (v === null ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`)).filter(Boolean);
      return `<polyline fill="none" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts.join(' ')}"/><text x="${W - pad + 16}" y="${pad + 18 * si}" fill="${s.color}" font-size="12">${s.name}</text>`;
    })
    .join('\n');
  const ticks = [0.01, 0.1, 1, 10, 100, 1000, 10000].filter((v) => v >= lo && v <= hi);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W + legend}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${pad}" y="20" font-size="14">p50 ms (log scale) by catalog size, headless Chromium, GPU adapter ${adapter}</text>
<text x="${pad}" y="38" font-size="12">solid: recommend() through the public API per scoring path; dashed: top 10 for one query, the engine's kernel and the peers</text>
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#888"/>
${sizes.map((s, i) => `<text x="${x(i) - 18}" y="${H - pad + 20}" font-size="12">${s >= 1e6 ? `${s / 1e6}M` : `${s / 1e3}k`}</text>`).join('')}
${ticks.map((v) => `<text x="8" y="${y(v) + 4}" font-size="11">${v} ms</text>`).join('')}
${lines}
</svg>
`;
}
