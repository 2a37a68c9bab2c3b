/**
 * The npm package's version of worker-url.ts. `__ODR_WORKER__` is replaced at
 * package build time by `new URL('./engine.worker.js', import.meta.url)`, written
 * inside `new Worker(...)` so that the integrator's bundler (Vite, webpack 5,
 * Parcel) recognises the pattern and bundles the prebuilt worker; without a
 * bundler it resolves next to lib/index.js.
 */
declare const __ODR_WORKER__: URL;

export function startEngineWorker(url?: URL): Worker {
  if (url) return new Worker(url, { type: 'module', name: 'on-device-recs' });
  return new Worker(__ODR_WORKER__, { type: 'module', name: 'on-device-recs' });
}
