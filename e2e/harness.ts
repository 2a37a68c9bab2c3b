/**
 * Shared e2e harness: serves the built demo (dist/) from a local static server
 * on 127.0.0.1 and drives Debian's Chromium through playwright-core.
 */
import assert from 'node:assert/strict';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page, type Request } from 'playwright-core';
import type { CatalogItem } from '../src/types';

export const DIST = resolve(import.meta.dirname, '..', 'dist');

/**
 * The built demo's catalog (dist/, so call it after the build), its items by id, an item's
 * genres, and the three horror films (each with a search query that finds it) that the demo
 * flows click to personalise a slate.
 */
export function demoFixture(): {
  catalog: CatalogItem[];
  byId: Map<string, CatalogItem>;
  genresOf: (id: string) => string[];
  HORROR: { id: string; query: string }[];
} {
  const catalog = JSON.parse(readFileSync(join(DIST, 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];
  const byId = new Map(catalog.map((c) => [c.id, c]));
  const genresOf = (id: string): string[] => (byId.get(id)?.tags ?? []).filter((t) => /^[A-Z]/.test(t));
  const HORROR = [
    { id: '1258', query: 'shining' },
    { id: '1997', query: 'exorcist' },
    { id: '1982', query: 'halloween' },
  ];
  return { catalog, byId, genresOf, HORROR };
}

/** Asserts that at least 6 of the slate's 10 first items share a genre with the films clicked (demoFixture's HORROR). */
export function assertSharesClickedGenres(slate: readonly { id: string }[], fixture: ReturnType<typeof demoFixture>): void {
  const { HORROR, byId, genresOf } = fixture;
  const clickedGenres = new Set(HORROR.flatMap((m) => genresOf(m.id)));
  const sharing = slate.filter((r) => genresOf(r.id).some((g) => clickedGenres.has(g)));
  assert.ok(sharing.length >= 6, `${sharing.length}/10 share a genre with the clicked movies: ${slate.map((r) => byId.get(r.id)?.title).join('; ')}`);
}
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Chromium's flags for every e2e launch (e2e/browsers.ts too). */
export const BASE_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];
export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan'];

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

export interface StaticServer {
  url: string;
  server: Server;
  /** Every request the server saw: method, path and body length. */
  log: { method: string; path: string; bodyBytes: number }[];
  close(): Promise<void>;
}

/** Content-Security-Policy the demo must run under (no unsafe-eval; wasm allowed); `npm run demo` sends it too. */
export { STRICT_CSP } from '../support/csp';

export async function serveStatic(
  root = DIST,
  extraHeaders: Record<string, string> = {},
  options: { isolated?: boolean; gzip?: boolean } = {},
): Promise<StaticServer> {
  const isolation = options.isolated === false ? {} : { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
  if (!existsSync(join(root, 'index.html'))) throw new Error(`${root}/index.html missing: run "vite build" first (npm run test:e2e does).`);
  const log: StaticServer['log'] = [];
  /** gzip: each file compressed once (level 6, as a static host precompresses), sent with Content-Encoding to clients that accept it. */
  const gzipped = new Map<string, { mtimeMs: number; body: Buffer }>();
  const gzipOf = (file: string): Buffer => {
    const mtimeMs = statSync(file).mtimeMs;
    const hit = gzipped.get(file);
    if (hit?.mtimeMs === mtimeMs) return hit.body;
    const body = gzipSync(readFileSync(file), { level: 6 });
    gzipped.set(file, { mtimeMs, body });
    return body;
  };
  const server = createServer((req: IncomingMessage, res) => {
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.on('end', () => {
      const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
      log.push({ method: req.method ?? 'GET', path, bodyBytes });
      const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
      if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('not found');
        return;
      }
      const headers = {
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        ...isolation,
        'Cache-Control': 'no-cache',
        ...extraHeaders,
      };
      if (options.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
        const body = gzipOf(file);
        res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip', 'Content-Length': body.length, Vary: 'Accept-Encoding' });
        res.end(body);
        return;
      }
      res.writeHead(200, headers);
      createReadStream(file).pipe(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    log,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export async function launch(options: { webgpu?: boolean } = {}): Promise<Browser> {
  const webgpu = options.webgpu ?? true;
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...BASE_FLAGS, ...(webgpu ? WEBGPU_FLAGS : [])] });
}

export interface RecordedRequest {
  url: string;
  method: string;
  postData: string | null;
}

/** Records every request a context makes (pages and workers). */
export function recordRequests(context: BrowserContext): RecordedRequest[] {
  const seen: RecordedRequest[] = [];
  context.on('request', (r: Request) => seen.push({ url: r.url(), method: r.method(), postData: r.postData() }));
  return seen;
}

/** Opens the demo and waits until the first recommendations rendered. */
export async function openDemo(context: BrowserContext, url: string, timeoutMs = 180_000): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: timeoutMs });
  return page;
}

/**
 * Reads the whole on-device IndexedDB events store, run inside the page (not through the engine):
 * `page.evaluate(STORED_EVENTS_IN_PAGE, dbName)` in any driver (e2e/browsers.ts too).
 */
export const STORED_EVENTS_IN_PAGE = async (name: string): Promise<{ eventId: string; type: string; itemId?: string }[]> => {
  const dbs = await indexedDB.databases();
  if (!dbs.some((d) => d.name === name)) return [];
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('events')) {
        db.close();
        resolve([]);
        return;
      }
      const req = db.transaction('events').objectStore('events').getAll();
      req.onsuccess = () => {
        db.close();
        resolve(req.result);
      };
      req.onerror = () => reject(req.error);
    };
  });
};

