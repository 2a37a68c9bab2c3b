/** Catalog scoring + top k on WebGPU (SwiftShader, WGSL) and WASM (onnxruntime) equals the TypeScript twin, ties included. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { itemText } from '../src/catalog/validate';
import type { CatalogItem, EngineEvent, EngineStats } from '../src/types';
import { loadNodeEncoder } from '../support/node-models';
import { DIST, launch, useBrowser } from './harness';

const env = useBrowser({ webgpu: true });
let opened: Promise<Page> | null = null;
/** The lab page, opened on first use (after the browser hook ran). */
function lab(): Promise<Page> {
  opened ??= (async () => {
    const page = await env.browser().newPage();
    await page.goto(new URL('lab.html', env.server().url).href);
    await page.waitForFunction(() => document.body.dataset.labReady === 'true');
    return page;
  })();
  return opened;
}

test('every scoring kernel equals the twin on 10k random vectors with exact ties and exclusions: WGSL (dot4I8Packed and plain), WASM SIMD and scalar kernels, onnxruntime', async () => {
  for (const [k, queries] of [
    [10, 1],
    [32, 4],
    [20, 2],
    [32, 3],
    [500, 4],
    [1500, 2],
  ] as const) {
    const run = await (
      await lab()
    ).evaluate((o) => window.lab.scoringParity(o), { count: 10_000, dims: 100, queries, k, seed: 3, dupEvery: 7, exclude: [1, 2, 3, 500] });
    const what = `k=${k} queries=${queries}`;
    assert.equal(run.kernelBuild, 'simd', 'this Chromium gets the SIMD build of the WASM kernel');
    assert.deepEqual(run.simd, run.js, `WASM SIMD kernel, ${what}`);
    assert.deepEqual(run.scalar, run.js, `scalar WASM kernel, ${what}`);
    assert.deepEqual(run.wasm.indices, run.js.indices, `WASM (onnxruntime MatMulInteger + TopK) equals the twin, ${what}`);
    assert.deepEqual(run.wasm.scores, run.js.scores);
    if (k <= 32) {
      assert.ok(run.gpu && run.gpuPlain, `WebGPU adapter available (${run.adapter})`);
      assert.equal(run.gpuPacked, true, 'WGSL has packed_4x8_integer_dot_product here: the default shader uses dot4I8Packed');
      assert.deepEqual(run.gpu.indices, run.js.indices, `WGSL dot4I8Packed, ${what}`);
      assert.deepEqual(run.gpu.scores, run.js.scores);
      assert.deepEqual(run.gpuPlain, run.js, `WGSL without dot4I8Packed, ${what}`);
    }
    assert.ok(!run.js.indices.some((i) => [1, 2, 3, 500].includes(i)), 'excluded items never returned');
    // duplicated rows produce equal scores: the lower index must come first
    for (let t = 1; t < run.js.scores.length; t++)
      if (run.js.scores[t] === run.js.scores[t - 1]) assert.ok(run.js.indices[t] > run.js.indices[t - 1]);
  }
});

