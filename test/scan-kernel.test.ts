/**
 * The hand-written WASM scan kernel (SIMD and scalar builds) returns exactly the
 * TypeScript twin's top k and scores (ties by the lower item index, exclusions
 * honoured, 0-9 queries, k up to the largest the engine asks for), and so does
 * onnxruntime's MatMulInteger graph; the committed binaries are what
 * tools/build-kernel.ts assembles from its WebAssembly text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { assembleScanKernel, KERNEL_TS, KERNEL_WAT_DIR, scanKernelModule, scanKernelWat } from '../tools/build-kernel';
import { KernelScorer, simdProbe, type ScanKernel } from '../src/candidates/kernel-scoring';
import { quantizeItems, quantizeQueries, scoreQuantized, type QuantizedItems, type QuantizedQueries } from '../src/candidates/quantized-scoring';
import { createCatalogScorer } from '../src/candidates/scorer';
import { WasmScorer } from '../src/candidates/wasm-scoring';
import { topK } from '../src/math/top-k';
import { randomUnitRows as unitRows } from '../support/unit-rows';
import { scanKernelBuild } from '../src/runtime/backend';
import { MAX_K } from '../src/options';
import { itemText } from '../src/catalog/validate';
import type { CatalogItem } from '../src/types';
import { loadNodeEncoder, nodeOrt } from '../support/node-models';

function queriesFor(count: number, dims: number, paddedDims: number, seed: number): QuantizedQueries {
  const q = unitRows(Math.max(1, count), dims, seed);
  return quantizeQueries(
    Array.from({ length: count }, (_, j) => q.subarray(j * dims, (j + 1) * dims)),
    Array.from({ length: count }, (_, j) => 1 - j * 0.15),
    paddedDims,
  );
}

function twin(items: QuantizedItems, queries: QuantizedQueries, k: number, excluded?: Uint8Array): { indices: number[]; scores: number[] } {
  const scores = scoreQuantized(items, queries);
  const indices = topK(scores, k, excluded);
  return { indices, scores: indices.map((i) => scores[i]) };
}

const KERNELS: ScanKernel[] = ['simd', 'scalar'];
/** The largest k the engine asks a scorer for: similar()/search() take 3 k candidates, k at most MAX_K. */
const ENGINE_MAX_K = 3 * MAX_K;

