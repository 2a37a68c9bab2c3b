/**
 * The demo end to end in Debian Chromium, tried as a new visitor would:
 * load, click, reload, export, delete, two tabs, and the WASM-only browser.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { Recommender } from '../src/types';
import { assertSharesClickedGenres, demoFixture, openDemo, PERSONALISED_IN_PAGE, readStoredEvents, recordRequests, useBrowser } from './harness';

declare global {
  interface Window {
    __recs: Recommender;
  }
}

const fixture = demoFixture();
const { catalog, byId, genresOf, HORROR } = fixture;

async function clickViaSearch(page: Page, id: string, query: string): Promise<void> {
  await page.fill('#search-input', query);
  const button = page.locator(`#search-results .rec-card[data-item-id="${id}"] .card-actions button[data-action="click"]`);
  await button.waitFor({ timeout: 60_000 });
  await button.click();
  // the click is stored before history shows it
  await page.waitForFunction((itemId) => window.__recs.history().then((h) => h.some((e) => e.itemId === itemId && e.type === 'click')), id, {
    timeout: 30_000,
    polling: 200,
  });
}

async function forYou(page: Page): Promise<{ id: string; reason: string }[]> {
  return page.$$eval('#for-you .rec-card', (cards) =>
    cards.map((c) => ({ id: c.getAttribute('data-item-id') ?? '', reason: c.querySelector('.reason')?.textContent ?? '' })),
  );
}

/**
 * Waits until "For you" reflects every click: no clicked item listed, and every reason names a clicked title,
 * except the slots exploration filled from a source that explains itself ("Something new for you", "Trending").
 */
async function waitForPersonalised(page: Page, titles: string[], clickedIds: string[]): Promise<void> {
  await page.waitForFunction(PERSONALISED_IN_PAGE, { want: titles, ids: clickedIds }, { timeout: 60_000, polling: 250 });
}

/** Keeps what the demo's page writes with console.warn (the demo logs every engine error event there) in window.__errors. */
async function recordWarnings(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const errors: string[] = [];
    (window as unknown as { __errors: string[] }).__errors = errors;
    const warn = console.warn.bind(console);
    console.warn = (...args: unknown[]) => {
      errors.push(args.map(String).join(' '));
      warn(...args);
    };
  });
}

/** The demo ranks with its behaviour model by default: the worker loaded every file of its folder, and reported no error about it. */
async function assertBehaviourModelUsed(page: Page): Promise<void> {
  const files = await page.evaluate(() => window.__recs.loadedFiles());
  for (const f of ['manifest.json', 'model.onnx', 'items.bin', 'items.json', 'projection.bin'])
    assert.ok(
      files.some((u) => u.endsWith(`models/sequence-movielens/${f}`)),
      `sequence-movielens/${f} was loaded: ${files.filter((u) => u.includes('models/')).join(', ')}`,
    );
  const errors = await page.evaluate(() => (window as unknown as { __errors: string[] }).__errors);
  assert.deepEqual(
    errors.filter((m) => /behaviour model/i.test(m)),
    [],
  );
}

