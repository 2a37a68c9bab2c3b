/**
 * The shipped models in Debian Chromium: WebGPU (SwiftShader) and WASM agree
 * with each other and with Node, and the page fetches nothing off-origin.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { join } from 'node:path';
import { FEATURE_COUNT, OnnxRankingHeads } from '../src/ranking/heads';
import { fileReader, loadNodeEncoder, MODELS_DIR, nodeOrt } from '../support/node-models';
import { FIXED_TEXTS } from './fixtures';
import { recordRequests, useBrowser } from './harness';

const env = useBrowser({ webgpu: true });

async function openLab(): Promise<{ page: Page; requests: ReturnType<typeof recordRequests> }> {
  const context = await env.browser().newContext();
  const requests = recordRequests(context);
  const page = await context.newPage();
  await page.goto(new URL('lab.html', env.server().url).href);
  await page.waitForFunction(() => document.body.dataset.labReady === 'true');
  return { page, requests };
}

function maxAbsDiff(a: number[][], b: ArrayLike<number>[]): number {
  let m = 0;
  a.forEach((row, i) => row.forEach((x, j) => (m = Math.max(m, Math.abs(x - b[i][j])))));
  return m;
}

test('encoder: WebGPU and WASM in Chromium agree (< 1e-3) and match Node (< 1e-4); no off-origin request', async () => {
  const { page, requests } = await openLab();
  const adapter = await page.evaluate(() => window.lab.gpuAdapter());
  assert.ok(adapter, 'navigator.gpu gives an adapter');
  const gpu = await page.evaluate((texts) => window.lab.embed(texts, 'webgpu'), FIXED_TEXTS);
  const wasm = await page.evaluate((texts) => window.lab.embed(texts, 'wasm'), FIXED_TEXTS);
  assert.equal(gpu.backend, 'webgpu', 'the WebGPU provider actually ran');
  assert.equal(wasm.backend, 'wasm');
  assert.equal(gpu.vectors.length, FIXED_TEXTS.length);
  const gpuVsWasm = maxAbsDiff(gpu.vectors, wasm.vectors);
  assert.ok(gpuVsWasm < 1e-3, `WebGPU vs WASM max abs diff ${gpuVsWasm}`);
  const node = await loadNodeEncoder();
  const nodeVectors = await node.embed(FIXED_TEXTS);
  await node.dispose();
  const browserVsNode = maxAbsDiff(wasm.vectors, nodeVectors);
  assert.ok(browserVsNode < 1e-4, `browser WASM vs Node WASM max abs diff ${browserVsNode}`);
  // non-trivial output: unit vectors except texts with no known word
  const norms = wasm.vectors.map((v) => Math.hypot(...v));
  assert.ok(norms.filter((n) => Math.abs(n - 1) < 1e-4).length >= FIXED_TEXTS.length - 2);
  const origin = new URL(env.server().url).origin;
  assert.ok(requests.length > 0);
  for (const r of requests) assert.equal(new URL(r.url).origin, origin, `request left the origin: ${r.url}`);
  await page.context().close();
});

test('ranking heads: WebGPU and WASM in Chromium agree with Node (WASM) within 1e-3', async () => {
  const { page } = await openLab();
  const rows = 64;
  const features = Array.from({ length: rows * FEATURE_COUNT }, (_, i) => (((i * 2654435761) % 1000) / 1000) * (i % 3 === 0 ? 1 : 0.5));
  const gpu = await page.evaluate(({ f, r }) => window.lab.heads(f, r, 'webgpu'), { f: features, r: rows });
  const wasm = await page.evaluate(({ f, r }) => window.lab.heads(f, r, 'wasm'), { f: features, r: rows });
  assert.equal(gpu.backend, 'webgpu');
  assert.equal(wasm.backend, 'wasm');
  const where = join(MODELS_DIR, 'ranking-heads');
  const heads = await OnnxRankingHeads.create({ ort: await nodeOrt(), reader: fileReader(where), where, backend: 'wasm' });
  const node = await heads.predict(Float32Array.from(features), rows);
  await heads.dispose();
  let maxDiff = 0;
  for (let i = 0; i < rows; i++) {
    for (const [a, b] of [
      [gpu.click[i], node.click[i]],
      [wasm.click[i], node.click[i]],
      [gpu.conversion[i], node.conversion[i]],
      [wasm.conversion[i], node.conversion[i]],
    ])
      maxDiff = Math.max(maxDiff, Math.abs(a - b));
  }
  const diff = (a: number[], b: Float32Array): number => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
  assert.ok(
    maxDiff < 1e-3,
    `max abs diff ${maxDiff} (webgpu click ${diff(gpu.click, node.click)}, wasm click ${diff(wasm.click, node.click)}, webgpu conversion ${diff(gpu.conversion, node.conversion)}, wasm conversion ${diff(wasm.conversion, node.conversion)}); gpu ${gpu.click.slice(0, 3)} node ${Array.from(node.click.slice(0, 3))}`,
  );
  assert.ok(node.click.some((p) => p > 0 && p < 1));
  await page.context().close();
});
