/**
 * Public API. `createRecommender()` starts the engine in a Web Worker and
 * returns a typed facade; every method is a message to the worker, so the
 * page's main thread only pays for structured cloning.
 */
import * as Comlink from 'comlink';
import type { EngineWorkerApi } from './workers/engine.worker';
import { fromWireError, type WorkerInit } from './workers/protocol';
import { RecommenderError } from './errors';
import type { EngineEvent, Recommender, RecommenderOptions } from './types';

export * from './types';
export { RecommenderError } from './errors';
export type { RecommenderErrorCode } from './errors';

function defaultBase(): string {
  return typeof document !== 'undefined' ? document.baseURI : (globalThis.location?.href ?? 'http://localhost/');
}

function absoluteFolder(url: string, base: string): string {
  const abs = new URL(url, base).href;
  return abs.endsWith('/') ? abs : `${abs}/`;
}

/**
 * Creates the on-device recommender. Models and onnxruntime's wasm are loaded
 * from the site's own origin (`<base>/models/`, `<base>/ort/`) unless configured.
 *
 * ```ts
 * const recs = createRecommender();
 * await recs.setCatalog('/catalog.json');
 * await recs.track({ type: 'click', itemId: '42' });
 * const forYou = await recs.recommend({ k: 8 });
 * ```
 */
export function createRecommender(options: RecommenderOptions = {}): Recommender {
  const base = defaultBase();
  const init: WorkerInit = {
    ...options,
    modelsUrl: absoluteFolder(options.modelsUrl ?? 'models/', base),
    wasmUrl: absoluteFolder(options.wasmUrl ?? 'ort/', base),
    pageUrl: base,
  };
  if (typeof Worker === 'undefined') {
    throw new RecommenderError('backend_unavailable', 'This environment has no Web Workers.', 'Run the recommender in a browser page.');
  }
  const listeners = new Set<(e: EngineEvent) => void>();
  const emit = (e: EngineEvent): void => listeners.forEach((l) => l(e));
  const worker = new Worker(new URL('./workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'on-device-recs' });
  worker.addEventListener('error', (ev) => emit({ type: 'error', message: `engine worker failed: ${ev.message}` }));
  const remote = Comlink.wrap<EngineWorkerApi>(worker);
  const ready = remote.init(init, Comlink.proxy(emit));

  const call = async <T>(fn: () => Promise<T>): Promise<T> => {
    await ready;
    try {
      return await fn();
    } catch (e) {
      throw fromWireError(e);
    }
  };

  const flushOnHide = (): void => {
    if (document.visibilityState === 'hidden') void call(() => remote.flush()).catch(() => undefined);
  };
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', flushOnHide);

  return {
    setCatalog: (items, options) => call(() => remote.setCatalog(items, options)),
    track: (event) => call(() => remote.track(event)),
    recommend: (opts) => call(() => remote.recommend(opts)),
    similar: (itemId, k) => call(() => remote.similar(itemId, k)),
    search: (query, k) => call(() => remote.search(query, k)),
    explain: (itemId) => call(() => remote.explain(itemId)),
    history: (limit) => call(() => remote.history(limit)),
    exportData: () => call(() => remote.exportData()),
    deleteData: () => call(() => remote.deleteData()),
    stats: () => call(() => remote.stats()),
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', flushOnHide);
      await call(() => remote.close()).catch(() => undefined);
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
