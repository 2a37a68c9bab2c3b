/**
 * The bench's in-browser peers (npm run bench), loaded by the lab page only when the
 * bench asks (a lazy chunk; nothing under src/ imports a peer): the same item vectors
 * and queries through the engine's WASM scan kernel, plain JavaScript brute force
 * (float), @orama/orama vector search, hnswlib-wasm (approximate: build time and
 * recall@10) and voy-search. Recall@10 of every row is measured against the float
 * brute force (the engine scores int8 vectors, so its recall is below 1 too).
 */
import { create, insertMultiple, search } from '@orama/orama';
import { loadHnswlib } from 'hnswlib-wasm';
import * as voyGlue from 'voy-search/voy_search_bg.js';
import voyWasmUrl from 'voy-search/voy_search_bg.wasm?url';
import { KernelScorer } from '../src/candidates/kernel-scoring';
import { quantizeItems, quantizeQueries } from '../src/candidates/quantized-scoring';
import { mulberry32 } from '../src/math/random';
import { percentile } from '../support/percentile';

export interface PeerRow {
  /** Query latency over the queries (ms). */
  p50_ms: number;
  p95_ms: number;
  /** Index build time (ms); 0 where nothing is built beyond holding the vectors. */
  build_ms: number;
  /** Mean recall@10 against the float brute force. */
  recall_at_10: number;
  exact: boolean;
}

export type PeerResult = Record<string, PeerRow | { skipped: string }>;

export interface PeerOptions {
  /** Folder of ahead-of-time vectors (manifest.json, vectors.bin: int8 rows). */
  vectorsUrl: string;
  queries: number;
  k: number;
  /** Peers not run at this size, with the reason (the bench decides from the smaller sizes). */
  skip: Record<string, string>;
  /** hnswlib-wasm parameters. */
  hnsw: { m: number; efConstruction: number; efSearch: number };
}

const pct = (times: number[], p: number): number => percentile(times, p, 3);

/** The catalog's unit vectors as the engine loads them (int8 -> float, renormalised). */
async function loadVectors(url: string): Promise<{ count: number; dims: number; data: Float32Array }> {
  const manifest = (await (await fetch(new URL('manifest.json', url))).json()) as { count: number; dims: number };
  const bytes = new Int8Array(await (await fetch(new URL('vectors.bin', url))).arrayBuffer());
  const { count, dims } = manifest;
  const data = new Float32Array(count * dims);
  for (let i = 0; i < count; i++) {
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += (data[i * dims + d] = bytes[i * dims + d] / 127) ** 2;
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < dims; d++) data[i * dims + d] *= inv;
  }
  return { count, dims, data };
}

/** Queries near real items: the mean of two random items' vectors, renormalised. */
function makeQueries(v: { count: number; dims: number; data: Float32Array }, n: number): Float32Array[] {
  const rand = mulberry32(13);
  return Array.from({ length: n }, () => {
    const a = Math.floor(rand() * v.count);
    const b = Math.floor(rand() * v.count);
    const q = new Float32Array(v.dims);
    let norm = 0;
    for (let d = 0; d < v.dims; d++) norm += (q[d] = v.data[a * v.dims + d] + 0.5 * v.data[b * v.dims + d]) ** 2;
    for (let d = 0; d < v.dims; d++) q[d] /= Math.sqrt(norm);
    return q;
  });
}

/** Plain JavaScript brute force over the float vectors (the exact reference); ties by the lower index. */
function bruteForce(v: { count: number; dims: number; data: Float32Array }, q: Float32Array, k: number): number[] {
  const { count, dims, data } = v;
  const best: number[] = [];
  const bestS: number[] = [];
  for (let i = 0, o = 0; i < count; i++, o += dims) {
    let s = 0;
    for (let d = 0; d < dims; d++) s += data[o + d] * q[d];
    if (best.length === k && s <= bestS[k - 1]) continue;
    let p = best.length === k ? k - 1 : best.length;
    while (p > 0 && bestS[p - 1] < s) {
      bestS[p] = bestS[p - 1];
      best[p] = best[p - 1];
      p--;
    }
    bestS[p] = s;
    best[p] = i;
  }
  return best;
}

function recall(got: number[], want: number[]): number {
  const w = new Set(want);
  return got.filter((i) => w.has(i)).length / want.length;
}

