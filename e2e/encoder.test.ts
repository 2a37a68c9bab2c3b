/**
 * The shipped encoder in Debian Chromium: WebGPU (SwiftShader) and WASM agree
 * with each other and with Node, and the page fetches nothing off-origin.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { loadNodeEncoder } from '../tools/lib/node-models';
import { FIXED_TEXTS } from './fixtures';
import { launch, recordRequests, serveStatic, type StaticServer } from './harness';

let server: StaticServer;
let browser: Browser;
before(async () => {
  server = await serveStatic();
  browser = await launch({ webgpu: true });
});
after(async () => {
  await browser?.close();
  await server?.close();
});

async function openLab(): Promise<{ page: Page; requests: ReturnType<typeof recordRequests> }> {
  const context = await browser.newContext();
  const requests = recordRequests(context);
  const page = await context.newPage();
  await page.goto(new URL('lab.html', server.url).href);
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
  const origin = new URL(server.url).origin;
  assert.ok(requests.length > 0);
  for (const r of requests) assert.equal(new URL(r.url).origin, origin, `request left the origin: ${r.url}`);
  await page.context().close();
});
