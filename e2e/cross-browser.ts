/**
 * The main flows, run the same way in Chromium, Firefox ESR and WebKitGTK
 * (e2e/cross-browser-<browser>.test.ts each call crossBrowserSuite once, so
 * one browser's run is one file: one launch, fresh contexts per flow):
 * - the demo: first slate, three clicks personalise "For you", a reload keeps the history, export, delete;
 * - the README quick start from the packed tarball (script tag + element);
 * - the element's ARIA and keyboard checks under a strict Content-Security-Policy;
 * - privacy: no request leaves the origin, none carries tracked data, no CSP violation, delete leaves nothing;
 * - two tabs writing at once;
 * - the WASM fallback, and the WebGPU path where the browser has WebGPU.
 * A flow a browser cannot run is reported "n/a" with the reason (t.skip), never left out.
 *
 * Every page of these sites loads probe.js first (a same-origin script, allowed by
 * the strict CSP): it records console warnings and errors, uncaught errors, CSP
 * violations and recs-error events into window.__probe, so the same checks read the
 * same record in every browser, whether or not its driver reports console messages.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test, type TestContext as NodeTestContext } from 'node:test';
import type { ExportedData, Recommender } from '../src/types';
import { launchBrowser, type BrowserName, type SeenRequest, type TestBrowser, type TestPage } from './browsers';
import {
  assertSharesClickedGenres,
  demoFixture,
  FOCUSED_CARD_IN_PAGE,
  DIST,
  ELEMENT_ARIA_IN_PAGE,
  PERSONALISED_IN_PAGE,
  QUIET_DEMO_IN_PAGE,
  serveStatic,
  STORAGE_LEFT_IN_PAGE,
  STORED_EVENTS_IN_PAGE,
  STRICT_CSP,
  type StaticServer,
} from './harness';
import { quickStartSite } from './package';

declare global {
  interface Window {
    __recs: Recommender;
    __probe: Probe;
    __burst?: string;
  }
}

/** What probe.js records in the page. */
interface Probe {
  console: { type: string; text: string }[];
  errors: string[];
  csp: string[];
  recsErrors: { id: string; code: string; message: string }[];
}

const PROBE_JS = `(() => {
  const probe = { console: [], errors: [], csp: [], recsErrors: [] };
  window.__probe = probe;
  for (const level of ['warn', 'error']) {
    const original = console[level].bind(console);
    console[level] = (...args) => {
      probe.console.push({ type: level, text: args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ') });
      original(...args);
    };
  }
  addEventListener('error', (e) => probe.errors.push(String(e.message)));
  addEventListener('unhandledrejection', (e) => probe.errors.push(String((e.reason && e.reason.message) || e.reason)));
  document.addEventListener('securitypolicyviolation', (e) => probe.csp.push(e.violatedDirective + ' ' + e.blockedURI));
  document.addEventListener('recs-error', (e) => {
    const error = (e.detail && e.detail.error) || {};
    probe.recsErrors.push({ id: e.target.id, code: String(error.code), message: String(error.message) });
  });
})();
`;
const PROBE_TAG = '<script src="/probe.js"></script>';
const CSP_REPORT_PATH = '/__csp-report';
const CSP = `${STRICT_CSP}; report-uri ${CSP_REPORT_PATH}`;

const fixture = demoFixture();
const { catalog, byId, HORROR } = fixture;
const HORROR_TITLES = HORROR.map((m) => byId.get(m.id)?.title ?? '');

/** The built demo (dist/) with probe.js loaded first, in a folder of symlinks. */
function demoSite(): string {
  const root = mkdtempSync(join(tmpdir(), 'odr-xb-demo-'));
  for (const entry of readdirSync(DIST)) if (entry !== 'index.html') symlinkSync(join(DIST, entry), join(root, entry));
  writeFileSync(join(root, 'index.html'), readFileSync(join(DIST, 'index.html'), 'utf8').replace('<head>', `<head>\n    ${PROBE_TAG}`));
  writeFileSync(join(root, 'probe.js'), PROBE_JS);
  return root;
}

