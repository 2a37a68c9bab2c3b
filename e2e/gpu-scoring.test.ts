/** Catalog scoring + top k on WebGPU (SwiftShader, WGSL) and WASM (onnxruntime) equals the TypeScript twin, ties included. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { itemText } from '../src/catalog';
import type { CatalogItem } from '../src/types';
import { loadNodeEncoder } from '../tools/lib/node-models';
import { DIST, useBrowser } from './harness';

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

test('GPU top k equals CPU top k on 10k random vectors with exact ties and exclusions', async () => {
  for (const [k, queries] of [[10, 1], [32, 4]] as const) {
    const run = await (await lab()).evaluate((o) => window.lab.scoringParity(o), { count: 10_000, dims: 100, queries, k, seed: 3, dupEvery: 7, exclude: [1, 2, 3, 500] });
    assert.ok(run.gpu, `WebGPU adapter available (${run.adapter})`);
    assert.deepEqual(run.gpu.indices, run.js.indices, `k=${k} queries=${queries}`);
    assert.deepEqual(run.gpu.scores, run.js.scores);
    assert.deepEqual(run.wasm.indices, run.js.indices, 'WASM (onnxruntime MatMulInteger + TopK) equals the twin');
    assert.deepEqual(run.wasm.scores, run.js.scores);
    assert.ok(!run.js.indices.some((i) => [1, 2, 3, 500].includes(i)), 'excluded items never returned');
    // duplicated rows produce equal scores: the lower index must come first
    for (let t = 1; t < run.js.scores.length; t++) if (run.js.scores[t] === run.js.scores[t - 1]) assert.ok(run.js.indices[t] > run.js.indices[t - 1]);
  }
});

test('GPU top k equals CPU top k on real data: the demo catalog embedded with the shipped encoder', async () => {
  const catalog = JSON.parse(readFileSync(join(DIST, 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];
  const encoder = await loadNodeEncoder();
  const vectors = await encoder.embed(catalog.map(itemText));
  await encoder.dispose();
  // repeat the catalog to 10k items: repeated movies are exact ties
  const rows = Array.from({ length: 10_000 }, (_, i) => Array.from(vectors[i % vectors.length])).flat();
  const run = await (await lab()).evaluate((o) => window.lab.scoringParity(o), { items: rows, count: 10_000, dims: 100, queries: 3, k: 20, seed: 11 });
  assert.ok(run.gpu);
  assert.deepEqual(run.gpu.indices, run.js.indices);
  assert.deepEqual(run.gpu.scores, run.js.scores);
  assert.deepEqual(run.wasm.indices, run.js.indices);
});
