/**
 * The lab page's script: exposes the engine's compute paths to tests and
 * benchmarks as `window.lab`. Same modules as the worker, on the page thread.
 */
import { OnnxSentenceEncoder } from '../src/encoding/encoder';
import { fetchReader } from '../src/runtime/model-files';
import { configureOrt, loadOrt } from '../src/runtime/onnx';
import type { Backend } from '../src/types';
import { OnnxRankingHeads } from '../src/ranking/heads';
import { OnnxSequenceModel, type SequenceEvent } from '../src/ranking/sequence-model';
import { randomUnitRows } from '../support/unit-rows';
import { percentile } from '../support/percentile';
import { quantizeItems, quantizeQueries, scoreQuantized } from '../src/candidates/quantized-scoring';
import { GPU_MAX_K, WebGpuScorer } from '../src/candidates/webgpu-scoring';
import { WasmScorer } from '../src/candidates/wasm-scoring';
import { KernelScorer, simdProbe } from '../src/candidates/kernel-scoring';
import { scanKernelBuild } from '../src/runtime/backend';
import { topK } from '../src/math/top-k';
import type { QuantizedItems, QuantizedQueries } from '../src/candidates/quantized-scoring';
import { createRecommender } from '../src';
import type { CatalogReport, EngineEvent, EngineStats, Recommender, RecommenderOptions, TrackEvent } from '../src/types';
import type { PeerOptions, PeerResult } from './bench-peers';

export interface RecommendBench {
  path: string;
  stats: EngineStats;
  loadMs: number;
  p50_ms: number;
  p95_ms: number;
  similar_p50_ms: number;
  /** Longest synchronous main-thread time of one public API call (its share of the page's thread). */
  mainThreadMaxMs: number;
  /** Longest gap between main-thread ticks while the calls ran (any blocking, incl. response handling). */
  eventLoopMaxGapMs: number;
  /** Whole-agent memory (page + workers) from measureUserAgentSpecificMemory, when available. */
  memoryMb: { total: number; workers: number } | null;
  top: string[];
}

let scorer: Promise<WebGpuScorer | null> | null = null;
/** The shader without dot4I8Packed, for parity against the default (packed) variant. */
let plainScorer: Promise<WebGpuScorer | null> | null = null;

// the lab compares WebGPU with WASM in one page: the WebGPU build of onnxruntime serves both providers
configureOrt(new URL('ort/', document.baseURI).href);
const ortBuild = loadOrt('webgpu');

const encoders = new Map<string, Promise<OnnxSentenceEncoder>>();

function encoder(backend: 'webgpu' | 'wasm', name = 'glove-sif-100d'): Promise<OnnxSentenceEncoder> {
  const key = `${backend}:${name}`;
  let e = encoders.get(key);
  if (!e) {
    const folder = new URL(`models/${name}/`, document.baseURI).href;
    e = ortBuild.then((ort) => OnnxSentenceEncoder.create({ ort, reader: fetchReader(folder), where: folder, backend }));
    encoders.set(key, e);
  }
  return e;
}

const headsByBackend = new Map<string, Promise<OnnxRankingHeads>>();
function heads(backend: 'webgpu' | 'wasm'): Promise<OnnxRankingHeads> {
  let h = headsByBackend.get(backend);
  if (!h) {
    const folder = new URL('models/ranking-heads/', document.baseURI).href;
    h = ortBuild.then((ort) => OnnxRankingHeads.create({ ort, reader: fetchReader(folder), where: folder, backend }));
    headsByBackend.set(backend, h);
  }
  return h;
}

export interface ScoringRun {
  /** The WebGPU shader this browser gets by default (dot4I8Packed where WGSL has it). */
  gpu: { indices: number[]; scores: number[] } | null;
  /** The shader variant without dot4I8Packed. */
  gpuPlain: { indices: number[]; scores: number[] } | null;
  /** Whether `gpu` ran the dot4I8Packed variant. */
  gpuPacked: boolean;
  /** The hand-written WASM scan kernel, both builds. */
  simd: { indices: number[]; scores: number[] };
  scalar: { indices: number[]; scores: number[] };
  /** The kernel build this browser gets (scanKernelBuild). */
  kernelBuild: string | null;
  wasm: { indices: number[]; scores: number[] };
  js: { indices: number[]; scores: number[] };
  adapter: string;
}

