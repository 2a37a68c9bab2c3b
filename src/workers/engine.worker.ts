/// <reference lib="webworker" />
/**
 * The engine's Web Worker: builds the Engine with browser dependencies
 * (onnxruntime-web, IndexedDB, fetch, BroadcastChannel) and exposes it with comlink.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import { Engine } from './engine';
import { toWireError, type WorkerInit } from './protocol';
import { openStore } from '../store';
import { OnnxSentenceEncoder, fetchReader } from '../model/encoder';
import { RecommenderError } from '../errors';
import { loadGlobalModel } from '../model/global-model';
import { OnnxRankingHeads } from '../model/heads';
import type { CatalogItem, EngineEvent, RecommendOptions, SetCatalogOptions, TrackEvent } from '../types';
import { createCatalogScorer, type CatalogScorer } from '../gpu/scorer';

/** Test hooks on the worker's own global scope (not reachable from the host page). */
const debug: { scorer: CatalogScorer | null } = { scorer: null };
(self as unknown as { __odrDebug: unknown }).__odrDebug = {
  /** Destroys the scoring GPU device, as a driver reset would. */
  loseGpu: () => (debug.scorer as { loseDevice?: () => void } | null)?.loseDevice?.(),
  scoringPath: () => debug.scorer?.path ?? null,
};

function configureOrt(wasmUrl: string): void {
  ort.env.wasm.wasmPaths = wasmUrl;
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  ort.env.logLevel = 'error';
}

async function fetchJson(url: string, base: string): Promise<unknown> {
  const abs = new URL(url, base).href;
  let res: Response;
  try {
    res = await fetch(abs, { credentials: 'same-origin' });
  } catch (e) {
    throw new RecommenderError('invalid_catalog', `Could not fetch the catalog at ${abs} (${(e as Error).message}).`, 'Check the URL and that it is served from your site.');
  }
  if (!res.ok) throw new RecommenderError('invalid_catalog', `Fetching the catalog at ${abs} answered HTTP ${res.status}.`, 'Check the URL passed to setCatalog / data-catalog.');
  try {
    return await res.json();
  } catch {
    throw new RecommenderError('invalid_catalog', `The catalog at ${abs} is not valid JSON.`, 'Serve a JSON array of items (or { "items": [...] }).');
  }
}

class EngineWorker {
  private engine: Engine | null = null;

  init(init: WorkerInit, listener: (e: EngineEvent) => void): void {
    configureOrt(init.wasmUrl);
    const storeName = init.storeName ?? 'on-device-recs';
    const bc = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`on-device-recs:${storeName}`) : null;
    this.engine = new Engine(init, {
      store: () => openStore({ name: storeName }),
      encoder: () =>
        init.huggingFaceModel
          ? import('../model/hf-encoder').then(({ createHuggingFaceEncoder }) =>
              createHuggingFaceEncoder({
                ...init.huggingFaceModel!,
                localModelPath: init.huggingFaceModel!.localModelPath ?? init.modelsUrl,
                device: init.backend === 'webgpu' || init.backend === 'wasm' ? init.backend : 'auto',
                wasmPaths: init.wasmUrl,
              }),
            )
          : OnnxSentenceEncoder.create({
          ort,
          reader: fetchReader(new URL(`${init.encoder ?? 'glove-sif-100d'}/`, init.modelsUrl).href),
          where: new URL(init.encoder ?? 'glove-sif-100d', init.modelsUrl).href,
          backend: init.backend === 'js' ? 'wasm' : (init.backend ?? 'auto'),
          onFallback: (from, to, reason) => listener({ type: 'backend', backend: to, reason: `${from} unavailable: ${reason}` }),
        }),
      globalModel: init.globalModel
        ? () => {
            const where = new URL(`${init.globalModel}/`, init.modelsUrl).href;
            return loadGlobalModel(fetchReader(where), where);
          }
        : undefined,
      rankingHeads: init.rankingHeads
        ? () => {
            const where = new URL(`${init.rankingHeads}/`, init.modelsUrl).href;
            return OnnxRankingHeads.create({ ort, reader: fetchReader(where), where, backend: init.backend === 'js' ? 'wasm' : (init.backend ?? 'auto') });
          }
        : undefined,
      fetchCatalog: (url) => fetchJson(url, init.pageUrl),
      vectorReader: (folder) => fetchReader(new URL(folder, init.pageUrl).href),
      scorer: async (items, path, onFallback) => (debug.scorer = await createCatalogScorer(items, path, { ort, onFallback })),
      channel: bc
        ? {
            post: (m) => bc.postMessage(m),
            onMessage: (cb) => bc.addEventListener('message', (ev) => cb(ev.data)),
            close: () => bc.close(),
          }
        : undefined,
    });
    this.engine.on(listener);
  }

  private get e(): Engine {
    if (!this.engine) throw new RecommenderError('not_ready', 'The engine worker was not initialised.', 'Create it with createRecommender().');
    return this.engine;
  }

  setCatalog = (items: CatalogItem[] | string, options?: SetCatalogOptions) => wrap(() => this.e.setCatalog(items, options));
  track = (event: TrackEvent) => wrap(() => this.e.track(event));
  recommend = (options?: RecommendOptions) => wrap(() => this.e.recommend(options));
  similar = (itemId: string, k?: number) => wrap(() => this.e.similar(itemId, k));
  search = (query: string, k?: number) => wrap(() => this.e.search(query, k));
  explain = (itemId: string) => wrap(() => this.e.explain(itemId));
  history = (limit?: number) => wrap(() => this.e.history(limit));
  exportData = () => wrap(() => this.e.exportData());
  deleteData = () => wrap(() => this.e.deleteData());
  stats = () => wrap(() => this.e.stats());
  flush = () => wrap(() => this.e.flush());
  close = () => wrap(() => this.e.close());
}

async function wrap<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toWireError(e);
  }
}

export type EngineWorkerApi = EngineWorker;

Comlink.expose(new EngineWorker());
