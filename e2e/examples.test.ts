/**
 * The packed tarball (`npm pack`) installed into each example in examples/,
 * the example built with its own build command and served; recommendations
 * render and react to clicks. The plain HTML example also works offline after
 * its first load (its service worker); the Vue example is rendered on the server
 * (in Node, importing the package) and hydrates in the browser.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launch, openRecordedPage, readStoredEvents, recordRequests, serveStatic, type StaticServer } from './harness';
import { ROOT, installPackage, packPackage, run } from './package';

let tarball: string;
let browser: Browser;

before(async () => {
  tarball = packPackage();
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Copies examples/<name> to a scratch folder, installs the tarball, runs its build; returns dist/. */
function buildExample(name: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), `odr-example-${name}-`)), name);
  cpSync(join(ROOT, 'examples', name), dir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) });
  installPackage(dir, tarball);
  run('npm', ['run', 'build', '--silent'], dir);
  return join(dir, 'dist');
}

const recIds = (page: Page, selector: string): Promise<string[]> =>
  page.evaluate((sel) => {
    const [host, inner] = sel.split(' >>> ');
    const root: ParentNode | null | undefined = inner ? document.querySelector(host)?.shadowRoot : document;
    return [...(root?.querySelectorAll(inner ?? host) ?? [])].map(
      (el) => (el as HTMLElement).dataset.itemId ?? (el as HTMLElement).dataset.recId ?? '',
    );
  }, selector);

/** Polls recIds() until the list has `count` ids and differs from `before` (60 s at most). */
async function waitForChange(page: Page, selector: string, before: string[], count: number): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ids = await recIds(page, selector);
    if (ids.length === count && ids.join() !== before.join()) return ids;
    if (Date.now() > deadline) throw new Error(`${selector} did not change from [${before.join(', ')}] within 60 s (now [${ids.join(', ')}])`);
    await page.waitForTimeout(100);
  }
}

