/**
 * Pay for what you use: the worker fetches onnxruntime's plain WASM build unless a
 * model runs on WebGPU. In auto mode on a software adapter (SwiftShader here) only
 * ort-wasm-simd-threaded.wasm is fetched; forcing WebGPU fetches the WebGPU build
 * (the asyncify wasm) and nothing of the plain one; the JSEP build is never fetched.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ORT_FILES } from '../src/runtime/ort-files';
import { openDemo, recordRequests, useBrowser } from './harness';

const ortFiles = (urls: string[]): string[] =>
  [...new Set(urls.filter((u) => new URL(u).pathname.includes('/ort/')).map((u) => new URL(u).pathname.split('/').pop() as string))].sort();

describe('onnxruntime build fetched by the worker', () => {
  const env = useBrowser({ webgpu: true });

  test('auto on a software adapter: the plain WASM build only; forced WebGPU: the WebGPU build only', async () => {
    const auto = await env.browser().newContext();
    const autoRequests = recordRequests(auto);
    const page = await openDemo(auto, env.server().url);
    assert.equal(await page.getAttribute('#backend-badge', 'data-backend'), 'wasm');
    assert.deepEqual(ortFiles(autoRequests.map((r) => r.url)), [...ORT_FILES.wasm].sort(), 'auto on SwiftShader fetches the plain WASM build');
    await auto.close();

    const forced = await env.browser().newContext();
    const forcedRequests = recordRequests(forced);
    const gpuPage = await openDemo(forced, `${env.server().url}#backend=webgpu`);
    assert.equal(await gpuPage.getAttribute('#backend-badge', 'data-backend'), 'webgpu');
    const fetched = ortFiles(forcedRequests.map((r) => r.url));
    assert.ok(fetched.includes(ORT_FILES.webgpu[0]), `forcing WebGPU fetches ${ORT_FILES.webgpu[0]} (fetched: ${fetched.join(', ')})`);
    assert.ok(!fetched.includes(ORT_FILES.wasm[0]), `and not the plain build as well (fetched: ${fetched.join(', ')})`);
    assert.ok(!fetched.some((f) => f.includes('jsep')), 'never the JSEP build');
    await forced.close();
  });
});