export interface Lab {
  /** Starts a recommender through the public API (kept as window.labRecs) and loads the demo catalog; resolves with the events seen. */
  open(options: RecommenderOptions): Promise<{ report: CatalogReport; stats: EngineStats; events: EngineEvent[] }>;
  /** recommend() through the public API (worker, store, models) on a catalog served with ahead-of-time vectors. */
  benchRecommend(options: {
    catalogUrl: string;
    vectorsUrl: string;
    scoring: 'webgpu' | 'wasm' | 'js';
    runs: number;
    clicks: string[];
    memory?: boolean;
  }): Promise<RecommendBench>;
  /** Latency of scoring + top k over `count` items for `queries` interest vectors, per path. */
  benchScoring(options: {
    count: number;
    dims: number;
    queries: number;
    k: number;
    runs: number;
  }): Promise<Record<string, { p50_ms: number; p95_ms: number } | null>>;
  /** Scores `items` random (or given) unit vectors against `queries` on WebGPU and with the TypeScript twin. */
  scoringParity(options: {
    items?: number[];
    count: number;
    dims: number;
    queries: number;
    k: number;
    seed: number;
    dupEvery?: number;
    exclude?: number[];
  }): Promise<ScoringRun>;
  heads(features: number[], rows: number, backend: 'webgpu' | 'wasm'): Promise<{ backend: Backend; click: number[]; conversion: number[] }>;
  /** A behaviour model folder given as bytes, on one backend: its user and conversion states for each history, and its leave-one-out rows (one batched run each). */
  sequenceStates(options: {
    files: Record<string, number[]>;
    catalogIds: string[];
    vectors: number[];
    textDims: number;
    encoderHash: string;
    histories: SequenceEvent[][];
    backend: 'webgpu' | 'wasm';
  }): Promise<{
    backend: Backend;
    states: { userState: number[]; conversionState: number[] }[];
    attributions: { itemIds: string[]; states: number[] }[];
  }>;
  /** The bench's peers on the same vectors and queries (demo/bench-peers.ts, loaded on first use). */
  benchPeers(options: PeerOptions): Promise<{ count: number; dims: number; rows: PeerResult }>;
  /** A recommender on a bench catalog, with clicks tracked and one warm-up call (kept as window.labRecs), for the breakdown. */
  openBench(options: { catalogUrl: string; vectorsUrl: string; scoring: 'webgpu' | 'wasm' | 'js'; clicks: string[] }): Promise<EngineStats>;
  /** `runs` recommend() calls on window.labRecs: the page-side time of each. */
  recommendTimes(runs: number): Promise<number[]>;
  /**
   * A recommender with `options` on any catalog (kept as window.labRecs): setCatalog(catalogUrl, vectors), then the
   * first slate of k; times are from the page's navigation start (tools/bench-scale.ts, e2e/scale.test.ts).
   */
  openCatalog(o: { options: RecommenderOptions; catalogUrl: string; vectorsUrl?: string; k?: number }): Promise<{
    report: CatalogReport;
    stats: EngineStats;
    events: EngineEvent[];
    /** Each progress event: its phase, done / total, and when it came (ms from navigation start). */
    timeline: { phase: string; done: number; total: number; ms: number }[];
    slate: string[];
    catalogMs: number;
    firstSlateMs: number;
  }>;
  /**
   * On window.labRecs, per visitor: their history tracked (timestamps shifted to end a minute ago), recommend({ k }),
   * whether the target is in it and the call's time; deleteData() before each visitor (the catalog stays loaded).
   */
  hitRate(o: {
    visitors: { history: { item: string; type: string; timestamp: number }[]; target: string }[];
    k: number;
  }): Promise<{ hits: number; visitors: number; recommendMs: number[] }>;
  /** What the bench reports about this browser. */
  environment(): Promise<{ userAgent: string; cores: number; crossOriginIsolated: boolean; kernelBuild: string | null; wgslFeatures: string[] }>;
  gpuAdapter(): Promise<{ vendor: string; architecture: string; features: string[] } | null>;
  embed(texts: string[], backend: 'webgpu' | 'wasm'): Promise<{ backend: Backend; vectors: number[][] }>;
  benchEncoder(
    texts: string[],
    backend: 'webgpu' | 'wasm',
    batchSize?: number,
  ): Promise<{ backend: Backend; items: number; seconds: number; itemsPerSecond: number }>;
}