describe('examples/plain-html (script tag, web component, auto-tracking, offline)', () => {
  let server: StaticServer;
  before(async () => {
    server = await serveStatic(buildExample('plain-html'), {}, { isolated: false });
  });
  after(async () => server?.close());

  test(
    'recommendations render, react to clicks on its own tiles and on the cards, and work offline after the first load',
    { timeout: 300_000 },
    async () => {
      const { context, page, errors, offOrigin } = await openRecordedPage(browser, server.url);
      const forYou = '#for-you >>> li';
      await page.waitForFunction(() => (document.querySelector('#for-you')?.shadowRoot?.querySelectorAll('li').length ?? 0) === 8, undefined, {
        timeout: 180_000,
      });
      await page.waitForFunction(
        () => (document.querySelector('on-device-recs[mode="similar"]')?.shadowRoot?.querySelectorAll('li').length ?? 0) === 4,
        undefined,
        { timeout: 60_000 },
      );
      const first = await recIds(page, forYou);

      // a click on the page's own tile (data-item-id) is auto-tracked, and the component follows it
      const tileId = await page.evaluate(() => document.querySelectorAll<HTMLElement>('.tile')[3].dataset.itemId!);
      await page.click(`.tile[data-item-id="${tileId}"] a`);
      const second = await waitForChange(page, forYou, first, 8);
      let stored = await readStoredEvents(page);
      assert.ok(
        stored.some((e) => e.type === 'click' && e.itemId === tileId),
        'the tile click is stored on the device',
      );
      const tileTitle = await page.evaluate((id) => document.querySelector(`.tile[data-item-id="${id}"] a`)!.textContent!, tileId);
      const reasons = await page.evaluate(() =>
        [...document.querySelector('#for-you')!.shadowRoot!.querySelectorAll('[part="reason"]')].map((r) => r.textContent ?? ''),
      );
      assert.ok(
        reasons.some((r) => r.includes(tileTitle)),
        `a reason names the clicked tile "${tileTitle}": ${reasons.join(' | ')}`,
      );

      // a like button inside a tile (data-item-event) is tracked as like
      const likeId = await page.evaluate(() => document.querySelectorAll<HTMLElement>('.tile')[5].dataset.itemId!);
      await page.click(`.tile[data-item-id="${likeId}"] button`);
      await page.waitForFunction(() => true);
      // a click on a card of the component (keyboard: focus + Enter)
      await page.evaluate(() => (document.querySelector('#for-you')!.shadowRoot!.querySelector('.card') as HTMLElement).focus());
      await page.keyboard.press('Enter');
      const third = await waitForChange(page, forYou, second, 8);
      assert.ok(!third.includes(second[0]), 'the clicked card left the slate (seen)');
      stored = await readStoredEvents(page);
      assert.ok(
        stored.some((e) => e.type === 'like' && e.itemId === likeId),
        'the like is stored',
      );
      assert.ok(
        stored.some((e) => e.type === 'click' && e.itemId === second[0]),
        'the card click is stored',
      );

      // "Not interested" removes the item
      const dismissed = third[0];
      await page.evaluate(() => (document.querySelector('#for-you')!.shadowRoot!.querySelector('.dismiss') as HTMLElement).click());
      const fourth = await waitForChange(page, forYou, third, 8);
      assert.ok(!fourth.includes(dismissed));

      // the featured block (data-item-view) was on screen: a view is tracked
      await page.waitForFunction(
        async () => {
          const h = window.onDeviceRecs!.recommender;
          return (await h.history()).some((e) => e.type === 'view');
        },
        undefined,
        { timeout: 20_000 },
      );

      // offline after the first load: the service worker serves the page, the engine, the models and the catalog
      await page.evaluate(() => window.onDeviceRecs!.offline);
      assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'the service worker controls the page');
      const cached = await page.evaluate(async () =>
        (await (await caches.open('on-device-recs-offline-v1')).keys()).map((r) => new URL(r.url).pathname),
      );
      for (const f of [
        '/',
        '/recs/embed.js',
        '/recs/engine.worker.js',
        '/catalog.json',
        '/recs/models/glove-sif-100d/model.onnx',
        // auto on a software adapter: the plain WASM build of onnxruntime, the only one the worker fetched
        '/recs/ort/ort-wasm-simd-threaded.wasm',
      ]) {
        assert.ok(cached.includes(f), `${f} is cached for offline use (cached: ${cached.join(', ')})`);
      }
      await context.setOffline(true);
      await page.reload();
      await page.waitForFunction(() => (document.querySelector('#for-you')?.shadowRoot?.querySelectorAll('li').length ?? 0) === 8, undefined, {
        timeout: 180_000,
      });
      const offline = await recIds(page, forYou);
      assert.equal(offline.length, 8);
      assert.ok(!offline.includes(dismissed), 'the history survived the reload (dismissed item still out)');
      await context.setOffline(false);

      assert.deepEqual(offOrigin(), [], 'no request leaves the site');
      assert.deepEqual(errors, []);
      await context.close();
    },
  );
});