test('GPU top k equals CPU top k on real data: the demo catalog embedded with the shipped encoder', async () => {
  const catalog = JSON.parse(readFileSync(join(DIST, 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];
  const encoder = await loadNodeEncoder();
  const vectors = await encoder.embed(catalog.map(itemText));
  await encoder.dispose();
  // repeat the catalog to 10k items: repeated movies are exact ties
  const rows = Array.from({ length: 10_000 }, (_, i) => Array.from(vectors[i % vectors.length])).flat();
  const run = await (
    await lab()
  ).evaluate((o) => window.lab.scoringParity(o), { items: rows, count: 10_000, dims: 100, queries: 3, k: 20, seed: 11 });
  assert.ok(run.gpu);
  assert.deepEqual(run.gpu.indices, run.js.indices);
  assert.deepEqual(run.gpu.scores, run.js.scores);
  assert.deepEqual(run.gpuPlain, run.js);
  assert.deepEqual(run.simd, run.js);
  assert.deepEqual(run.scalar, run.js);
  assert.deepEqual(run.wasm.indices, run.js.indices);
});

/** Opens a recommender through the public API on a fresh lab page, forcing a scoring path. */
async function openRecs(
  browser: Browser,
  serverUrl: string,
  options: Record<string, unknown>,
): Promise<{ page: Page; opened: { stats: EngineStats; events: EngineEvent[] } }> {
  const page = await browser.newPage();
  await page.goto(new URL('lab.html', serverUrl).href);
  await page.waitForFunction(() => document.body.dataset.labReady === 'true');
  const opened = await page.evaluate((o) => window.lab.open(o), options);
  return { page, opened };
}

const CLICKS = ['356', '318', '296', '593', '2571'];
async function recommendAfterClicks(page: Page): Promise<string[]> {
  return page.evaluate(async (ids) => {
    const recs = window.labRecs!;
    for (const id of ids) await recs.track({ type: 'click', itemId: id });
    return (await recs.recommend({ k: 10 })).map((r) => r.itemId);
  }, CLICKS);
}

test("recommend() returns the same slate whichever scoring path runs (webgpu, wasm, js), with the demo's behaviour model", async () => {
  const slates: Record<string, string[]> = {};
  for (const scoring of ['webgpu', 'wasm', 'js']) {
    const { page, opened } = await openRecs(env.browser(), env.server().url, {
      scoring,
      globalModel: 'global-movielens',
      sequenceModel: 'sequence-movielens',
      backend: 'wasm',
      exploration: { rate: 0 },
    });
    assert.equal(opened.stats.scoring?.path, scoring, `${scoring} runs (${opened.stats.scoring?.reason})`);
    if (scoring === 'wasm') assert.match(opened.stats.scoring?.reason ?? '', /WASM SIMD kernel/, 'the WASM path is the SIMD scan kernel');
    if (scoring === 'webgpu') assert.match(opened.stats.scoring?.reason ?? '', /dot4I8Packed/);
    slates[scoring] = await recommendAfterClicks(page);
    const files = await page.evaluate(() => window.labRecs!.loadedFiles());
    assert.ok(
      files.some((f) => f.endsWith('models/sequence-movielens/model.onnx')),
      `${scoring}: the behaviour model was loaded`,
    );
    const errors = await page.evaluate(() => (window.labEvents ?? []).filter((e) => e.type === 'error'));
    assert.deepEqual(errors, [], `${scoring}: no error event`);
    await page.close();
  }
  assert.equal(slates.webgpu.length, 10);
  assert.deepEqual(slates.wasm, slates.webgpu);
  assert.deepEqual(slates.js, slates.webgpu);
});

test('GPU device lost in the middle of a session: scoring falls back to WASM and keeps serving', async () => {
  const { page, opened } = await openRecs(env.browser(), env.server().url, {
    scoring: 'webgpu',
    globalModel: 'global-movielens',
    backend: 'wasm',
    exploration: { rate: 0 },
  });
  assert.equal(opened.stats.scoring?.path, 'webgpu');
  const before = await recommendAfterClicks(page);
  const worker = page.workers().find((w) => w.url().includes('engine.worker'));
  assert.ok(worker, 'the engine worker is running');
  await worker.evaluate(() => (self as unknown as { __odrDebug: { loseGpu(): void } }).__odrDebug.loseGpu());
  const after = await page.evaluate(async () => (await window.labRecs!.recommend({ k: 10 })).map((r) => r.itemId));
  assert.deepEqual(after, before, 'the same slate, now computed on WASM');
  const state = await page.evaluate(async () => ({ stats: await window.labRecs!.stats(), events: window.labEvents! }));
  assert.equal(state.stats.scoring?.path, 'wasm');
  assert.ok(state.events.some((e) => e.type === 'error' && /GPU device was lost/.test(e.message)));
  await page.close();
});

test('no WebGPU at all: a forced webgpu path falls back to WASM, auto picks WASM, recommendations still come', async () => {
  const browser = await launch({ webgpu: false });
  try {
    for (const scoring of ['webgpu', 'auto']) {
      const { page, opened } = await openRecs(browser, env.server().url, { scoring, retrievalMinItems: 1000, globalModel: 'global-movielens' });
      const hasGpu = await page.evaluate(async () => !!(navigator.gpu && (await navigator.gpu.requestAdapter())));
      assert.equal(hasGpu, false, 'this browser has no WebGPU adapter');
      assert.equal(opened.stats.scoring?.path, 'wasm', `${scoring}: ${opened.stats.scoring?.reason}`);
      if (scoring === 'webgpu')
        assert.ok(opened.events.some((e) => e.type === 'backend' && e.component === 'scoring' && /webgpu unavailable/.test(e.reason)));
      assert.equal((await recommendAfterClicks(page)).length, 10);
      assert.equal(opened.stats.encoder?.backend, 'wasm', 'the encoder runs on WASM too');
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
