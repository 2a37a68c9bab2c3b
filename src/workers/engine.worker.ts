/// <reference lib="webworker" />
/**
 * The engine's Web Worker: builds the Engine with browser dependencies
 * (onnxruntime-web, IndexedDB, fetch, BroadcastChannel) and exposes it with comlink.
 */
import * as Comlink from 'comlink';
import { Engine } from '../engine/engine';
import { toWireError, type WorkerInit } from './protocol';
import { openStore } from '../store';
import { OnnxSentenceEncoder } from '../encoding/encoder';
import { fetchReader } from '../runtime/model-files';
import { configureOrt, loadOrt } from '../runtime/onnx';
import { ModelBackends } from '../runtime/backend';
import { RecommenderError } from '../errors';
import { loadGlobalModel } from '../global/global-model';
import { OnnxRankingHeads } from '../ranking/heads';
import { OnnxSequenceModel } from '../ranking/sequence-model';
import type { CatalogItem, EngineEvent, RecommendOptions, SetCatalogOptions, TrackEvent } from '../types';
import type { ItemUpdate, SearchOptions, SimilarOptions } from '../types';
import { createCatalogScorer, type CatalogScorer } from '../candidates/scorer';
import { chooseVariant } from '../measurement/measurement';
import { withVariant } from '../options';
import { recordSpans, spanAsync, takeSpans } from '../runtime/spans';

/** Test hooks on the worker's own global scope (not reachable from the host page). */
const debug: { scorer: CatalogScorer | null } = { scorer: null };
(self as unknown as { __odrDebug: unknown }).__odrDebug = {
  /** Destroys the scoring GPU device, as a driver reset would. */
  loseGpu: () => (debug.scorer as { loseDevice?: () => void } | null)?.loseDevice?.(),
  scoringPath: () => debug.scorer?.path ?? null,
  scoringKernel: () => debug.scorer?.kernel ?? null,
  /** The bench's breakdown of a call: start or stop recording spans (runtime/spans.ts), and take the sums. */
  recordSpans,
  takeSpans,
};

async function fetchJson(url: string, base: string): Promise<unknown> {
  const abs = new URL(url, base).href;
  let res: Response;
  try {
    res = await fetch(abs, { credentials: 'same-origin' });
  } catch (e) {
    throw new RecommenderError(
      'invalid_catalog',
      `Could not fetch the catalog at ${abs} (${(e as Error).message}).`,
      'Check the URL and that it is served from your site.',
    );
  }
  if (!res.ok)
    throw new RecommenderError(
      'invalid_catalog',
      `Fetching the catalog at ${abs} answered HTTP ${res.status}.`,
      'Check the URL passed to setCatalog / data-catalog.',
    );
  try {
    return await res.json();
  } catch {
    throw new RecommenderError('invalid_catalog', `The catalog at ${abs} is not valid JSON.`, 'Serve a JSON array of items (or { "items": [...] }).');
  }
}

class EngineWorker {
  private engine: Engine | null = null;