describe('examples/react-vite (npm package, Vite plugin, React hook)', () => {
  let server: StaticServer;
  before(async () => {
    server = await serveStatic(buildExample('react-vite'), {}, { isolated: false });
  });
  after(async () => server?.close());

  test('recommendations render through the hook and react to clicks', { timeout: 300_000 }, async () => {
    const { context, page, errors, offOrigin } = await openRecordedPage(browser, server.url);
    const recs = 'li[data-rec-id]';
    await page.waitForFunction(() => document.querySelectorAll('li[data-rec-id]').length === 6, undefined, { timeout: 180_000 });
    const first = await recIds(page, recs);
    await page.waitForFunction(() => document.querySelectorAll('li[data-browse-id]').length === 12);

    const browseId = await page.evaluate(() => document.querySelectorAll<HTMLElement>('li[data-browse-id]')[2].dataset.browseId!);
    await page.click(`li[data-browse-id="${browseId}"] button`);
    const second = await waitForChange(page, recs, first, 6);
    const title = await page.evaluate((id) => document.querySelector(`li[data-browse-id="${id}"] button`)!.textContent!, browseId);
    const reasons = await page.evaluate(() => [...document.querySelectorAll('li[data-rec-id] small')].map((s) => s.textContent ?? ''));
    assert.ok(
      reasons.some((r) => r.includes(title)),
      `a reason names the clicked item "${title}": ${reasons.join(' | ')}`,
    );

    await page.click(`li[data-rec-id="${second[0]}"] button`);
    const third = await waitForChange(page, recs, second, 6);
    assert.ok(!third.includes(second[0]));
    const stored = await readStoredEvents(page);
    assert.ok(stored.some((e) => e.type === 'click' && e.itemId === browseId));
    assert.ok(stored.some((e) => e.type === 'click' && e.itemId === second[0]));

    assert.deepEqual(offOrigin(), [], 'no request leaves the site');
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('examples/vue-vite (Vue, rendered on the server, <on-device-recs> hydrating)', () => {
  let server: StaticServer;
  let dist: string;
  before(async () => {
    dist = buildExample('vue-vite');
    server = await serveStatic(dist, {}, { isolated: false });
  });
  after(async () => server?.close());

  test(
    'the page rendered in Node holds the element and its placeholder; Chromium hydrates it without mismatch, recommendations render and react to clicks',
    { timeout: 300_000 },
    async () => {
      // the build's prerender step imported on-device-recs, /element and /autotrack in Node and rendered the app
      const html = readFileSync(join(dist, 'index.html'), 'utf8');
      assert.match(
        html,
        /<on-device-recs k="6" mode="for-you" heading="Recommended for you" id="for-you"><p class="recs-placeholder">[^<]+<\/p><\/on-device-recs>/,
      );
      assert.equal(html.match(/<li data-item-id="/g)?.length, 12, 'the browse grid is server-rendered');

      const context = await browser.newContext();
      const requests = recordRequests(context);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // Vue reports a hydration mismatch with console.error ("Hydration completed but contains mismatches.")
      page.on('console', (m) => m.type() === 'error' && errors.push(`console.error: ${m.text()}`));
      await page.goto(server.url);
      // the cards: each is an li with data-item-id (an li may hold lists of its own)
      const forYou = '#for-you >>> li[data-item-id]';
      await page.waitForFunction(
        () => (document.querySelector('#for-you')?.shadowRoot?.querySelectorAll('li[data-item-id]').length ?? 0) === 6,
        undefined,
        {
          timeout: 180_000,
        },
      );
      const shell = await page.evaluate(() => {
        const el = document.querySelector('#for-you')!;
        return {
          light: el.innerHTML,
          slotHidden: el.shadowRoot!.querySelector('slot')!.hidden,
          status: el.shadowRoot!.querySelector('[part="status"]')!.textContent,
        };
      });
      assert.deepEqual(
        shell,
        { light: '<p class="recs-placeholder">Picking recommendations on your device…</p>', slotHidden: true, status: '' },
        'the light DOM the server rendered is untouched; the slate replaced the placeholder',
      );
      const first = await recIds(page, forYou);

      // a click on a server-rendered browse tile (data-item-id) is auto-tracked, and the element follows it
      const tileId = await page.evaluate(() => document.querySelectorAll<HTMLElement>('li[data-item-id]')[2].dataset.itemId!);
      await page.click(`li[data-item-id="${tileId}"] button`);
      const second = await waitForChange(page, forYou, first, 6);
      const title = await page.evaluate((id) => document.querySelector(`li[data-item-id="${id}"] button`)!.textContent!, tileId);
      const reasons = await page.evaluate(() =>
        [...document.querySelector('#for-you')!.shadowRoot!.querySelectorAll('[part="reason"]')].map((r) => r.textContent ?? ''),
      );
      assert.ok(
        reasons.some((r) => r.includes(title)),
        `a reason names the clicked tile "${title}": ${reasons.join(' | ')}`,
      );

      // a card click reaches the Vue component (recs-select -> emit('select')) and is stored
      const cardTitle = await page.evaluate(() => document.querySelector('#for-you')!.shadowRoot!.querySelector('[part="title"]')!.textContent!);
      await page.evaluate(() => (document.querySelector('#for-you')!.shadowRoot!.querySelector('.card') as HTMLElement).click());
      await page.waitForFunction((t) => document.querySelector('.picked')?.textContent === `You picked ${t}`, cardTitle, { timeout: 10_000 });
      const third = await waitForChange(page, forYou, second, 6);
      assert.ok(!third.includes(second[0]), 'the clicked card left the slate (seen)');
      const stored = await readStoredEvents(page);
      assert.ok(stored.some((e) => e.type === 'click' && e.itemId === tileId));
      assert.ok(stored.some((e) => e.type === 'click' && e.itemId === second[0]));

      const origin = new URL(server.url).origin;
      assert.deepEqual(
        requests.filter((r) => !r.url.startsWith(origin)).map((r) => r.url),
        [],
        'no request leaves the site',
      );
      assert.deepEqual(errors, [], 'no page error, no hydration mismatch');
      await context.close();
    },
  );
});
