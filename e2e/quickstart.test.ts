/**
 * Follows the README's quick start literally on a blank page: installs the
 * packed package, runs the README's shell lines, serves a page that holds only
 * the README's HTML snippet (no COOP/COEP, no build step), and expects
 * recommendations that react to a click.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launch, openRecordedPage, readStoredEvents, serveStatic, type StaticServer } from './harness';
import { quickStartSite } from './package';

let server: StaticServer;
let browser: Browser;

before(async () => {
  server = await serveStatic(quickStartSite().publicDir, {}, { isolated: false });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const shown = (page: import('playwright-core').Page): Promise<string[]> =>
  page.evaluate(() =>
    [...(document.querySelector('on-device-recs')?.shadowRoot?.querySelectorAll('li') ?? [])].map((li) => (li as HTMLElement).dataset.itemId ?? ''),
  );

test('the README quick start on a blank page shows 8 recommendations that react to a click', { timeout: 240_000 }, async () => {
  const { context, page, errors, offOrigin } = await openRecordedPage(browser, server.url);
  await page.waitForFunction(() => (document.querySelector('on-device-recs')?.shadowRoot?.querySelectorAll('li').length ?? 0) >= 8, undefined, {
    timeout: 180_000,
  });
  const first = await shown(page);
  assert.equal(first.length, 8);
  assert.equal(new Set(first).size, 8);
  const why = await page.evaluate(() => document.querySelector('on-device-recs')!.shadowRoot!.querySelector('[part="reason"]')?.textContent ?? '');
  assert.ok(why.length > 0, 'each card says why');

  // click the first card: it is stored on the device and the next slate follows
  const clicked = first[0];
  await page.evaluate(() => (document.querySelector('on-device-recs')!.shadowRoot!.querySelector('.card') as HTMLElement).click());
  await page.waitForFunction(
    (id) => {
      const ids = [...(document.querySelector('on-device-recs')?.shadowRoot?.querySelectorAll('li') ?? [])].map(
        (li) => (li as HTMLElement).dataset.itemId,
      );
      return ids.length === 8 && !ids.includes(id);
    },
    clicked,
    { timeout: 60_000 },
  );
  const after = await shown(page);
  assert.notDeepEqual(after, first, 'the slate changed after the click');
  const stored = await readStoredEvents(page);
  assert.ok(
    stored.some((e) => e.type === 'click' && e.itemId === clicked),
    'the click is in IndexedDB',
  );
  const reasons = await page.evaluate(() =>
    [...document.querySelector('on-device-recs')!.shadowRoot!.querySelectorAll('[part="reason"]')].map((r) => r.textContent),
  );
  assert.ok(
    reasons.some((r) => r?.includes('Because you')),
    `a reason refers to the click: ${reasons.join(' | ')}`,
  );

  assert.deepEqual(offOrigin(), [], 'no request leaves the site');
  assert.deepEqual(errors, []);
  await context.close();
});