interface Sites {
  /** The demo, cross-origin isolated, under the strict CSP with a report-uri. */
  demo: StaticServer;
  /** The README's quick-start page (installed from the packed tarball), no COOP/COEP, no CSP, as the README has it. */
  quickstart: StaticServer;
  /** The same installed package under the strict CSP: element.html holds the elements the checks use. */
  element: StaticServer;
  /** Scratch folders to remove afterwards (the quick start's holds an npm install). */
  folders: string[];
}

async function buildSites(): Promise<Sites> {
  const demoRoot = demoSite();
  const demo = await serveStatic(demoRoot, { 'Content-Security-Policy': CSP });
  const { site, publicDir } = quickStartSite(PROBE_TAG);
  writeFileSync(join(publicDir, 'probe.js'), PROBE_JS);
  writeFileSync(
    join(publicDir, 'element.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>element</title>${PROBE_TAG}<script src="/recs/embed.js" data-catalog="/catalog.json" data-autotrack="off"></script></head>` +
      '<body><on-device-recs id="a" k="5"></on-device-recs><on-device-recs id="u" mode="similar" item-id="no-such-item"></on-device-recs></body></html>\n',
  );
  const quickstart = await serveStatic(publicDir, {}, { isolated: false });
  const element = await serveStatic(publicDir, { 'Content-Security-Policy': CSP }, { isolated: false });
  return { demo, quickstart, element, folders: [demoRoot, site] };
}

// ------------------------------------------------------------------ page-side checks (serialized into the page)

const ready = (): boolean => document.body.dataset.ready === 'true';

const forYouCards = (): { id: string; reason: string }[] =>
  [...document.querySelectorAll('#for-you .rec-card')].map((c) => ({
    id: c.getAttribute('data-item-id') ?? '',
    reason: c.querySelector('.reason')?.textContent ?? '',
  }));

async function openDemoIn(page: TestPage, timeoutMs = 180_000): Promise<void> {
  await page.waitFor('the first slate (body[data-ready])', ready, undefined, timeoutMs);
}

async function clickViaSearch(page: TestPage, id: string, query: string): Promise<void> {
  await page.fill('#search-input', query);
  await page.click(`#search-results .rec-card[data-item-id="${id}"] .card-actions button[data-action="click"]`);
  // wait until IndexedDB holds it (read directly): history() already lists a queued event, and a reload
  // before the write commits loses it (reported lost on the next load). WebKit commits in 30-150 ms here,
  // so a reload right after history() showed the third click lost it there, 2 runs in 3.
  for (const deadline = Date.now() + 30_000; ; await new Promise((r) => setTimeout(r, 100))) {
    const stored = await page.evaluate(STORED_EVENTS_IN_PAGE, 'on-device-recs');
    if (stored.some((e) => e.itemId === id && e.type === 'click')) return;
    if (Date.now() > deadline) throw new Error(`the click on ${id} was not stored in IndexedDB within 30 s`);
  }
}

async function waitForPersonalised(page: TestPage): Promise<void> {
  await page.waitFor('"For you" to follow the three clicks', PERSONALISED_IN_PAGE, { want: HORROR_TITLES, ids: HORROR.map((m) => m.id) }, 60_000);
}

/** Network requests only (data: and blob: URLs never leave the browser). */
const network = (requests: SeenRequest[]): SeenRequest[] => requests.filter((r) => /^(https?|wss?):/.test(r.url) || r.method === 'CONNECT');

function assertNothingLeft(requests: SeenRequest[], origin: string, secrets: string[], ids: string[], where: string): void {
  const seen = network(requests);
  assert.ok(seen.length > 5, `${where}: requests were observed (${seen.length})`);
  for (const r of seen) {
    const url = new URL(r.url);
    assert.equal(url.origin, origin, `${where}: request to ${r.url} left the page's origin`);
    assert.equal(r.method, 'GET', `${where}: ${r.method} ${r.url}`);
    assert.equal(r.bodyBytes, 0, `${where}: a body was sent to ${r.url}`);
    assert.equal(url.search, '', `${where}: no query string on ${r.url}: static files need none`);
    const text = decodeURIComponent(r.url).toLowerCase();
    for (const s of secrets) assert.ok(!text.includes(s.toLowerCase()), `${where}: ${r.url} carries "${s}"`);
    for (const id of ids) assert.doesNotMatch(text, new RegExp(`(^|[^0-9a-z])${id}([^0-9a-z]|$)`), `${where}: ${r.url} carries item id ${id}`);
  }
}

/** Reports a flow the browser cannot run as not applicable, with the reason, on the test and on stdout. */
function notApplicable(t: NodeTestContext, browser: TestBrowser, reason: string): void {
  const text = `n/a in ${browser.version}: ${reason}`;
  process.stdout.write(`# ${t.name}: ${text}\n`);
  t.skip(text);
}

// ------------------------------------------------------------------ the suite

const LABEL: Record<BrowserName, string> = { chromium: 'Chromium', firefox: 'Firefox ESR', webkit: 'WebKitGTK (Safari engine)' };

export function crossBrowserSuite(name: BrowserName): void {
  describe(`main flows in ${LABEL[name]}`, { timeout: 900_000 }, () => {
    let sites: Sites;
    let browser: TestBrowser;
    before(async () => {
      sites = await buildSites();
      browser = await launchBrowser(name, { webgpu: true, origins: [sites.demo.url, sites.quickstart.url, sites.element.url] });
    });
    // a failed flow leaves its context open: close it, or the next one cannot start (a WebKitWebDriver holds one session)
    afterEach(() => browser?.closeContexts());
    after(async () => {
      if (browser) process.stdout.write(`# ${LABEL[name]}: ${browser.version}, requests observed by the ${browser.requestSource}\n`);
      await browser?.close();
      await Promise.all([sites?.demo.close(), sites?.quickstart.close(), sites?.element.close()]);
      for (const dir of sites?.folders ?? []) rmSync(dir, { recursive: true, force: true });
    });

    test('demo: first slate, three clicks personalise "For you", a reload keeps the history, export, delete', { timeout: 420_000 }, async () => {
      const context = await browser.newContext();
      const page = await context.open(sites.demo.url);
      await openDemoIn(page);
      const first = await page.evaluate(forYouCards);
      assert.ok(first.length >= 6, `first recommendations rendered (${first.length})`);

      for (const m of HORROR) await clickViaSearch(page, m.id, m.query);
      await waitForPersonalised(page);
      const recs = (await page.evaluate(forYouCards)).slice(0, 10);
      assert.equal(recs.length, 10);
      assertSharesClickedGenres(recs, fixture);
      assert.equal(await page.evaluate(() => !(document.querySelector('#because-viewed') as HTMLElement).hidden), true, '"Because you viewed" shows');

      // reload: the history and the personalisation survive
      await page.reload();
      await openDemoIn(page, 120_000);
      await waitForPersonalised(page);
      const stored = await page.evaluate(STORED_EVENTS_IN_PAGE, 'on-device-recs');
      assert.deepEqual(
        stored.map((e) => [e.type, e.itemId]),
        HORROR.map((m) => ['click', m.id]),
      );

      // export returns exactly the tracked events
      const exported = await page.evaluate(() => window.__recs.exportData().then((d) => JSON.parse(JSON.stringify(d)) as ExportedData));
      assert.equal(exported.format, 'on-device-recs/v1');
      assert.deepEqual(
        exported.events.map((e) => [e.type, e.itemId]),
        HORROR.map((m) => ['click', m.id]),
      );
      assert.deepEqual(exported.events.map((e) => e.eventId).sort(), stored.map((e) => e.eventId).sort());

      // delete empties IndexedDB and resets the UI
      await page.evaluate(() => void (document.body.dataset.noConfirm = 'true'));
      await page.click('#delete-button');
      await page.waitFor(
        'the privacy panel to count 0 events',
        () => document.querySelector('#privacy-events')?.textContent?.trim() === '0',
        undefined,
        30_000,
      );
      assert.deepEqual(await page.evaluate(STORED_EVENTS_IN_PAGE, 'on-device-recs'), []);
      await page.waitFor(
        'no reason naming a deleted click',
        () => [...document.querySelectorAll('#for-you .rec-card .reason')].every((r) => !(r.textContent ?? '').startsWith('Because')),
        undefined,
        30_000,
      );
      assert.equal(await page.evaluate(() => (document.querySelector('#because-viewed') as HTMLElement).hidden), true);
      const probe = await page.evaluate(() => window.__probe);
      assert.deepEqual(probe.errors, [], 'no uncaught error');
      await context.close();
    });

    test(
      'README quick start from the packed tarball: the script tag and the element show 8 recommendations that follow a click',
      { timeout: 300_000 },
      async () => {
        const context = await browser.newContext();
        const page = await context.open(sites.quickstart.url);
        await page.waitFor(
          '8 cards in <on-device-recs>',
          () => (document.querySelector('on-device-recs')?.shadowRoot?.querySelectorAll('li').length ?? 0) >= 8,
          undefined,
          180_000,
        );
        const first = await page.evaluate(() =>
          [...(document.querySelector('on-device-recs')?.shadowRoot?.querySelectorAll('li') ?? [])].map(
            (li) => (li as HTMLElement).dataset.itemId ?? '',
          ),
        );
        assert.equal(first.length, 8);
        assert.equal(new Set(first).size, 8);
        const why = await page.evaluate(
          () => document.querySelector('on-device-recs')!.shadowRoot!.querySelector('[part="reason"]')?.textContent ?? '',
        );
        assert.ok(why.length > 0, 'each card says why');

        const clicked = first[0];
        await page.evaluate(() => (document.querySelector('on-device-recs')!.shadowRoot!.querySelector('.card') as HTMLElement).click());
        await page.waitFor(
          'a slate of 8 without the clicked item',
          (id: string) => {
            const ids = [...(document.querySelector('on-device-recs')?.shadowRoot?.querySelectorAll('li') ?? [])].map(
              (li) => (li as HTMLElement).dataset.itemId,
            );
            return ids.length === 8 && !ids.includes(id);
          },
          clicked,
          60_000,
        );
        const stored = await page.evaluate(STORED_EVENTS_IN_PAGE, 'on-device-recs');
        assert.ok(
          stored.some((e) => e.type === 'click' && e.itemId === clicked),
          'the click is in IndexedDB',
        );
        const reasons = await page.evaluate(() =>
          [...document.querySelector('on-device-recs')!.shadowRoot!.querySelectorAll('[part="reason"]')].map((r) => r.textContent ?? ''),
        );
        assert.ok(
          reasons.some((r) => r.includes('Because you')),
          `a reason refers to the click: ${reasons.join(' | ')}`,
        );
        const origin = new URL(sites.quickstart.url).origin;
        assert.deepEqual(
          network(context.requests)
            .map((r) => r.url)
            .filter((u) => !u.startsWith(`${origin}/`)),
          [],
          'no request leaves the site',
        );
        const probe = await page.evaluate(() => window.__probe);
        assert.deepEqual([...probe.errors, ...probe.console.filter((c) => c.type === 'error').map((c) => c.text)], [], 'no error in the page');
        await context.close();
      },
    );

    test(
      '<on-device-recs> under a strict CSP: ARIA roles and labels, keyboard (arrows, Home, End), a neutral line and a coded error for an unknown item',
      { timeout: 300_000 },
      async () => {
        const context = await browser.newContext();
        const page = await context.open(`${sites.element.url}element.html`);
        await page.waitFor(
          '5 cards in #a',
          () => (document.getElementById('a')?.shadowRoot?.querySelectorAll('li').length ?? 0) === 5,
          undefined,
          180_000,
        );

        const aria = await page.evaluate(ELEMENT_ARIA_IN_PAGE, 'a');
        assert.equal(aria.role, 'list');
        assert.equal(aria.heading, 'Recommended for you');
        assert.equal(aria.region, 'heading');
        assert.deepEqual(aria.cards, ['BUTTON', 'BUTTON', 'BUTTON', 'BUTTON', 'BUTTON']);
        assert.match(aria.dismissLabel ?? '', /^Not interested in /);
        assert.ok(aria.status, 'a status region (role=status: announced politely)');

        // keyboard through the driver's key events: arrows, Home and End move between the cards
        const focused = (): Promise<number> => page.evaluate(FOCUSED_CARD_IN_PAGE);
        await page.evaluate(() => (document.getElementById('a')!.shadowRoot!.querySelector('.card') as HTMLElement).focus());
        assert.equal(await focused(), 0);
        const moves: [Parameters<TestPage['press']>[0], number][] = [
          ['ArrowRight', 1],
          ['End', 4],
          ['ArrowLeft', 3],
          ['Home', 0],
        ];
        for (const [key, want] of moves) {
          await page.press(key);
          assert.equal(await focused(), want, `${key} moves the focus to card ${want}`);
        }

        // an unknown item: a neutral line in that element for the visitor, a coded error for the integrator
        await page.waitFor(
          'the neutral line in #u',
          () => /not available/.test(document.getElementById('u')?.shadowRoot?.querySelector('[role="status"]')?.textContent ?? ''),
          undefined,
          60_000,
        );
        assert.equal(
          await page.evaluate(() => document.getElementById('u')!.shadowRoot!.querySelector('[role="status"]')!.textContent),
          'Recommendations are not available right now.',
        );
        const probe = await page.evaluate(() => window.__probe);
        assert.ok(
          probe.recsErrors.some((r) => r.id === 'u' && r.code === 'unknown_item' && r.message.includes('no-such-item')),
          `recs-error names the item: ${JSON.stringify(probe.recsErrors)}`,
        );
        assert.ok(
          probe.console.some((c) => c.type === 'warn' && c.text.includes('unknown_item') && c.text.includes('no-such-item')),
          `console: ${JSON.stringify(probe.console)}`,
        );
        assert.deepEqual(probe.csp, [], 'no CSP violation in the page');
        assert.deepEqual(probe.errors, []);
        assert.equal(sites.element.log.filter((l) => l.path === CSP_REPORT_PATH).length, 0, 'no CSP violation report (page or worker)');
        await context.close();
      },
    );

    test('privacy: no request leaves the origin or carries tracked data, no CSP violation, delete leaves nothing', { timeout: 300_000 }, async () => {
      const context = await browser.newContext();
      const page = await context.open(sites.demo.url);
      await openDemoIn(page);
      const QUERY = 'zebra haunted lighthouse';
      await page.fill('#search-input', 'shining');
      await page.click('#search-results .rec-card[data-item-id="1258"] button[data-action="click"]');
      await page.fill('#search-input', QUERY);
      await page.press('Enter');
      await page.evaluate(() =>
        Promise.all([
          window.__recs.track({ type: 'like', itemId: '1997' }),
          window.__recs.track({ type: 'add_to_cart', itemId: '1982', context: { slot: 'api' } }),
        ]).then(() => undefined),
      );
      await page.waitFor('four events in history()', () => window.__recs.history().then((h) => h.length >= 4), undefined, 30_000);
      const exported = await page.evaluate(() => window.__recs.exportData().then((d) => JSON.parse(JSON.stringify(d)) as ExportedData));
      assert.ok(
        exported.events.some((e) => e.type === 'search' && e.query === QUERY),
        `the search was tracked: ${JSON.stringify(exported.events.map((e) => e.type))}`,
      );
      await page.evaluate(() => window.__recs.recommend({ k: 10 }).then(() => undefined));

      // the demo's own refreshes would write state again after the delete: stop them first
      await page.evaluate(QUIET_DEMO_IN_PAGE);
      await page.evaluate(() => window.__recs.deleteData());
      const left = await page.evaluate(STORAGE_LEFT_IN_PAGE);
      assert.deepEqual(left, { databases: [], caches: [], localStorage: 0, sessionStorage: 0 });

      await new Promise((r) => setTimeout(r, 500));
      const probe = await page.evaluate(() => window.__probe);
      assert.deepEqual(probe.csp, [], 'no CSP violation in the page');
      assert.equal(sites.demo.log.filter((l) => l.path === CSP_REPORT_PATH).length, 0, 'no CSP violation report (page or worker)');

      const origin = new URL(sites.demo.url).origin;
      const tracked = ['1258', '1997', '1982'];
      const secrets = [QUERY, ...QUERY.split(' '), ...tracked.map((id) => byId.get(id)?.title ?? id), 'add_to_cart'];
      assertNothingLeft(context.requests, origin, secrets, tracked, `${browser.version} (${browser.requestSource})`);
      // the observer sees the worker's requests too: onnxruntime's wasm and the encoder are fetched by the worker
      const paths = network(context.requests).map((r) => new URL(r.url).pathname);
      assert.ok(
        paths.some((p) => p.endsWith('.wasm')) && paths.some((p) => p.endsWith('.onnx')),
        `the worker's requests were observed: ${paths.join(' ')}`,
      );
      assert.ok(
        sites.demo.log.every((l) => l.bodyBytes === 0 && l.method === 'GET'),
        'the server received no request body',
      );
      await context.close();
    });

    test('two tabs track 200 events each at the same time: all 400 stored exactly once', { timeout: 300_000 }, async () => {
      const context = await browser.newContext();
      const a = await context.open(sites.demo.url);
      const b = await context.open(sites.demo.url);
      await openDemoIn(a);
      await openDemoIn(b);
      const ids = catalog.slice(0, 200).map((c) => c.id);
      // start both bursts before waiting for either (a WebDriver session runs one command at a time)
      for (const [tab, page] of [a, b].entries()) {
        await page.evaluate(
          ({ ids, tab }) =>
            void Promise.all(ids.map((id) => window.__recs.track({ type: 'view', itemId: id, context: { tab } }))).then(
              () => (window.__burst = 'stored'),
              (e: unknown) => (window.__burst = `failed: ${String(e)}`),
            ),
          { ids, tab },
        );
      }
      for (const page of [a, b]) await page.waitFor('the burst to settle', () => window.__burst !== undefined, undefined, 120_000);
      assert.deepEqual(await Promise.all([a, b].map((p) => p.evaluate(() => window.__burst))), ['stored', 'stored']);
      await b.close();
      await a.reload();
      await openDemoIn(a, 120_000);
      const stored = await a.evaluate(STORED_EVENTS_IN_PAGE, 'on-device-recs');
      assert.equal(stored.length, 400);
      assert.equal(new Set(stored.map((e) => e.eventId)).size, 400, 'no duplicates');
      assert.equal((await a.evaluate(() => window.__recs.stats())).events, 400);
      await context.close();
    });

    test('WASM fallback: WebGPU requested where there is no adapter, the demo runs on WASM and personalises', { timeout: 300_000 }, async () => {
      // Chromium is launched once more without the WebGPU flags: no adapter; Firefox ESR and WebKitGTK have no navigator.gpu here
      const noGpu = name === 'chromium' ? await launchBrowser('chromium', { webgpu: false }) : browser;
      try {
        const context = await noGpu.newContext();
        const page = await context.open(`${sites.demo.url}#backend=webgpu`);
        const adapter = await page.evaluate(async () => {
          const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
          return gpu ? (await gpu.requestAdapter().catch(() => null)) !== null : false;
        });
        assert.equal(adapter, false, 'this browser has no WebGPU adapter');
        await openDemoIn(page);
        assert.equal(await page.evaluate(() => document.querySelector('#backend-badge')?.getAttribute('data-backend')), 'wasm');
        assert.equal((await page.evaluate(() => window.__recs.stats())).backend, 'wasm');
        for (const m of HORROR) await clickViaSearch(page, m.id, m.query);
        await waitForPersonalised(page);
        await context.close();
      } finally {
        if (noGpu !== browser) await noGpu.close();
      }
    });

    test('WebGPU: the demo on the WebGPU path (#backend=webgpu)', { timeout: 300_000 }, async (t) => {
      const context = await browser.newContext();
      const page = await context.open(`${sites.demo.url}#backend=webgpu`);
      const gpu = await page.evaluate(async () => {
        const g = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
        if (!g) return 'no navigator.gpu';
        return (await g.requestAdapter().catch(() => null)) ? 'adapter' : 'navigator.gpu without an adapter';
      });
      if (gpu !== 'adapter') {
        await context.close();
        notApplicable(
          t,
          browser,
          `${gpu} (WebGPU is not enabled in this build on Linux), so the demo runs on WASM: the WASM fallback test covers it`,
        );
        return;
      }
      await openDemoIn(page);
      assert.equal(await page.evaluate(() => document.querySelector('#backend-badge')?.getAttribute('data-backend')), 'webgpu');
      assert.ok((await page.evaluate(forYouCards)).length >= 6);
      await context.close();
    });
  });
}
