/**
 * Privacy and security of the demo build in Chromium:
 * - it runs under a strict Content-Security-Policy (no 'unsafe-eval';
 *   'wasm-unsafe-eval' allowed) sent on every response, the worker's included,
 *   with no violation reported;
 * - no request leaves the page's origin, and no request URL or body carries
 *   tracked data (item ids, titles, search queries);
 * - export returns everything stored; delete leaves nothing (IndexedDB,
 *   Cache Storage, localStorage, sessionStorage);
 * - a hostile catalog (HTML and script in titles, ids, tags) is rendered as
 *   text everywhere in the UI: nothing is parsed or executed (XSS).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { CatalogItem, ExportedData, Recommender } from '../src/types';
import {
  DIST,
  launch,
  openDemo,
  QUIET_DEMO_IN_PAGE,
  recordRequests,
  serveStatic,
  STORAGE_LEFT_IN_PAGE,
  STRICT_CSP,
  type StaticServer,
} from './harness';

declare global {
  interface Window {
    __recs: Recommender;
    __cspViolations: string[];
    __xss?: number;
  }
}

const CSP_REPORT_PATH = '/__csp-report';
const catalog = JSON.parse(readFileSync(join(DIST, 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];
const byId = new Map(catalog.map((c) => [c.id, c]));

let browser: Browser;
before(async () => {
  browser = await launch({ webgpu: true });
});
after(async () => {
  await browser?.close();
});

/** Every listed database's object stores, record by record, read from the page (not through the engine). */
function dumpIndexedDb(page: Page): Promise<Record<string, Record<string, { keys: unknown[]; values: unknown[] }>>> {
  return page.evaluate(async () => {
    const out: Record<string, Record<string, { keys: unknown[]; values: unknown[] }>> = {};
    for (const info of await indexedDB.databases()) {
      const name = info.name as string;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(name);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      out[name] = {};
      for (const storeName of [...db.objectStoreNames]) {
        const store = db.transaction(storeName).objectStore(storeName);
        const [keys, values] = await Promise.all(
          [store.getAllKeys(), store.getAll()].map(
            (req) =>
              new Promise<unknown[]>((resolve, reject) => {
                req.onsuccess = () => resolve(req.result as unknown[]);
                req.onerror = () => reject(req.error);
              }),
          ),
        );
        out[name][storeName] = { keys, values: JSON.parse(JSON.stringify(values)) };
      }
      db.close();
    }
    return out;
  });
}

/** Stops the demo's own refreshes from reaching the engine, so nothing new is written while the test inspects storage. */
function quietDemo(page: Page): Promise<void> {
  return page.evaluate(QUIET_DEMO_IN_PAGE);
}

