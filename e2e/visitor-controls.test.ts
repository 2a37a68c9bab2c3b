/**
 * The visitor's controls in Chromium, through `<on-device-recs>` from the
 * script-tag bundle (lib/embed.js) under a strict CSP: "Forget this" deletes the
 * item's events from IndexedDB (read directly), the next slate names it in no
 * reason and the export no longer holds it; "Pause personalisation" stores no
 * new events until resumed; "More variety" raises the slate's intra-list
 * diversity; "Not interested in <category>" leaves the category out.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { STRICT_CSP, launch, readStoredEvents, serveStatic, type StaticServer } from './harness';
import { ROOT } from './package';

interface Item {
  id: string;
  title: string;
  category?: string;
  tags?: string[];
}

let server: StaticServer;
let browser: Browser;
const demo = JSON.parse(readFileSync(join(ROOT, 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as Item[];
const items = demo.slice(0, 400);
const genres = (it: Item): string[] => (it.tags ?? []).filter((t) => /^[A-Z]/.test(t));
const horror = items.filter((it) => genres(it)[0] === 'Horror').slice(0, 3);

before(async () => {
  const site = mkdtempSync(join(tmpdir(), 'odr-controls-'));
  symlinkSync(join(ROOT, 'lib'), join(site, 'recs'));
  writeFileSync(join(site, 'catalog.json'), JSON.stringify(items));
  writeFileSync(
    join(site, 'index.html'),
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title><script src="/recs/embed.js" data-catalog="/catalog.json" data-autotrack="off" data-exploration="off"></script></head><body><on-device-recs id="a" k="10"></on-device-recs></body></html>',
  );
  server = await serveStatic(site, { 'Content-Security-Policy': STRICT_CSP }, { isolated: false });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

type Rec = { itemId: string; item: Item; reasons: { itemIds?: string[] }[] };

/** Recommendations from the page's recommender, reduced to what the test reads. */
const recommend = (page: Page, k = 10): Promise<Rec[]> =>
  page.evaluate(
    async (n) =>
      (await window.onDeviceRecs!.recommender.recommend({ k: n })).map((r) => ({
        itemId: r.itemId,
        item: { id: r.item.id, title: r.item.title, category: r.item.category, tags: r.item.tags },
        reasons: r.reasons.map((x) => ({ itemIds: x.itemIds })),
      })),
    k,
  );
const named = (recs: Rec[]): Set<string> => new Set(recs.flatMap((r) => r.reasons.flatMap((x) => x.itemIds ?? [])));
/** Intra-list diversity: the mean pairwise Jaccard distance of the items' genres. */
function ild(recs: Rec[]): number {
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < recs.length; i++)
    for (let j = i + 1; j < recs.length; j++) {
      const a = new Set(genres(recs[i].item));
      const b = new Set(genres(recs[j].item));
      const both = [...a].filter((g) => b.has(g)).length;
      const union = new Set([...a, ...b]).size;
      sum += union === 0 ? 0 : 1 - both / union;
      pairs++;
    }
  return pairs ? sum / pairs : 0;
}

/** Waits until the element's cards were rendered again after `action`. */
async function rendered(page: Page, action: () => Promise<unknown>): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __rendered: boolean };
    w.__rendered = false;
    document.getElementById('a')!.addEventListener('recs-render', () => (w.__rendered = true), { once: true });
  });
  await action();
  await page.waitForFunction(() => (window as unknown as { __rendered: boolean }).__rendered, undefined, { timeout: 60_000 });
}

