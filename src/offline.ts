/**
 * Offline support: registers the package's service worker (`lib/sw.js`, served
 * by your site, e.g. at `/recs-sw.js`) and hands it the same-origin files this
 * page already loaded (the page, embed.js, the worker, onnxruntime's wasm, the
 * models, the catalog), so that after the first visit the page and its
 * recommendations work without a network. The cache holds only your site's
 * static files, never the visitor's data (that lives in IndexedDB).
 *
 * @module on-device-recs/offline
 */
import type { Recommender } from './types';

export interface OfflineOptions {
  /** Service worker scope (default: the folder of `serviceWorkerUrl`). */
  scope?: string;
  /** Also keep the files this recommender's engine loaded (worker, wasm, models, catalog). Call after setCatalog() resolved. */
  recommender?: Recommender;
}

/** Registers the offline service worker; resolves once it controls the page and holds this page's files. */
export async function registerOffline(serviceWorkerUrl: string, options: OfflineOptions = {}): Promise<ServiceWorkerRegistration> {
  if (!('serviceWorker' in navigator)) throw new Error('this browser has no service workers (or the page is not served over https/localhost)');
  const reg = await navigator.serviceWorker.register(serviceWorkerUrl, options.scope ? { scope: options.scope } : undefined);
  await navigator.serviceWorker.ready;
  const active = reg.active;
  if (!active) return reg;
  // the files this page loaded before the service worker existed
  const urls = new Set<string>([location.href.split('#')[0]]);
  for (const entry of performance.getEntriesByType('resource')) {
    const url = new URL(entry.name);
    if (url.origin === location.origin) urls.add(url.href);
  }
  // the engine's worker has its own timeline: its script, onnxruntime's wasm, the models, the catalog
  if (options.recommender) for (const u of await options.recommender.loadedFiles()) urls.add(u);
  await new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    active.postMessage({ type: 'on-device-recs:precache', urls: [...urls] }, [channel.port2]);
    setTimeout(resolve, 30_000);
  });
  return reg;
}