const lab: Lab = {
  async open(options) {
    const events: EngineEvent[] = [];
    const recs = createRecommender({ storeName: `lab-${Date.now()}`, ...options });
    recs.on((e) => events.push(e));
    window.labRecs = recs;
    window.labEvents = events;
    const report = await recs.setCatalog('catalog/movielens-demo.json');
    return { report, stats: await recs.stats(), events };
  },
  async benchRecommend({ catalogUrl, vectorsUrl, scoring, runs, clicks, memory }) {
    const recs = createRecommender({
      scoring,
      storeName: `bench-${scoring}-${Date.now()}`,
      globalModel: 'global-movielens',
      rankingHeads: 'ranking-heads',
      backend: 'wasm',
    });
    let mainMax = 0;
    const timed = <T>(fn: () => Promise<T>): Promise<T> => {
      const s = performance.now();
      const p = fn();
      mainMax = Math.max(mainMax, performance.now() - s);
      return p;
    };
    // event-loop probe: the longest gap between main-thread ticks while the engine works
    let gapMax = 0;
    let probing = true;
    const channel = new MessageChannel();
    let last = performance.now();
    channel.port1.onmessage = () => {
      const now = performance.now();
      gapMax = Math.max(gapMax, now - last);
      last = now;
      if (probing) setTimeout(() => channel.port2.postMessage(0), 0);
    };
    const t0 = performance.now();
    await timed(() => recs.setCatalog(catalogUrl, { vectors: vectorsUrl }));
    const loadMs = performance.now() - t0;
    last = performance.now();
    channel.port2.postMessage(0);
    for (const id of clicks) await timed(() => recs.track({ type: 'click', itemId: id }));
    const times: number[] = [];
    let top: string[] = [];
    await timed(() => recs.recommend({ k: 10 })); // warm-up
    for (let r = 0; r < runs; r++) {
      const s = performance.now();
      const out = await timed(() => recs.recommend({ k: 10 }));
      times.push(performance.now() - s);
      top = out.map((x) => x.itemId);
    }
    const simTimes: number[] = [];
    for (let r = 0; r < Math.min(runs, 10); r++) {
      const s = performance.now();
      await timed(() => recs.similar(clicks[r % clicks.length], 10));
      simTimes.push(performance.now() - s);
    }
    await timed(() => recs.search('space adventure', 10));
    const stats = await timed(() => recs.stats());
    probing = false;
    let memoryMb: RecommendBench['memoryMb'] = null;
    const measure = (
      performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number; breakdown: { bytes: number; types: string[] }[] }> }
    ).measureUserAgentSpecificMemory;
    if (memory && measure && crossOriginIsolated) {
      const m = await measure.call(performance);
      type Entry = { bytes: number; attribution?: { scope?: string }[] };
      const workers = (m.breakdown as Entry[])
        .filter((b) => b.attribution?.some((a) => /Worker/i.test(a.scope ?? '')))
        .reduce((n, b) => n + b.bytes, 0);
      memoryMb = { total: Math.round(m.bytes / 2 ** 20), workers: Math.round(workers / 2 ** 20) };
    }
    await recs.deleteData();
    await recs.close();
    return {
      path: scoring,
      stats,
      loadMs: Math.round(loadMs),
      p50_ms: percentile(times, 0.5),
      p95_ms: percentile(times, 0.95),
      similar_p50_ms: percentile(simTimes, 0.5),
      mainThreadMaxMs: Math.round(mainMax * 100) / 100,
      eventLoopMaxGapMs: Math.round(gapMax * 100) / 100,
      memoryMb,
      top,
    };
  },
  async scoringParity({ items, count, dims, queries, k, seed, dupEvery = 0, exclude = [] }) {
    const data = items ? Float32Array.from(items) : randomUnitRows(count, dims, seed, dupEvery);
    const q = randomUnitRows(queries, dims, seed + 1);
    const matrix = { count, dims, data };
    const qItems = quantizeItems(matrix);
    const qQueries = quantizeQueries(
      Array.from({ length: queries }, (_, j) => q.subarray(j * dims, (j + 1) * dims)),
      Array.from({ length: queries }, (_, j) => 1 - j * 0.2),
      qItems.paddedDims,
    );
    const excluded = new Uint8Array(count);
    for (const e of exclude) excluded[e] = 1;
    const scores = scoreQuantized(qItems, qQueries);
    const jsTop = topK(scores, k, excluded);
    scorer ??= WebGpuScorer.create();
    const gpuScorer = await scorer;
    let gpu: ScoringRun['gpu'] = null;
    let gpuPlain: ScoringRun['gpuPlain'] = null;
    // the shader selects at most GPU_MAX_K (the engine answers larger k with the twin)
    if (gpuScorer && k <= GPU_MAX_K) {
      gpuScorer.upload(qItems);
      gpu = await gpuScorer.topK(qQueries, k, excluded);
      plainScorer ??= WebGpuScorer.create({ packedDot: false });
      const plain = await plainScorer;
      if (plain) {
        plain.upload(qItems);
        gpuPlain = await plain.topK(qQueries, k, excluded);
      }
    }
    const wasmScorer = await WasmScorer.create(await ortBuild, qItems);
    const wasm = await wasmScorer.topK(qQueries, k, excluded);
    await wasmScorer.dispose();
    const simd = (await KernelScorer.create(qItems, 'simd')).topK(qQueries, k, excluded);
    const scalar = (await KernelScorer.create(qItems, 'scalar')).topK(qQueries, k, excluded);
    return {
      gpu,
      gpuPlain,
      gpuPacked: gpuScorer?.packedDot ?? false,
      simd,
      scalar,
      kernelBuild: scanKernelBuild(simdProbe()),
      wasm,
      js: { indices: jsTop, scores: jsTop.map((i) => scores[i]) },
      adapter: gpuScorer?.adapterInfo ?? 'none',
    };
  },
  async benchScoring({ count, dims, queries, k, runs }) {
    const rows = randomUnitRows(Math.min(count, 50_000), dims, 5);
    const data = new Float32Array(count * dims);
    for (let o = 0; o < data.length; o += rows.length) data.set(rows.subarray(0, Math.min(rows.length, data.length - o)), o);
    const qItems: QuantizedItems = quantizeItems({ count, dims, data });
    const qv = randomUnitRows(queries, dims, 6);
    const qQueries: QuantizedQueries = quantizeQueries(
      Array.from({ length: queries }, (_, j) => qv.subarray(j * dims, (j + 1) * dims)),
      Array.from({ length: queries }, () => 1),
      qItems.paddedDims,
    );
    const excluded = new Uint8Array(count);
    for (let i = 0; i < 50; i++) excluded[(i * 7919) % count] = 1;
    const stats = async (fn: () => Promise<unknown>): Promise<{ p50_ms: number; p95_ms: number }> => {
      await fn();
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        await fn();
        times.push(performance.now() - t0);
      }
      return { p50_ms: percentile(times, 0.5), p95_ms: percentile(times, 0.95) };
    };
    const out: Record<string, { p50_ms: number; p95_ms: number } | null> = {};
    out.js = await stats(async () => topK(scoreQuantized(qItems, qQueries), k, excluded));
    for (const build of ['simd', 'scalar'] as const) {
      const kernel = await KernelScorer.create(qItems, build);
      out[`wasm_${build}`] = await stats(async () => kernel.topK(qQueries, k, excluded));
    }
    const wasmScorer = await WasmScorer.create(await ortBuild, qItems);
    out.onnxruntime = await stats(() => wasmScorer.topK(qQueries, k, excluded));
    await wasmScorer.dispose();
    scorer ??= WebGpuScorer.create();
    const gpuScorer = await scorer;
    if (gpuScorer) {
      gpuScorer.upload(qItems);
      out.webgpu = await stats(() => gpuScorer.topK(qQueries, k, excluded));
      out.gpu_item_bytes = { p50_ms: gpuScorer.itemBytes, p95_ms: gpuScorer.itemBytes };
      gpuScorer.upload({ count: 0, dims: qItems.dims, paddedDims: qItems.paddedDims, data: new Int8Array(0) });
      plainScorer ??= WebGpuScorer.create({ packedDot: false });
      const plain = await plainScorer;
      if (plain) {
        plain.upload(qItems);
        out.webgpu_plain = await stats(() => plain.topK(qQueries, k, excluded));
        plain.upload({ count: 0, dims: qItems.dims, paddedDims: qItems.paddedDims, data: new Int8Array(0) });
      }
    } else out.webgpu = null;
    return out;
  },
  benchPeers: (options) => import('./bench-peers').then((m) => m.benchPeers(options)),
  async openBench({ catalogUrl, vectorsUrl, scoring, clicks }) {
    const recs = createRecommender({
      scoring,
      storeName: `bench-breakdown-${scoring}-${Date.now()}`,
      globalModel: 'global-movielens',
      rankingHeads: 'ranking-heads',
      backend: 'wasm',
    });
    window.labRecs = recs;
    await recs.setCatalog(catalogUrl, { vectors: vectorsUrl });
    for (const id of clicks) await recs.track({ type: 'click', itemId: id });
    await recs.recommend({ k: 10 });
    return recs.stats();
  },
  async openCatalog({ options, catalogUrl, vectorsUrl, k = 10 }) {
    const events: EngineEvent[] = [];
    const timeline: { phase: string; done: number; total: number; ms: number }[] = [];
    const recs = createRecommender(options);
    recs.on((e) => {
      events.push(e);
      if (e.type === 'progress') timeline.push({ ...e.progress, ms: Math.round(performance.now()) });
    });
    window.labRecs = recs;
    window.labEvents = events;
    const report = await recs.setCatalog(catalogUrl, vectorsUrl === undefined ? undefined : { vectors: vectorsUrl });
    const catalogMs = performance.now();
    const slate = (await recs.recommend({ k })).map((r) => r.itemId);
    const firstSlateMs = performance.now();
    return { report, stats: await recs.stats(), events, timeline, slate, catalogMs: Math.round(catalogMs), firstSlateMs: Math.round(firstSlateMs) };
  },
  async hitRate({ visitors, k }) {
    const recs = window.labRecs!;
    let hits = 0;
    const recommendMs: number[] = [];
    for (const v of visitors) {
      await recs.deleteData();
      const shift = Date.now() - 60_000 - v.history[v.history.length - 1].timestamp * 1000;
      for (const e of v.history) await recs.track({ type: e.type as TrackEvent['type'], itemId: e.item, timestamp: e.timestamp * 1000 + shift });
      const t0 = performance.now();
      const slate = await recs.recommend({ k });
      recommendMs.push(performance.now() - t0);
      if (slate.some((r) => r.itemId === v.target)) hits++;
    }
    await recs.deleteData();
    return { hits, visitors: visitors.length, recommendMs };
  },
  async recommendTimes(runs) {
    const recs = window.labRecs!;
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      await recs.recommend({ k: 10 });
      times.push(performance.now() - t0);
    }
    return times;
  },
  async environment() {
    const wgsl = (navigator.gpu as (GPU & { wgslLanguageFeatures?: Set<string> }) | undefined)?.wgslLanguageFeatures;
    return {
      userAgent: navigator.userAgent,
      cores: navigator.hardwareConcurrency,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      kernelBuild: scanKernelBuild(simdProbe()),
      wgslFeatures: wgsl ? [...wgsl] : [],
    };
  },
  async sequenceStates({ files, catalogIds, vectors, textDims, encoderHash, histories, backend }) {
    const bytes = new Map(Object.entries(files).map(([name, b]) => [name, Uint8Array.from(b)] as const));
    const reader = async (file: string): Promise<Uint8Array> => {
      const b = bytes.get(file);
      if (!b) throw new Error(`${file} not given`);
      return b;
    };
    const model = await OnnxSequenceModel.create({
      ort: await ortBuild,
      reader,
      where: 'lab-sequence-model',
      backend,
      encoder: { modelHash: encoderHash, dimensions: textDims },
      catalogIds,
      catalogVectors: { count: catalogIds.length, dims: textDims, data: Float32Array.from(vectors) },
    });
    const states: { userState: number[]; conversionState: number[] }[] = [];
    const attributions: { itemIds: string[]; states: number[] }[] = [];
    for (const h of histories) {
      const s = await model.state(h);
      states.push({ userState: s ? Array.from(s.userState) : [], conversionState: s ? Array.from(s.conversionState) : [] });
      const a = await model.attribution(h);
      attributions.push({ itemIds: a?.itemIds ?? [], states: a ? Array.from(a.states) : [] });
    }
    await model.dispose();
    return { backend: model.backend, states, attributions };
  },
  async heads(features, rows, backend) {
    const h = await heads(backend);
    const out = await h.predict(Float32Array.from(features), rows);
    return { backend: h.backend, click: Array.from(out.click), conversion: Array.from(out.conversion) };
  },
  async gpuAdapter() {
    const gpu = navigator.gpu;
    if (!gpu) return null;
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    return { vendor: adapter.info.vendor, architecture: adapter.info.architecture, features: [...adapter.features] };
  },
  async embed(texts, backend) {
    const enc = await encoder(backend);
    const vectors = await enc.embed(texts);
    return { backend: enc.info.backend, vectors: vectors.map((v) => Array.from(v)) };
  },
  async benchEncoder(texts, backend) {
    const enc = await encoder(backend);
    await enc.embed(texts.slice(0, 256)); // warm-up: shader compilation, allocations
    const t0 = performance.now();
    await enc.embed(texts);
    const seconds = (performance.now() - t0) / 1000;
    return { backend: enc.info.backend, items: texts.length, seconds, itemsPerSecond: texts.length / seconds };
  },
};

declare global {
  interface Window {
    lab: Lab;
    labRecs?: Recommender;
    labEvents?: EngineEvent[];
  }
}
window.lab = lab;
const status = document.getElementById('lab-status');
if (status) status.textContent = 'ready';
document.body.dataset.labReady = 'true';
