/**
 * Public API. `createRecommender()` starts the engine in a Web Worker and
 * returns a typed facade; every method is a message to the worker, so the
 * page's main thread only pays for structured cloning.
 *
 * @module on-device-recs
 */
import * as Comlink from 'comlink';
import type { EngineWorkerApi } from './workers/engine.worker';
import { fromWireError, type WorkerInit } from './workers/protocol';
import { RecommenderError } from './errors';
import { resolvePageOptions } from './options';
import { startEngineWorker } from './worker-url';
import { eventsLost, PendingWrites } from './pending-writes';
import type { EngineEvent, Recommender, RecommenderOptions } from './types';

export * from './types';
export { RecommenderError } from './errors';
export { EVENT_TYPES, SOURCES, BACKENDS } from './vocabulary';
export type { RecommenderErrorCode } from './errors';

/** How often a page restarts a dead engine worker before giving up (a crash loop). */
const MAX_ENGINE_RESTARTS = 3;

function defaultBase(): string {
  return typeof document !== 'undefined' ? document.baseURI : (globalThis.location?.href ?? 'http://localhost/');
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
 *
 * Every option is checked here, before the worker starts: a wrong one throws a
 * RecommenderError (code 'invalid_options') naming the option, synchronously.
 */
export function createRecommender(options: RecommenderOptions = {}): Recommender {
  // resolved once (defaults, checks, absolute URLs); every worker this facade starts gets the same init, seed included
  const { resolved, workerUrl: workerHref } = resolvePageOptions(options, defaultBase());
  const init: WorkerInit = resolved;
  const workerUrl = workerHref !== undefined ? new URL(workerHref) : undefined;
  if (typeof Worker === 'undefined') {
    // server-side rendering (Next.js, Nuxt, SvelteKit, Astro) imports the package in Node: importing is safe, starting an engine is not
    const server = typeof window === 'undefined' && typeof document === 'undefined';
    throw new RecommenderError(
      'backend_unavailable',
      server
        ? 'createRecommender() was called outside a browser (no window, no Web Workers), e.g. while rendering a page on the server.'
        : 'This environment has no Web Workers.',
      server
        ? "Create the recommender in the browser only: in onMounted / useEffect / a client-only module, or behind typeof window !== 'undefined'. Importing on-device-recs on the server is safe."
        : 'Run the recommender in a browser page.',
    );
  }
  const listeners = new Set<(e: EngineEvent) => void>();
  const emit = (e: EngineEvent): void => listeners.forEach((l) => l(e));

  // The engine runs in a worker that can die (a crash, out of memory, killed by
  // the browser). Its death is noticed through a Web Lock the worker holds for
  // its lifetime; the facade then starts a new worker, which reloads the
  // history from IndexedDB, and loads the last catalog again (vectors come from
  // the IndexedDB cache). Calls that were running are retried on the new worker,
  // except track(): whether its event was stored is unknown, so it rejects
  // with 'engine_restarted' and the page decides whether to track it again.
  type Remote = Comlink.Remote<EngineWorkerApi>;
  interface InFlight {
    retry: boolean;
    rerun: () => void;
    fail: (e: unknown) => void;
  }
  interface EngineInstance {
    worker: Worker;
    remote: Remote;
    ready: Promise<void>;
    inFlight: Set<InFlight>;
    dead: boolean;
  }
  const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManager }).locks : undefined;
  const watching = new AbortController();
  let closed = false;
  let restarts = 0;
  let stopped: RecommenderError | null = null;
  let lastCatalog: { items: Parameters<Recommender['setCatalog']>[0]; options?: Parameters<Recommender['setCatalog']>[1] } | null = null;
  // track() calls not answered yet, marked in localStorage so the next page can report those a closed page lost (pending-writes.ts)
  const marks = PendingWrites.start(init.storeName, watching.signal);

  const startEngine = (restart: boolean): EngineInstance => {
    const worker = startEngineWorker(workerUrl);
    worker.addEventListener('error', (ev) =>
      emit({
        type: 'error',
        code: 'engine_restarted',
        message: `engine worker failed: ${ev.message}`,
        fix: 'Check the console; the engine restarts itself and reloads the history from this device.',
      }),
    );
    const remote = Comlink.wrap<EngineWorkerApi>(worker);
    const instance: EngineInstance = { worker, remote, ready: Promise.resolve(), inFlight: new Set(), dead: false };
    const lockName = `on-device-recs:engine:${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    instance.ready = (async () => {
      await remote.init(init, Comlink.proxy(emit));
      if (marks) await remote.holdLifeLock(marks.lockName, 'shared'); // the page's marks are checked only once this worker is gone too
      if (locks && (await remote.holdLifeLock(lockName))) {
        // granted only once the worker no longer holds it, i.e. once it is gone
        locks.request(lockName, { signal: watching.signal }, async () => onDeath(instance)).catch(() => undefined);
      }
      if (restart && lastCatalog) {
        try {
          await remote.setCatalog(lastCatalog.items, lastCatalog.options);
        } catch (e) {
          const err = fromWireError(e);
          emit({
            type: 'error',
            code: err instanceof RecommenderError ? err.code : 'invalid_catalog',
            message: `After the engine restarted, the catalog could not be loaded again: ${(err as Error).message}`,
            fix: err instanceof RecommenderError && err.fix ? err.fix : 'Call setCatalog() again.',
          });
        }
      }
    })();
    return instance;
  };

  let current = startEngine(false);

  const onDeath = (instance: EngineInstance): void => {
    if (closed || instance.dead) return;
    instance.dead = true;
    instance.worker.terminate();
    const running = [...instance.inFlight];
    instance.inFlight.clear();
    if (++restarts > MAX_ENGINE_RESTARTS) {
      stopped = new RecommenderError(
        'engine_restarted',
        `The engine's worker stopped ${restarts} times in this page and is not restarted again; the data stored on this device is intact.`,
        'Reload the page. If it keeps happening, check the console for out-of-memory errors (a very large catalog?).',
      );
      running.forEach((c) => c.fail(stopped));
      emit({ type: 'error', code: stopped.code, message: stopped.message, fix: stopped.fix });
      return;
    }
    emit({
      type: 'error',
      code: 'engine_restarted',
      message: 'The engine worker stopped unexpectedly; it was restarted and the history reloaded from this device.',
      fix: 'Nothing to do; a track() that was running rejected with engine_restarted and can be sent again.',
    });
    current = startEngine(true);
    // events the dead worker kept for retrying are lost unless it wrote them: ask the new one
    const retried = marks?.takeRetrying() ?? [];
    if (retried.length > 0)
      void call((r) => r.unstoredEvents(retried)).then(
        (lost) => {
          marks?.checked(retried);
          if (lost.length > 0) emit(eventsLost(lost.length));
        },
        () => undefined, // still marked: the next page checks them
      );
    for (const c of running) {
      if (c.retry) c.rerun();
      else
        c.fail(
          new RecommenderError(
            'engine_restarted',
            'The engine worker stopped before confirming that this event was stored; it was restarted with the history stored on this device.',
            'Track the event again if it matters (history() shows whether it was stored).',
          ),
        );
    }
  };

  const call = <T>(fn: (remote: Remote) => Promise<T>, onRestart: 'retry' | 'fail' = 'retry'): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const run = (): void => {
        if (stopped) return reject(stopped);
        const instance = current;
        const entry: InFlight = { retry: onRestart === 'retry', rerun: run, fail: reject };
        instance.inFlight.add(entry);
        instance.ready
          .then(() => fn(instance.remote))
          .then(
            (value) => instance.inFlight.delete(entry) && resolve(value),
            (e: unknown) => instance.inFlight.delete(entry) && reject(fromWireError(e)),
          );
      };
      run();
    });

  const flushOnHide = (): void => {
    if (document.visibilityState === 'hidden') void call((r) => r.flush()).catch(() => undefined);
  };
  if (typeof document !== 'undefined') document.addEventListener('visibilitychange', flushOnHide);
  // what pages of this site that closed before their writes were answered left marked: reported once they are gone
  marks?.recover((ids) => call((r) => r.unstoredEvents(ids)), emit, watching.signal);

  return {
    setCatalog: (items, options) =>
      call((r) => r.setCatalog(items, options)).then((report) => {
        lastCatalog = { items, options };
        return report;
      }),
    track: (event) => {
      const id = marks?.begin(); // marked before the call leaves the page
      const tracked = call((r) => r.track(event, id), 'fail');
      if (id !== undefined)
        tracked.then(
          () => marks?.stored(id),
          (e: unknown) => marks?.failed(id, e),
        );
      return tracked;
    },
    recommend: (opts) => call((r) => r.recommend(opts)),
    similar: (itemId, options) => call((r) => r.similar(itemId, options)),
    search: (query, options) => call((r) => r.search(query, options)),
    updateItems: (updates) => call((r) => r.updateItems(updates)),
    explain: (itemId) => call((r) => r.explain(itemId)),
    history: (limit) => call((r) => r.history(limit)),
    exportData: () => call((r) => r.exportData()),
    deleteData: () => call((r) => r.deleteData()).then(() => marks?.clearAll()),
    forget: (itemId) => call((r) => r.forget(itemId)),
    controls: () => call((r) => r.controls()),
    setControls: (change) => call((r) => r.setControls(change)),
    stats: () => call((r) => r.stats()),
    loadedFiles: () => call((r) => r.loadedFiles()),
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', flushOnHide);
      const instance = current;
      await call((r) => r.close(), 'fail').catch(() => undefined);
      closed = true;
      watching.abort();
      instance.remote[Comlink.releaseProxy]();
      instance.worker.terminate();
    },
  };
}
