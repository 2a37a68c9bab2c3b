/**
 * A full disk in a real browser: Chromium is given a tiny storage quota for the
 * test origin (DevTools' Storage.overrideQuotaForOrigin, set before the page
 * touches IndexedDB), then the page tracks events. Every track() must reject with
 * code quota_exceeded (not a bare storage or unknown), across the worker boundary,
 * and every error event the engine sends meanwhile (the vector cache, the
 * exploration state, the event queue) must carry quota_exceeded too: a page can
 * tell a full disk from a broken database. Run on the demo (dist/) and on the
 * script-tag bundle of the package (lib/embed.js).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, serveStatic, type StaticServer } from './harness';
import { ROOT } from './package';
import type { Recommender } from '../src/types';
import type {} from '../src/embed';

declare global {
  interface Window {
    __recs: Recommender;
  }
}

let demo: StaticServer;
let packaged: StaticServer;
let browser: Browser;
/** Items of both catalogs (the package's site serves the demo catalog's first 300). */
let ids: string[] = [];

before(async () => {
  const site = mkdtempSync(join(tmpdir(), 'odr-quota-'));
  symlinkSync(join(ROOT, 'lib'), join(site, 'recs'));
  const items = JSON.parse(readFileSync(join(ROOT, 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as { id: string }[];
  ids = items.slice(0, 4).map((it) => it.id);
  writeFileSync(join(site, 'catalog.json'), JSON.stringify(items.slice(0, 300)));
  writeFileSync(
    join(site, 'index.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title><script src="/recs/embed.js" data-catalog="/catalog.json"></script></head><body><on-device-recs k="4"></on-device-recs></body></html>',
  );
  [demo, packaged, browser] = await Promise.all([serveStatic(), serveStatic(site, {}, { isolated: false }), launch({ webgpu: false })]);
});
after(async () => {
  await browser?.close();
  await Promise.all([demo?.close(), packaged?.close()]);
});

/** A context whose origin has `bytes` of storage quota, with a page that records every engine error event by code. */
async function tinyQuotaPage(url: string, bytes: number): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  // must be set before the origin opens IndexedDB: Chromium keeps the quota of a database it has open
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(url).origin, quotaSize: bytes });
  page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
  await page.goto(url);
  return { context, page };
}

interface Outcome {
  tracks: { code: string; message: string }[];
  events: { code: string; message: string }[];
}

/** Tracks `n` clicks one after the other (on the demo's recommender, or embed.js's), then asks for a slate (the exploration state is saved after it). */
function trackUnderQuota(page: Page, n: number, fromEmbed: boolean): Promise<Outcome> {
  return page.evaluate(
    async ({ n, fromEmbed, ids }) => {
      // (no named helper functions in here: the test runner's transpiler would wrap them in a helper the page lacks)
      const recs = fromEmbed ? (window.onDeviceRecs as { recommender: Recommender }).recommender : window.__recs;
      const events: { code: string; message: string }[] = [];
      recs.on((e) => e.type === 'error' && events.push({ code: e.code, message: e.message }));
      const tracks: { code: string; message: string }[] = [];
      for (let i = 0; i < n; i++) {
        await recs.track({ type: 'click', itemId: ids[i % ids.length] }).then(
          () => tracks.push({ code: 'stored', message: '' }),
          (e: { code?: string; message?: string }) => tracks.push({ code: String(e.code), message: String(e.message) }),
        );
      }
      await recs.recommend({ k: 4 }).catch(() => undefined);
      // the exploration state is written shortly after a slate: wait for its outcome (an error event) to arrive
      for (let i = 0; i < 200 && !events.some((e) => /exploration state/.test(e.message)); i++) await new Promise((r) => setTimeout(r, 25));
      return { tracks, events };
    },
    { n, fromEmbed, ids },
  );
}

function assertQuotaKept(out: Outcome, where: string): void {
  assert.equal(out.tracks.length, 3);
  for (const t of out.tracks) {
    assert.equal(t.code, 'quota_exceeded', `${where}: track() rejects with quota_exceeded: ${JSON.stringify(t)}`);
    assert.match(t.message, /quota exceeded/i);
    assert.match(t.message, /kept in memory and retried/);
  }
  assert.ok(
    out.events.some((e) => /exploration state/.test(e.message)),
    `${where}: the exploration state's failed save is reported: ${JSON.stringify(out.events)}`,
  );
  assert.deepEqual(
    [...new Set(out.events.map((e) => e.code))],
    ['quota_exceeded'],
    `${where}: every error event keeps quota_exceeded: ${JSON.stringify(out.events.map((e) => [e.code, e.message.slice(0, 80)]))}`,
  );
}

test('a tiny quota in Chromium (the demo): track() and error events say quota_exceeded', { timeout: 240_000 }, async () => {
  const { context, page } = await tinyQuotaPage(demo.url, 5_000);
  await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 180_000 });
  assertQuotaKept(await trackUnderQuota(page, 3, false), 'demo');
  // the visitor's session keeps working on the events kept in memory
  assert.equal(await page.evaluate(() => window.__recs.history().then((h) => h.length)), 3);
  await context.close();
});

test(
  'a tiny quota in Chromium (the package: embed.js and its worker): track() and error events say quota_exceeded',
  { timeout: 240_000 },
  async () => {
    const { context, page } = await tinyQuotaPage(packaged.url, 5_000);
    await page.waitForFunction(() => window.onDeviceRecs?.ready.then(() => true), undefined, { timeout: 180_000 });
    assertQuotaKept(await trackUnderQuota(page, 3, true), 'package');
    await context.close();
  },
);