test('forget this, pause, more variety and not interested, end to end in Chromium', { timeout: 300_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.text().includes('Content Security Policy') && errors.push(m.text()));
  await page.goto(server.url);
  await page.waitForFunction(() => (document.getElementById('a')?.shadowRoot?.querySelectorAll('li').length ?? 0) === 10, undefined, {
    timeout: 180_000,
  });

  // history: three horror films clicked, the first one twice
  await rendered(page, () =>
    page.evaluate(
      async (ids) => {
        const recs = window.onDeviceRecs!.recommender;
        for (const id of [...ids, ids[0]]) await recs.track({ type: 'click', itemId: id });
        window.onDeviceRecs!.refresh();
      },
      horror.map((h) => h.id),
    ),
  );
  const victim = horror[0].id;
  assert.equal((await readStoredEvents(page)).filter((e) => e.itemId === victim).length, 2);
  assert.ok(named(await recommend(page)).has(victim), 'before: a reason names the item');

  // "Why this?" lists the history items behind a card; "Forget this" on the victim
  const row = `li [data-history-item-id="${victim}"]`;
  const hasRow = await page.evaluate((sel) => document.getElementById('a')!.shadowRoot!.querySelector(sel) !== null, row);
  assert.ok(hasRow, 'a card lists the item in its "Why this?" view');
  await page.locator('#a summary').first().click(); // the view opens (native <details>)
  await rendered(page, () => page.locator(`#a ${row} [part="forget"]`).first().click({ force: true }));
  await page.waitForFunction(
    async (id) => {
      const dbs = await indexedDB.databases();
      return dbs.length > 0 && !(await window.onDeviceRecs!.recommender.history()).some((e) => e.itemId === id);
    },
    victim,
    { timeout: 30_000 },
  );
  assert.equal((await readStoredEvents(page)).filter((e) => e.itemId === victim).length, 0, 'no event of the item left in IndexedDB');
  assert.equal((await readStoredEvents(page)).length, 2, 'the other items stay');
  assert.ok(!named(await recommend(page)).has(victim), 'the next slate names it in no reason');
  const inElement = await page.evaluate((sel) => document.getElementById('a')!.shadowRoot!.querySelector(sel) !== null, row);
  assert.ok(!inElement, 'no "Why this?" view lists it');
  const exported = await page.evaluate(async () => JSON.stringify(await window.onDeviceRecs!.recommender.exportData()));
  assert.ok(!exported.includes(`"${victim}"`), 'export no longer contains it');

  // pause: the switch stops tracking (card clicks and track() store nothing), resume restores
  await rendered(page, () => page.locator('#a [part="pause"]').click());
  assert.equal((await page.evaluate(() => window.onDeviceRecs!.recommender.controls())).paused, true);
  const storedBefore = (await readStoredEvents(page)).length;
  await rendered(page, () => page.locator('#a .card').first().click());
  await page.evaluate(async (id) => {
    await window.onDeviceRecs!.recommender.track({ type: 'purchase', itemId: id });
  }, items[5].id);
  assert.equal((await readStoredEvents(page)).length, storedBefore, 'no new events stored while paused');
  assert.equal(named(await recommend(page)).size, 0, 'paused: the non-personal ranking, no history reasons');
  await rendered(page, () => page.locator('#a [part="pause"]').click());
  assert.equal((await page.evaluate(() => window.onDeviceRecs!.recommender.controls())).paused, false);
  await page.evaluate(async (id) => {
    await window.onDeviceRecs!.recommender.track({ type: 'click', itemId: id });
  }, items[6].id);
  assert.equal((await readStoredEvents(page)).length, storedBefore + 1, 'resumed: tracking again');
  assert.ok(named(await recommend(page)).size > 0, 'resumed: personal again');

  // more variety: the switch raises the slate's intra-list diversity
  await page.evaluate(() => window.onDeviceRecs!.recommender.setControls({ variety: 0 }));
  const focused = ild(await recommend(page));
  await rendered(page, () => page.locator('#a [part="variety"]').click());
  const controls = await page.evaluate(() => window.onDeviceRecs!.recommender.controls());
  assert.ok(controls.variety !== null && controls.variety > 0.5, JSON.stringify(controls));
  const varied = ild(await recommend(page));
  assert.ok(varied > focused, `intra-list diversity ${focused.toFixed(3)} relevance only, ${varied.toFixed(3)} with more variety`);

  // not interested in a category: the button on a card, the category leaves the slate
  const category = await page.evaluate(
    () => document.getElementById('a')!.shadowRoot!.querySelector('[part="not-interested"]')?.textContent?.replace('Not interested in ', '') ?? null,
  );
  assert.ok(category, 'a card offers "Not interested in <category>"');
  await page.locator('#a summary').first().click();
  await rendered(page, () => page.locator('#a [part="not-interested"]').first().click({ force: true }));
  assert.ok(
    (await recommend(page, 30)).every((r) => r.item.category !== category),
    `no ${category} item`,
  );

  // stored on the device: exported, and gone after deleteData()
  const settings = await page.evaluate(async () => (await window.onDeviceRecs!.recommender.exportData()).settings['visitor-controls']);
  assert.deepEqual(settings, { paused: false, notInterested: [category], variety: controls.variety });
  const afterDelete = await page.evaluate(async () => {
    await window.onDeviceRecs!.recommender.deleteData();
    return window.onDeviceRecs!.recommender.controls();
  });
  assert.deepEqual(afterDelete, { paused: false, notInterested: [], variety: null });
  assert.deepEqual(errors, [], 'no page error, no CSP violation');
  await context.close();
});
