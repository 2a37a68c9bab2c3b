/// <reference lib="webworker" />
/**
 * The offline service worker (`lib/sw.js`). Same-origin GET requests go to the
 * network first and fall back to the copy cached on an earlier visit; nothing
 * else is touched (other origins, POSTs). The cache holds the site's static
 * files only; the visitor's data lives in IndexedDB and never passes through here.
 */
export {};
declare const self: ServiceWorkerGlobalScope;

const CACHE = 'on-device-recs-offline-v1';

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('message', (e) => {
  const data = e.data as { type?: string; urls?: unknown } | null;
  if (data?.type !== 'on-device-recs:precache' || !Array.isArray(data.urls)) return;
  const urls = data.urls.filter((u): u is string => typeof u === 'string' && new URL(u).origin === self.location.origin);
  e.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await Promise.all(
        urls.map(async (u) => {
          if (await cache.match(u)) return;
          try {
            const res = await fetch(u, { credentials: 'same-origin' });
            if (res.ok) await cache.put(u, res);
          } catch {
            /* offline already: keep what is cached */
          }
        }),
      );
      e.ports[0]?.postMessage('done');
    })(),
  );
});

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET' || req.headers.has('range')) return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  e.respondWith(networkFirst(req));
});

async function networkFirst(req: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(req);
    if (res.ok && res.type === 'basic') await cache.put(req, res.clone());
    return res;
  } catch (err) {
    const hit =
      (await cache.match(req, { ignoreVary: true, ignoreSearch: false })) ??
      (req.mode === 'navigate' ? await cache.match(req.url.split('#')[0]) : undefined);
    if (hit) return hit;
    throw err;
  }
}