describe('WASM scan kernel', () => {
  test('the committed binaries and text are what tools/build-kernel.ts assembles (npm run build:kernel)', async () => {
    const bytes = await assembleScanKernel();
    assert.equal(readFileSync(KERNEL_TS, 'utf8'), scanKernelModule(bytes), 'src/candidates/scan-kernel-wasm.ts is stale: run npm run build:kernel');
    for (const v of ['simd', 'scalar'] as const)
      assert.equal(readFileSync(join(KERNEL_WAT_DIR, `scan-${v}.wat`), 'utf8'), scanKernelWat(v), `scan-${v}.wat is stale`);
  });

  test('SIMD detection: the probe validates here (Node has WebAssembly SIMD); a module that does not validate means the scalar build', () => {
    assert.equal(scanKernelBuild(simdProbe()), 'simd');
    // an engine without SIMD rejects the probe as invalid, as it rejects this cut-off copy
    assert.equal(scanKernelBuild(simdProbe().slice(0, -3)), 'scalar');
  });

  for (const kernel of KERNELS) {
    test(`${kernel}: equal to the twin on random vectors with exact ties and exclusions, 0-9 queries, k up to ${ENGINE_MAX_K}`, async () => {
      for (const dims of [100, 3, 16, 61]) {
        const count = dims === 100 ? 12_000 : 3000;
        const items = quantizeItems({ count, dims, data: unitRows(count, dims, dims, 7) });
        const scorer = await KernelScorer.create(items, kernel);
        const excluded = new Uint8Array(count);
        for (let i = 0; i < count; i += 11) excluded[i] = 1;
        excluded[1] = excluded[2] = 1;
        for (const q of [0, 1, 2, 3, 4, 5, 9]) {
          const queries = queriesFor(q, dims, items.paddedDims, 100 + q);
          for (const k of [1, 10, 32, 150, ENGINE_MAX_K, count + 5]) {
            for (const mask of [excluded, undefined]) {
              const got = scorer.topK(queries, k, mask);
              const want = twin(items, queries, k, mask);
              const what = `dims ${dims}, ${q} queries, k ${k}, ${mask ? 'with' : 'without'} exclusions`;
              assert.deepEqual(got.indices, want.indices, what);
              assert.deepEqual(got.scores, want.scores, what);
              if (mask) assert.ok(!got.indices.some((i) => mask[i]), `${what}: an excluded item came back`);
            }
          }
        }
      }
    });
  }

  test('ties are broken by the lower item index: 2,000 copies of one row return in index order', async () => {
    const dims = 100;
    const one = unitRows(1, dims, 5);
    const data = new Float32Array(2000 * dims);
    for (let i = 0; i < 2000; i++) data.set(one, i * dims);
    const items = quantizeItems({ count: 2000, dims, data });
    for (const kernel of KERNELS) {
      const got = (await KernelScorer.create(items, kernel)).topK(queriesFor(4, dims, items.paddedDims, 9), 700);
      assert.deepEqual(
        got.indices,
        Array.from({ length: 700 }, (_, i) => i),
      );
      assert.equal(new Set(got.scores).size, 1);
    }
  });

  test('every item excluded, k = 0, an empty catalog: nothing comes back; mismatched dims are refused', async () => {
    const items = quantizeItems({ count: 500, dims: 100, data: unitRows(500, 100, 1) });
    const queries = queriesFor(2, 100, items.paddedDims, 2);
    for (const kernel of KERNELS) {
      const scorer = await KernelScorer.create(items, kernel);
      assert.deepEqual(scorer.topK(queries, 10, new Uint8Array(500).fill(1)), { indices: [], scores: [] });
      assert.deepEqual(scorer.topK(queries, 0), { indices: [], scores: [] });
      // the mask of an earlier call does not leak into the next one
      assert.deepEqual(scorer.topK(queries, 10), twin(items, queries, 10));
      assert.throws(() => scorer.topK(queriesFor(1, 8, 8, 3), 10), /8 dims, the catalog matrix 100/);
      const empty = await KernelScorer.create(quantizeItems({ count: 0, dims: 100, data: new Float32Array(0) }), kernel);
      assert.deepEqual(empty.topK(queries, 10), { indices: [], scores: [] });
    }
  });

  test('the demo catalog embedded with the shipped encoder, repeated (exact ties): kernel builds, onnxruntime and the twin agree', async () => {
    const catalog = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];
    const encoder = await loadNodeEncoder();
    const vectors = await encoder.embed(catalog.map(itemText));
    await encoder.dispose();
    const dims = vectors[0].length;
    const count = 3 * vectors.length;
    const data = new Float32Array(count * dims);
    for (let i = 0; i < count; i++) data.set(vectors[i % vectors.length], i * dims);
    const items = quantizeItems({ count, dims, data });
    const excluded = new Uint8Array(count);
    for (const i of [0, 1, 5, 3000, 4000]) excluded[i] = 1;
    const ort = await WasmScorer.create(await nodeOrt(), items);
    try {
      for (const q of [1, 2, 3, 4]) {
        // interests made of real items, as a profile's are
        const queries = quantizeQueries(
          Array.from({ length: q }, (_, j) => vectors[(j * 37 + 11) % vectors.length]),
          Array.from({ length: q }, (_, j) => Math.sqrt(1 / (j + 1))),
          items.paddedDims,
        );
        for (const k of [10, 32, ENGINE_MAX_K]) {
          const want = twin(items, queries, k, excluded);
          for (const kernel of KERNELS)
            assert.deepEqual((await KernelScorer.create(items, kernel)).topK(queries, k, excluded), want, `${kernel} q=${q} k=${k}`);
          assert.deepEqual(await ort.topK(queries, k, excluded), want, `onnxruntime q=${q} k=${k}`);
        }
      }
    } finally {
      await ort.dispose();
    }
  });

  test("the engine's WASM path is the SIMD kernel; onnxruntime is loaded only when asked for or when the kernel cannot start", async () => {
    const items = quantizeItems({ count: 1000, dims: 100, data: unitRows(1000, 100, 4) });
    let ortLoads = 0;
    const ort = async (): Promise<Awaited<ReturnType<typeof nodeOrt>>> => {
      ortLoads++;
      return nodeOrt();
    };
    const simd = await createCatalogScorer(items, 'wasm', { ort });
    assert.equal(simd.path, 'wasm');
    assert.equal(simd.kernel, 'wasm-simd');
    assert.match(simd.reason, /WASM SIMD kernel/);
    const auto = await createCatalogScorer(items, 'auto', { ort, webgpu: async () => null });
    assert.equal(auto.kernel, 'wasm-simd', auto.reason);
    assert.equal(ortLoads, 0, 'onnxruntime is not fetched for catalog scoring');
    const scalar = await createCatalogScorer(items, 'wasm', { ort, wasmKernel: 'scalar' });
    assert.equal(scalar.kernel, 'wasm-scalar');
    const viaOrt = await createCatalogScorer(items, 'wasm', { ort, wasmKernel: 'onnxruntime' });
    assert.equal(viaOrt.kernel, 'onnxruntime');
    assert.equal(ortLoads, 1);
    const queries = queriesFor(3, 100, items.paddedDims, 8);
    const want = twin(items, queries, 25);
    for (const s of [simd, auto, scalar, viaOrt]) assert.deepEqual(await s.topK(queries, 25), want, s.kernel);
    await viaOrt.dispose();
  });
});

test('a kernel that cannot start (no memory, a CSP without wasm-unsafe-eval): scoring falls back to the twin, reports why and keeps serving', async () => {
  const items = quantizeItems({ count: 800, dims: 100, data: unitRows(800, 100, 12) });
  const queries = queriesFor(2, 100, items.paddedDims, 13);
  const instantiate = WebAssembly.instantiate;
  const refused = (): Promise<never> => Promise.reject(new WebAssembly.CompileError('refused by the page policy'));
  (WebAssembly as { instantiate: unknown }).instantiate = refused;
  const fallbacks: string[] = [];
  try {
    const toJs = await createCatalogScorer(items, 'wasm', { onFallback: (from, to, why) => fallbacks.push(`${from}->${to}: ${why}`) });
    assert.equal(toJs.kernel, 'ts');
    assert.match(toJs.reason, /the WASM kernel failed: refused by the page policy/);
    assert.equal(fallbacks.length, 1);
    assert.match(fallbacks[0], /^wasm->js: the WASM kernel failed/);
    assert.deepEqual(await toJs.topK(queries, 15), twin(items, queries, 15), 'the twin keeps serving the same results');
  } finally {
    (WebAssembly as { instantiate: unknown }).instantiate = instantiate;
  }
});