describe('privacy: strict CSP, no request leaves the origin or carries tracked data, export complete, delete leaves nothing', () => {
  let server: StaticServer;
  before(async () => {
    server = await serveStatic(DIST, { 'Content-Security-Policy': `${STRICT_CSP}; report-uri ${CSP_REPORT_PATH}` });
  });
  after(async () => server?.close());

  test('the demo under a strict Content-Security-Policy: personalises, exports everything, deletes everything, sends nothing', async () => {
    assert.doesNotMatch(STRICT_CSP, /'unsafe-eval'|'unsafe-inline'/);
    assert.match(STRICT_CSP, /script-src 'self' 'wasm-unsafe-eval'/);
    const context = await browser.newContext();
    const requests = recordRequests(context);
    const sockets: string[] = [];
    context.on('page', (p) => p.on('websocket', (ws) => sockets.push(ws.url())));
    await context.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const page = await openDemo(context, server.url);
    assert.equal((await page.evaluate(() => document.querySelectorAll('#for-you .rec-card').length)) > 0, true);

    // track through the UI and the API: clicks, a like, a search with a distinctive query
    const QUERY = 'zebra haunted lighthouse';
    await page.fill('#search-input', 'shining');
    const open = page.locator('#search-results .rec-card[data-item-id="1258"] button[data-action="click"]').first();
    await open.waitFor({ timeout: 60_000 });
    await open.click();
    await page.fill('#search-input', QUERY);
    await page.press('#search-input', 'Enter');
    await page.evaluate(() =>
      Promise.all([
        window.__recs.track({ type: 'like', itemId: '1997' }),
        window.__recs.track({ type: 'add_to_cart', itemId: '1982', context: { slot: 'api' } }),
      ]),
    );
    await page.waitForFunction(() => window.__recs.history().then((h) => h.length >= 4), undefined, { timeout: 30_000, polling: 200 });
    await page.evaluate(() => window.__recs.recommend({ k: 10 }));

    // export = exactly what IndexedDB holds: every event and every state entry
    await quietDemo(page);
    const dump = await dumpIndexedDb(page);
    const exported = (await page.evaluate(() => {
      const r = window.__recs;
      return r.exportData().then((d) => JSON.parse(JSON.stringify(d)) as ExportedData);
    })) as ExportedData;
    const stored = dump['on-device-recs'];
    assert.ok(stored, `the engine's database exists: ${Object.keys(dump).join(', ')}`);
    assert.equal(stored.events.values.length, 4);
    assert.deepEqual(exported.events, stored.events.values, 'every stored event, field for field, in order');
    assert.deepEqual(
      Object.keys(exported.settings).sort(),
      stored.state.keys.map(String).sort(),
      'every state entry (exploration, backend choice, ...)',
    );
    stored.state.keys.forEach((k, i) => assert.deepEqual(exported.settings[String(k)], stored.state.values[i], `state ${String(k)}`));
    assert.ok(
      exported.events.some((e) => e.type === 'search' && e.query === QUERY),
      'the search is in the export',
    );

    // delete leaves nothing behind
    await page.evaluate(() => window.__recs.deleteData());
    const left = await page.evaluate(STORAGE_LEFT_IN_PAGE);
    assert.deepEqual(left, { databases: [], caches: [], localStorage: 0, sessionStorage: 0 });

    // no CSP violation, in the page or in the worker (the server collects reports from both)
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    const reports = server.log.filter((l) => l.path === CSP_REPORT_PATH);
    assert.equal(reports.length, 0, 'no CSP violation report');

    // nothing left the origin; no request carried tracked data
    const origin = new URL(server.url).origin;
    const tracked = ['1258', '1997', '1982'];
    const secrets = [QUERY, ...QUERY.split(' '), 'zebra', ...tracked.map((id) => byId.get(id)?.title ?? id), 'add_to_cart'];
    assert.ok(requests.length > 5, `requests were recorded (${requests.length})`);
    for (const r of requests) {
      const url = new URL(r.url);
      assert.equal(url.origin, origin, `request to ${r.url} left the page's origin`);
      assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
      assert.equal(r.postData, null, `a body was sent to ${r.url}`);
      assert.equal(new URL(r.url).search, '', `no query string on ${r.url}: static files need none`);
      const text = decodeURIComponent(r.url).toLowerCase();
      for (const s of secrets) assert.ok(!text.includes(s.toLowerCase()), `${r.url} carries "${s}"`);
      for (const id of tracked) assert.doesNotMatch(text, new RegExp(`(^|[^0-9a-z])${id}([^0-9a-z]|$)`), `${r.url} carries item id ${id}`);
    }
    assert.ok(
      server.log.every((l) => l.bodyBytes === 0),
      'the server received no request body',
    );
    assert.deepEqual(sockets, [], 'no WebSocket');
    await context.close();
  });
});

// ---------------------------------------------------------------- XSS

const HOSTILE_TITLES = [
  '<img src=x onerror="window.__xss=(window.__xss||0)+1">Shining haunted hotel',
  '<script>window.__xss=99</script>Exorcist possession horror',
  '"><svg onload="window.__xss=5">Halloween masked killer',
  '<iframe srcdoc="<script>parent.__xss=7</script>"></iframe>Alien space horror',
  '</p><a href="javascript:window.__xss=8">click</a>Scream slasher',
];
const HOSTILE_ID = 'x"]><img src=x onerror="window.__xss=11">';

const BAD_ID = '<img src=x onerror="window.__xss=13">bad-url';

