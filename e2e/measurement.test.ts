/**
 * Opt-in measurement in Chromium, on the demo build: with measurement off (the
 * default) nothing but static GETs leaves the page (also e2e/security.test.ts);
 * with it on (`#measurement=send`, short visits and delays), only the configured
 * endpoint receives requests besides static GETs, each body is exactly the
 * documented fields in REPORT_BYTES bytes with no item id, title, query, cookie or
 * identifier; the daily budget (ε 4 of 8: two reports) stops reports once spent;
 * export shows the reports sent; delete removes the counts. The toggle shows
 * what would be sent and sends nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page, Request } from 'playwright-core';
import type { CatalogItem, ExportedData, Recommender } from '../src/types';
import { parseReport, REPORT_BYTES, REPORT_FIELDS } from '../src/measurement/ldp';
import { DIST, launch, openDemo, serveStatic, type StaticServer } from './harness';

declare global {
  interface Window {
    __recs: Recommender;
  }
}

const catalog = JSON.parse(readFileSync(join(DIST, 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];
const byId = new Map(catalog.map((c) => [c.id, c]));

let browser: Browser;
let server: StaticServer;
let root: string;
before(async () => {
  // dist/ plus an endpoint: the static server answers a POST to an existing file with 200
  root = mkdtempSync(join(tmpdir(), 'recs-measure-'));
  for (const entry of readdirSync(DIST)) symlinkSync(join(DIST, entry), join(root, entry));
  writeFileSync(join(root, 'measure'), 'ok');
  server = await serveStatic(root);
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

/** Clicks the first "For you" card and waits until the demo rendered again (a new slate: the visit goes on). */
async function clickForYou(page: Page): Promise<string> {
  const card = page.locator('#for-you .rec-card').first();
  const id = (await card.getAttribute('data-item-id')) as string;
  await card.locator('button[data-action="click"]').first().click();
  await page.waitForFunction((n) => window.__recs.history().then((h) => h.length >= n), 1, { polling: 100 });
  return id;
}

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out: ${what}`);
}

interface MeasurementState {
  days: { visits: number; reported: number; unreported: number }[];
  sent: { body: string }[];
}
const stateOf = (page: Page): Promise<MeasurementState | undefined> =>
  page.evaluate(() => window.__recs.exportData().then((d: ExportedData) => JSON.parse(JSON.stringify(d.settings.measurement ?? null)) ?? undefined));

describe('measurement in Chromium', () => {
  test('off by default: nothing but GETs of static files, no body', async () => {
    const context = await browser.newContext();
    const requests: Request[] = [];
    context.on('request', (r) => requests.push(r));
    const page = await openDemo(context, `${server.url}#backend=wasm`);
    await clickForYou(page);
    await page.waitForTimeout(500);
    assert.ok(requests.length > 5);
    for (const r of requests) {
      assert.equal(r.method(), 'GET', r.url());
      assert.equal(r.postData(), null);
    }
    assert.equal(await stateOf(page), undefined, 'no measurement state');
    await context.close();
  });

  test('on: only the endpoint gets POSTs, each exactly the documented fields and size, no identifier; the daily budget stops them; export shows them; delete removes the counts', async () => {
    const context = await browser.newContext();
    const origin = new URL(server.url).origin;
    await context.addCookies([{ name: 'session', value: 'visitor-123', url: origin }]);
    const requests: Request[] = [];
    context.on('request', (r) => requests.push(r));
    const page = await openDemo(context, `${server.url}#backend=wasm&measurement=send&measure-gap=700&measure-delay=100`);
    const QUERY = 'zebra haunted lighthouse';
    const clicked: string[] = [];
    // three visits (each ends after 700 ms without a new slate); the budget allows two reports
    for (let visit = 1; visit <= 3; visit++) {
      clicked.push(await clickForYou(page));
      if (visit === 1) {
        await page.fill('#search-input', QUERY);
        await page.press('#search-input', 'Enter');
      }
      await until(async () => ((await stateOf(page))?.days ?? []).reduce((sum, d) => sum + d.visits, 0) >= visit, `visit ${visit} ended`);
    }
    await page.waitForTimeout(600); // pending sends land
    const posts = requests.filter((r) => r.method() !== 'GET');
    assert.equal(posts.length, 2, `two reports, then the day's budget is spent: ${posts.map((p) => p.url()).join(', ')}`);
    const state = (await stateOf(page)) as MeasurementState;
    assert.deepEqual(
      state.days.map((d) => [d.visits, d.reported, d.unreported]),
      [[3, 2, 1]],
    );
    const today = new Date().toISOString().slice(0, 10);
    const secrets = [QUERY, 'zebra', ...clicked.map((id) => byId.get(id)?.title ?? id), 'visitor-123'];
    for (const r of requests) {
      assert.equal(new URL(r.url()).origin, origin, `${r.url()} left the origin`);
      if (r.method() === 'GET') {
        assert.equal(r.postData(), null);
        continue;
      }
      assert.equal(r.method(), 'POST');
      assert.equal(r.url(), `${origin}/measure`, 'only the configured endpoint receives requests');
      const body = r.postData() as string;
      assert.equal(Buffer.byteLength(body), REPORT_BYTES, 'constant size');
      const parsed = JSON.parse(body) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed), [...REPORT_FIELDS], 'exactly the documented fields');
      const report = parseReport(body);
      assert.equal(typeof report, 'object', String(report));
      assert.equal(parsed.day, today, 'a day, nothing finer');
      assert.equal(parsed.placement, 'demo');
      for (const s of secrets) assert.ok(!body.toLowerCase().includes(s.toLowerCase()), `the body carries "${s}"`);
      for (const id of clicked) assert.ok(!body.includes(`"${id}"`), `the body carries item id ${id}`);
      const headers = await r.allHeaders();
      assert.equal(headers.cookie, undefined, 'no cookie');
      assert.equal(headers.referer, undefined, 'no referrer');
    }
    // export shows exactly the reports that were sent
    assert.deepEqual(
      state.sent.map((s) => s.body),
      posts.map((p) => p.postData()),
    );
    // delete removes the counts
    await page.evaluate(async () => {
      // the demo's own refreshes would show a new slate (a new visit) right after the deletion: stop them first
      const r = window.__recs as unknown as Record<string, unknown>;
      for (const m of ['recommend', 'history', 'stats', 'similar', 'search', 'explain']) r[m] = () => new Promise(() => undefined);
      await window.__recs.deleteData();
    });
    await page.waitForTimeout(300);
    assert.deepEqual(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name)), []);
    await context.close();
  });

  test('the demo toggle shows what would be sent and sends nothing', async () => {
    const context = await browser.newContext();
    const requests: Request[] = [];
    context.on('request', (r) => requests.push(r));
    const page = await openDemo(context, `${server.url}#backend=wasm&measure-gap=500&measure-delay=50`);
    assert.equal(await page.isChecked('#measurement-toggle'), false);
    await Promise.all([page.waitForEvent('load'), page.check('#measurement-toggle')]);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 180_000 });
    assert.equal(await page.isChecked('#measurement-toggle'), true);
    await clickForYou(page);
    await page.locator('#measurement-reports li').first().waitFor({ timeout: 30_000 });
    const shown = (await page.locator('#measurement-reports li code').first().textContent()) as string;
    assert.deepEqual(Object.keys(JSON.parse(shown)), [...REPORT_FIELDS]);
    assert.equal(requests.filter((r) => r.method() !== 'GET').length, 0, 'nothing sent');
    await context.close();
  });
});