describe('demo in Chromium with WebGPU (SwiftShader)', () => {
  const env = useBrowser({ webgpu: true });

  test('fresh visitor: progress, first recommendations, three horror clicks personalise For you, reload keeps it, export and delete', async () => {
    const context = await env.browser().newContext();
    const requests = recordRequests(context);
    await recordWarnings(context);
    await context.addInitScript(() => {
      const phases: string[] = [];
      (window as unknown as { __phases: string[] }).__phases = phases;
      new MutationObserver(() => {
        const p = document.querySelector('#progress')?.getAttribute('data-phase');
        if (p && phases[phases.length - 1] !== p) phases.push(p);
      }).observe(document, { subtree: true, attributes: true, childList: true });
    });
    // '#backend=webgpu' forces the WebGPU provider (auto mode measures and picks WASM on SwiftShader)
    const page = await openDemo(context, `${env.server().url}#backend=webgpu`);
    const phases = await page.evaluate(() => (window as unknown as { __phases: string[] }).__phases);
    assert.ok(phases.includes('embed') || phases.includes('model'), `progress bar showed loading phases, saw ${phases.join(',')}`);
    assert.equal(await page.locator('#progress').isHidden(), true, 'progress bar hides when ready');
    assert.equal(await page.getAttribute('#backend-badge', 'data-backend'), 'webgpu');
    const first = await forYou(page);
    assert.ok(first.length >= 6, `first recommendations rendered (${first.length})`);

    for (const m of HORROR) await clickViaSearch(page, m.id, m.query);
    const titles = HORROR.map((m) => byId.get(m.id)?.title ?? '');
    await waitForPersonalised(
      page,
      titles,
      HORROR.map((m) => m.id),
    );
    const recs = (await forYou(page)).slice(0, 10);
    assert.equal(recs.length, 10);
    assertSharesClickedGenres(recs, fixture);
    // a slot exploration filled from a source that explains itself says so instead of naming a history item
    for (const r of recs.filter((x) => !/^(Something new for you|Trending in this catalog)/.test(x.reason)))
      assert.ok(
        titles.some((t) => r.reason.includes(t)),
        `reason "${r.reason}" names a clicked movie`,
      );
    assert.ok(
      recs.every((r) => !HORROR.some((m) => m.id === r.id)),
      'clicked movies are not recommended again',
    );
    assert.equal(await page.locator('#because-viewed').isVisible(), true);
    await assertBehaviourModelUsed(page);

    // reload: history and personalisation survive
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 120_000 });
    await waitForPersonalised(
      page,
      titles,
      HORROR.map((m) => m.id),
    );
    const stored = await readStoredEvents(page);
    assert.deepEqual(
      stored.map((e) => [e.type, e.itemId]),
      HORROR.map((m) => ['click', m.id]),
    );

    // export returns exactly the tracked events
    const exported = await page.evaluate(() => window.__recs.exportData());
    assert.equal(exported.format, 'on-device-recs/v1');
    assert.deepEqual(
      exported.events.map((e) => [e.type, e.itemId]),
      HORROR.map((m) => ['click', m.id]),
    );
    assert.deepEqual(exported.events.map((e) => e.eventId).sort(), stored.map((e) => e.eventId).sort());

    // delete empties IndexedDB and resets the UI
    await page.evaluate(() => (document.body.dataset.noConfirm = 'true'));
    await page.click('#delete-button');
    await page.waitForFunction(() => document.querySelector('#privacy-events')?.textContent?.trim() === '0', undefined, { timeout: 30_000 });
    assert.deepEqual(await readStoredEvents(page), []);
    await page.waitForFunction(
      () => [...document.querySelectorAll('#for-you .rec-card .reason')].every((r) => !(r.textContent ?? '').startsWith('Because')),
      undefined,
      { timeout: 30_000 },
    );
    assert.equal(await page.locator('#because-viewed').isVisible(), false);

    // every request went to our own origin, for static assets only, and carried no event data
    const origin = new URL(env.server().url).origin;
    for (const r of requests) {
      assert.equal(new URL(r.url).origin, origin, `request to ${r.url} left the page's origin`);
      assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
      assert.equal(r.postData, null);
      assert.equal(new URL(r.url).search, '', `no query string on ${r.url}`);
      assert.match(new URL(r.url).pathname, /(\/|\.(html|js|mjs|css|json|wasm|onnx|txt|bin|svg|ico|md))$/, `static asset: ${r.url}`);
    }
    assert.ok(
      env.server().log.every((l) => l.bodyBytes === 0 && l.method === 'GET'),
      'the server received no request bodies',
    );
    await context.close();
  });

  test('two tabs track 200 events each at the same time; all 400 stored exactly once', async () => {
    const context = await env.browser().newContext();
    const [a, b] = await Promise.all([openDemo(context, env.server().url), openDemo(context, env.server().url)]);
    const ids = catalog.slice(0, 200).map((c) => c.id);
    await Promise.all(
      [a, b].map((page, tab) =>
        page.evaluate(
          ({ ids, tab }) => Promise.all(ids.map((id) => window.__recs.track({ type: 'view', itemId: id, context: { tab } }))).then(() => undefined),
          { ids, tab },
        ),
      ),
    );
    await b.close();
    await a.reload();
    await a.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 120_000 });
    const stored = await readStoredEvents(a);
    assert.equal(stored.length, 400);
    assert.equal(new Set(stored.map((e) => e.eventId)).size, 400, 'no duplicates');
    const stats = await a.evaluate(() => window.__recs.stats());
    assert.equal(stats.events, 400);
    await context.close();
  });
});

describe('demo in Chromium without WebGPU', () => {
  const env = useBrowser({ webgpu: false });

  test('falls back to WASM and personalises the same way', async () => {
    const context = await env.browser().newContext();
    await recordWarnings(context);
    const page = await openDemo(context, env.server().url);
    assert.equal(await page.getAttribute('#backend-badge', 'data-backend'), 'wasm');
    for (const m of HORROR) await clickViaSearch(page, m.id, m.query);
    const titles = HORROR.map((m) => byId.get(m.id)?.title ?? '');
    await waitForPersonalised(
      page,
      titles,
      HORROR.map((m) => m.id),
    );
    const recs = (await forYou(page)).slice(0, 10);
    const clickedGenres = new Set(HORROR.flatMap((m) => genresOf(m.id)));
    assert.ok(recs.filter((r) => genresOf(r.id).some((g) => clickedGenres.has(g))).length >= 6);
    await assertBehaviourModelUsed(page);
    await context.close();
  });
});