  async init(received: WorkerInit, listener: (e: EngineEvent) => void): Promise<void> {
    configureOrt(received.wasmUrl);
    const storeName = received.storeName;
    const bc = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`on-device-recs:${storeName}`) : null;
    // one connection shared by the engine and the backend-choice cache
    let opened: ReturnType<typeof openStore> | null = null;
    const store = (): ReturnType<typeof openStore> =>
      (opened ??= openStore({ name: storeName }).catch((e: unknown) => {
        opened = null;
        throw e;
      }));
    // A/B test (opt-in measurement): the visitor's variant is drawn once on the device and kept in the store
    const variants = received.measurement?.variants ?? [];
    const variant =
      variants.length > 1
        ? await store().then(
            (s) =>
              chooseVariant(
                s,
                variants.map((v) => v.name),
              ),
            () => 0,
          )
        : 0;
    const init = withVariant(received, variant);
    const encoderName = init.encoder;
    const backends = new ModelBackends(init.backend, encoderName, store);
    this.engine = new Engine(init, {
      store,
      encoder: () => {
        const hf = init.huggingFaceModel;
        return hf
          ? import('../encoding/hf-encoder').then(({ createHuggingFaceEncoder }) =>
              createHuggingFaceEncoder({ ...hf, device: init.backend, wasmPaths: init.wasmUrl }),
            )
          : backends.plan().then(async (plan) => {
              const enc = await OnnxSentenceEncoder.create({
                ort: await loadOrt(plan.build),
                reader: fetchReader(new URL(`${encoderName}/`, init.modelsUrl).href),
                where: new URL(encoderName, init.modelsUrl).href,
                backend: plan.backend,
                reason: plan.reason,
                onFallback: (from, to, reason) => listener({ type: 'backend', backend: to, reason: `${from} unavailable: ${reason}` }),
              });
              void backends.encoderRuns(enc.info.backend, enc.backendReason);
              return enc;
            });
      },
      globalModel: init.globalModel
        ? () => {
            const where = new URL(`${init.globalModel}/`, init.modelsUrl).href;
            return loadGlobalModel(fetchReader(where), where);
          }
        : undefined,
      rankingHeads: init.rankingHeads
        ? async () => {
            const where = new URL(`${init.rankingHeads}/`, init.modelsUrl).href;
            const plan = await backends.follower();
            return OnnxRankingHeads.create({ ort: await loadOrt(plan.build), reader: fetchReader(where), where, backend: plan.backend });
          }
        : undefined,
      // after the encoder, like the heads: its backend follows the encoder's
      sequenceModel: init.sequenceModel
        ? async (catalog, encoder) => {
            const where = new URL(`${init.sequenceModel}/`, init.modelsUrl).href;
            const plan = await backends.follower();
            const ort = await loadOrt(plan.build);
            const reader = fetchReader(where);
            return OnnxSequenceModel.create({
              ort,
              reader,
              where,
              backend: plan.backend,
              encoder,
              catalogIds: catalog.ids,
              catalogVectors: catalog.vectors,
            });
          }
        : undefined,
      fetchCatalog: (url) => fetchJson(url, init.pageUrl),
      vectorReader: (folder) => fetchReader(new URL(folder, init.pageUrl).href),
      // the WASM path is the scan kernel: onnxruntime is loaded for it only if the kernel cannot start
      scorer: async (items, path, onFallback) =>
        (debug.scorer = await createCatalogScorer(items, path, { ort: path === 'js' ? undefined : () => loadOrt('wasm'), onFallback })),
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

  /**
   * Holds a Web Lock named `name` for as long as this worker lives. The page
   * asks for the same lock: it is granted exactly when the worker is gone
   * (crashed, killed, out of memory), so the page can restart the engine.
   * Resolves true once held (false without the Web Locks API).
   */
  /** Same-origin static files this worker loaded (its own script and chunks, onnxruntime's wasm, models, catalog). */
  loadedFiles(): string[] {
    const urls = new Set<string>([self.location.href]);
    for (const e of performance.getEntriesByType('resource')) {
      const url = new URL(e.name);
      if (url.origin === self.location.origin && url.protocol.startsWith('http')) urls.add(url.href.split('#')[0]);
    }
    return [...urls];
  }

  holdLifeLock(name: string, mode: LockMode = 'exclusive'): Promise<boolean> {
    const locks = (self.navigator as Navigator & { locks?: LockManager }).locks;
    if (!locks) return Promise.resolve(false);
    return new Promise((held) => {
      locks
        .request(String(name), { mode: mode === 'shared' ? 'shared' : 'exclusive' }, () => {
          held(true);
          return new Promise<never>(() => undefined); // released only when this worker ends
        })
        .catch(() => held(false));
    });
  }

  private get e(): Engine {
    if (!this.engine) throw new RecommenderError('not_ready', 'The engine worker was not initialised.', 'Create it with createRecommender().');
    return this.engine;
  }

  setCatalog = (items: CatalogItem[] | string, options?: SetCatalogOptions) => wrap(() => this.e.setCatalog(items, options));
  /** `eventId`: the id the page marked for this call (pending-writes.ts); the worker makes one without it. */
  track = (event: TrackEvent, eventId?: string) =>
    wrap(() => this.e.track(event, typeof eventId === 'string' && /^[a-z0-9-]{3,64}$/.test(eventId) ? eventId : undefined));
  /** Which of these ids (marked by a page that closed before they were answered) IndexedDB lacks. */
  unstoredEvents = (eventIds: string[]) =>
    wrap(() => this.e.unstoredEvents(Array.isArray(eventIds) ? eventIds.filter((id) => typeof id === 'string') : []));
  recommend = (options?: RecommendOptions) => wrap(() => spanAsync('engine', () => this.e.recommend(options)));
  similar = (itemId: string, options?: number | SimilarOptions) => wrap(() => this.e.similar(itemId, options));
  search = (query: string, options?: number | SearchOptions) => wrap(() => this.e.search(query, options));
  updateItems = (updates: ItemUpdate[]) => wrap(() => this.e.updateItems(updates));
  explain = (itemId: string) => wrap(() => this.e.explain(itemId));
  history = (limit?: number) => wrap(() => this.e.history(limit));
  exportData = () => wrap(() => this.e.exportData());
  deleteData = () => wrap(() => this.e.deleteData());
  forget = (itemId: string) => wrap(() => this.e.forgetItem(itemId));
  controls = () => wrap(() => this.e.controls());
  setControls = (change: unknown) => wrap(() => this.e.setControls(change));
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