async function timed<T>(fn: () => T | Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export async function benchPeers(o: PeerOptions): Promise<{ count: number; dims: number; rows: PeerResult }> {
  const v = await loadVectors(o.vectorsUrl);
  const queries = makeQueries(v, o.queries);
  const rows: PeerResult = {};
  const truth: number[][] = [];
  /** Runs every query (after one warm-up) and records latency and recall. */
  const measure = async (
    name: string,
    build: number,
    exact: boolean,
    run: (q: Float32Array, j: number) => number[] | Promise<number[]>,
  ): Promise<void> => {
    await run(queries[0], 0);
    const times: number[] = [];
    let r = 0;
    for (let j = 0; j < queries.length; j++) {
      const t = await timed(() => run(queries[j], j));
      times.push(t.ms);
      r += recall(t.value, truth[j]);
    }
    rows[name] = {
      p50_ms: pct(times, 0.5),
      p95_ms: pct(times, 0.95),
      build_ms: Math.round(build),
      recall_at_10: Math.round((r / queries.length) * 1000) / 1000,
      exact,
    };
  };
  const attempt = async (name: string, work: () => Promise<void>): Promise<void> => {
    if (o.skip[name]) {
      rows[name] = { skipped: o.skip[name] };
      return;
    }
    try {
      await work();
    } catch (e) {
      rows[name] = { skipped: `failed: ${(e as Error).message}` };
    }
  };

  for (const q of queries) truth.push(bruteForce(v, q, o.k));
  await measure('js_brute_force_float', 0, true, (q) => bruteForce(v, q, o.k));

  await attempt('engine_wasm_simd', async () => {
    const built = await timed(async () => {
      const items = quantizeItems({ count: v.count, dims: v.dims, data: v.data });
      return { items, scorer: await KernelScorer.create(items, 'simd') };
    });
    const { items, scorer } = built.value;
    await measure('engine_wasm_simd', built.ms, true, (q) => scorer.topK(quantizeQueries([q], [1], items.paddedDims), o.k).indices);
    const scalar = await KernelScorer.create(items, 'scalar');
    await measure('engine_wasm_scalar', built.ms, true, (q) => scalar.topK(quantizeQueries([q], [1], items.paddedDims), o.k).indices);
  });

  await attempt('orama', async () => {
    const built = await timed(async () => {
      const db = create({ schema: { embedding: `vector[${v.dims}]` } as const });
      const docs = Array.from({ length: v.count }, (_, i) => ({
        id: String(i),
        embedding: Array.from(v.data.subarray(i * v.dims, (i + 1) * v.dims)),
      }));
      await insertMultiple(db, docs, 5000);
      return db;
    });
    const db = built.value;
    await measure('orama', built.ms, true, async (q) => {
      const res = await search(db, { mode: 'vector', vector: { value: Array.from(q), property: 'embedding' }, similarity: 0.3, limit: o.k });
      return res.hits.map((h) => Number(h.id));
    });
  });

  await attempt('hnswlib_wasm', async () => {
    const lib = await loadHnswlib();
    const built = await timed(() => {
      const index = new lib.HierarchicalNSW('ip', v.dims, '');
      index.initIndex(v.count, o.hnsw.m, o.hnsw.efConstruction, 100);
      for (let i = 0; i < v.count; i++) index.addPoint(v.data.subarray(i * v.dims, (i + 1) * v.dims), i, false);
      index.setEfSearch(o.hnsw.efSearch);
      return index;
    });
    const index = built.value;
    await measure('hnswlib_wasm', built.ms, false, (q) => Array.from(index.searchKnn(q, o.k, undefined).neighbors));
  });

  await attempt('voy_search', async () => {
    const instance = await WebAssembly.instantiateStreaming(fetch(voyWasmUrl), {
      './voy_search_bg.js': voyGlue as unknown as WebAssembly.ModuleImports,
    });
    voyGlue.__wbg_set_wasm(instance.instance.exports);
    const built = await timed(
      () =>
        new voyGlue.Voy({
          embeddings: Array.from({ length: v.count }, (_, i) => ({
            id: String(i),
            title: '',
            url: '',
            embeddings: Array.from(v.data.subarray(i * v.dims, (i + 1) * v.dims)),
          })),
        }),
    );
    const voy = built.value;
    await measure('voy_search', built.ms, true, (q) => voy.search(q, o.k).neighbors.map((n: { id: string }) => Number(n.id)));
  });
  return { count: v.count, dims: v.dims, rows };
}