/**
 * Run inside the demo page: stops the demo's own refreshes from reaching the engine (its recommend/history/...
 * calls never answer), so nothing new is written while a test inspects or deletes storage.
 */
export const QUIET_DEMO_IN_PAGE = async (): Promise<void> => {
  const r = (window as unknown as { __recs: Record<string, unknown> }).__recs;
  for (const m of ['recommend', 'history', 'stats', 'similar', 'search', 'explain']) r[m] = () => new Promise(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 300)); // pending state saves (50 ms timers) land
};

/**
 * Run inside the demo page: whether "For you" reflects every click (no clicked item listed, every reason
 * names a clicked title), except the slots exploration filled from a source that explains itself
 * ("Something new for you", "Trending"); at least half the slate must name a clicked title.
 */
export const PERSONALISED_IN_PAGE = ({ want, ids }: { want: string[]; ids: string[] }): boolean => {
  const cards = [...document.querySelectorAll('#for-you .rec-card')];
  const reasons = cards.map((c) => c.querySelector('.reason')?.textContent ?? '');
  const personal = reasons.filter((r) => !/^(Something new for you|Trending in this catalog)/.test(r));
  return (
    cards.length > 0 &&
    cards.every((c) => !ids.includes(c.getAttribute('data-item-id') ?? '')) &&
    personal.length >= Math.ceil(cards.length / 2) &&
    personal.every((r) => want.some((t) => r.includes(t)))
  );
};

/** In the page: the index of the focused card inside the element with id 'a' (-1 when none). */
export const FOCUSED_CARD_IN_PAGE = (): number => {
  const root = document.getElementById('a')!.shadowRoot!;
  return [...root.querySelectorAll('.card')].indexOf(root.activeElement as Element);
};

/** Run inside a page: the ARIA shape of the `<on-device-recs>` element with id `id` (list, heading, region, card tags, labels, status). */
export const ELEMENT_ARIA_IN_PAGE = (id: string) => {
  const root = document.getElementById(id)!.shadowRoot!;
  const list = root.querySelector('ul')!;
  const heading = root.getElementById(list.getAttribute('aria-labelledby')!);
  return {
    role: list.getAttribute('role'),
    heading: heading?.textContent,
    region: root.querySelector('section')?.getAttribute('aria-labelledby'),
    cards: [...root.querySelectorAll('.card')].map((c) => c.tagName),
    dismissLabel: root.querySelector('.dismiss')?.getAttribute('aria-label'),
    status: root.querySelector('[role="status"]') !== null,
  };
};

/** Run inside a page: what is stored for the origin besides the engine's calls (databases, Cache Storage, localStorage, sessionStorage). */
export const STORAGE_LEFT_IN_PAGE = async () => ({
  databases: (await indexedDB.databases()).map((d) => d.name),
  caches: await caches.keys(),
  localStorage: localStorage.length,
  sessionStorage: sessionStorage.length,
});

/** Reads the whole on-device IndexedDB events store from inside the page (not through the engine). */
export async function readStoredEvents(page: Page, dbName = 'on-device-recs'): Promise<{ eventId: string; type: string; itemId?: string }[]> {
  return page.evaluate(STORED_EVENTS_IN_PAGE, dbName);
}

/**
 * Registers before/after hooks (in the current describe block or file) that
 * serve dist/ and launch Chromium; returns getters for both.
 */
export function useBrowser(options: { webgpu?: boolean } = {}): { server: () => StaticServer; browser: () => Browser } {
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  before(async () => {
    server = await serveStatic();
    browser = await launch(options);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });
  const need = <T>(v: T | undefined): T => {
    if (!v) throw new Error('useBrowser: used before its before() hook ran');
    return v;
  };
  return { server: () => need(server), browser: () => need(browser) };
}

export interface RecordedPage {
  context: BrowserContext;
  page: Page;
  /** Every request of the context (pages and workers). */
  requests: RecordedRequest[];
  /** Uncaught errors of the page. */
  errors: string[];
  /** URLs of requests that left `url`'s origin. */
  offOrigin: () => string[];
}

/** A fresh context whose requests and page errors are recorded, with a page opened at `url`. */
export async function openRecordedPage(browser: Browser, url: string): Promise<RecordedPage> {
  const context = await browser.newContext();
  const requests = recordRequests(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  const origin = new URL(url).origin;
  return { context, page, requests, errors, offOrigin: () => requests.filter((r) => !r.url.startsWith(origin)).map((r) => r.url) };
}