/** A copy of dist/ (symlinks) whose demo catalog is hostile. */
function hostileRoot(): { root: string; items: CatalogItem[] } {
  const root = mkdtempSync(join(tmpdir(), 'recs-xss-'));
  for (const entry of readdirSync(DIST)) if (entry !== 'catalog') symlinkSync(join(DIST, entry), join(root, entry));
  mkdirSync(join(root, 'catalog'));
  const items: CatalogItem[] = catalog.slice(0, 400).map((it) => ({ ...it }));
  HOSTILE_TITLES.forEach((title, i) => {
    items[i] = {
      id: i === 0 ? HOSTILE_ID : `hostile-${i}`,
      title,
      category: '<b onmouseover="window.__xss=3">Horror</b>',
      tags: ['Horror', '<i onclick="window.__xss=4">tag</i>'],
      description: '<style>body{display:none}</style> a haunted house story',
    };
  });
  // refused, and its id (HTML) is echoed in the error banner
  items.push({ id: BAD_ID, title: 'Refused image', imageUrl: 'javascript:window.__xss=12' } as CatalogItem);
  writeFileSync(join(root, 'catalog', 'movielens-demo.json'), JSON.stringify(items));
  return { root, items };
}

describe('XSS: catalog text is never interpreted as HTML anywhere in the UI', () => {
  let server: StaticServer;
  let root: string;
  before(async () => {
    root = hostileRoot().root;
    server = await serveStatic(root); // no CSP here: a slip would execute, not just be blocked
  });
  after(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('a hostile catalog renders as text in cards, search, "Because you viewed", history and the error banner; nothing runs', async () => {
    const context = await browser.newContext();
    const page = await openDemo(context, `${server.url}#backend=wasm`);
    const baseline = await page.evaluate(() => document.querySelectorAll('img, script, iframe, a[href^="javascript"], style, b, i').length);
    // browse shows the hostile items on the first page; search finds them
    await page.fill('#search-input', 'haunted hotel shining');
    const hostileCard = page.locator('#search-results .rec-card').filter({ hasText: 'Shining haunted hotel' }).first();
    await hostileCard.waitFor({ timeout: 60_000 });
    await hostileCard.locator('.card-actions button[data-action="click"]').click(); // "Because you viewed <title>" and the history panel
    await page.waitForFunction(() => !(document.querySelector('#because-viewed') as HTMLElement).hidden, undefined, { timeout: 30_000 });
    await page.locator('#privacy-history li').first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(300);

    const ui = await page.evaluate(() => ({
      xss: window.__xss,
      injected: document.querySelectorAll('img, script, iframe, a[href^="javascript"], style, b, i').length,
      titles: [...document.querySelectorAll('.rec-card .card-title')].map((t) => t.textContent ?? ''),
      ids: [...document.querySelectorAll('.rec-card')].map((c) => c.getAttribute('data-item-id') ?? ''),
      because: document.querySelector('#because-heading')?.textContent ?? '',
      history: [...document.querySelectorAll('#privacy-history .event-item')].map((e) => e.textContent ?? ''),
      banner: document.querySelector('#error-banner .error-text')?.textContent ?? '',
    }));
    assert.equal(ui.xss, undefined, 'no catalog text ran as script');
    assert.equal(ui.injected, baseline, 'no element was created from catalog text');
    assert.ok(ui.titles.includes(HOSTILE_TITLES[0]), 'a hostile title is shown literally, as text');
    assert.ok(ui.ids.includes(HOSTILE_ID), 'a hostile id is kept literally in data-item-id');
    assert.equal(ui.because, `Because you viewed ${HOSTILE_TITLES[0]}`);
    assert.ok(ui.history.includes(HOSTILE_TITLES[0]), `history shows the title as text: ${ui.history.join(' | ')}`);
    assert.match(ui.banner, /skipped/, 'the refused javascript: image URL is reported');
    assert.ok(ui.banner.includes(BAD_ID), `the banner shows the refused item's id as text: ${ui.banner}`);
    // the other hostile items, found by search, render as text too
    for (const title of HOSTILE_TITLES.slice(1)) {
      const words = title
        .replace(/<[^>]*>/g, ' ')
        .replace(/[^A-Za-z ]/g, ' ')
        .trim()
        .split(/\s+/)
        .slice(-2)
        .join(' ');
      await page.fill('#search-input', words);
      await page.locator('#search-results .rec-card .card-title', { hasText: words }).first().waitFor({ timeout: 30_000 });
      const shown = await page.$$eval('#search-results .rec-card .card-title', (els) => els.map((e) => e.textContent));
      assert.ok(shown.includes(title), `"${title}" shown literally among ${shown.join(' | ')}`);
    }
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.evaluate(() => document.querySelectorAll('img, script, iframe, a[href^="javascript"], style, b, i').length), baseline);
    await context.close();
  });
});
