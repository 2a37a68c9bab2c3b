/**
 * Starts the engine's worker. In this repository (and any app that bundles
 * the sources) the bundler builds `./workers/engine.worker.ts` from this
 * `new Worker(new URL(...))` pattern. The npm package replaces this module with
 * `worker-url.lib.ts`, which points at the package's prebuilt `engine.worker.js`.
 */
export function startEngineWorker(url?: URL): Worker {
  if (url) return new Worker(url, { type: 'module', name: 'on-device-recs' });
  return new Worker(new URL('./workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'on-device-recs' });
}
