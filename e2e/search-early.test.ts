/**
 * A visitor who types a search before the catalog has loaded gets results once
 * it loads, and never sees an error banner or a message meant for the
 * integrator ("No catalog is loaded yet. Call setCatalog…"). The catalog
 * response is held back (playwright routing) until the query was typed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Route } from 'playwright-core';
import type { Recommender } from '../src/types';
import { useBrowser } from './harness';

declare global {
  interface Window {
    __recs: Recommender;
  }
}

/** What the page showed while it loaded, recorded by a MutationObserver from before the demo's script ran. */
interface Seen {
  /** Texts of the error banner each time it was visible. */
  banners: string[];
  /** Visible texts that are errors or integrator messages (API names, error codes, "not available"). */
  messages: string[];
}

/**
 * Records into window.__seen, from before the demo's script runs, on every DOM change and every 50 ms.
 * Plain JavaScript: functions compiled by tsx get name helpers that do not exist in the page.
 */
const OBSERVE = `(() => {
  const seen = { banners: [], messages: [] };
  window.__seen = seen;
  const INTEGRATOR = /setCatalog|defineRecsElement|not_ready|No catalog is loaded|RecommenderError|not available|\\b[a-z]+_[a-z_]+\\b/;
  function check() {
    const banner = document.querySelector('#error-banner');
    if (banner && !banner.hidden) {
      const text = (banner.textContent || '').trim();
      if (seen.banners[seen.banners.length - 1] !== text) seen.banners.push(text);
    }
    const main = document.querySelector('main') || document.body;
    for (const line of ((main && main.innerText) || '').split('\\n')) if (INTEGRATOR.test(line) && !seen.messages.includes(line)) seen.messages.push(line);
  }
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  setInterval(check, 50);
})();`;

const CATALOG = '**/catalog/movielens-demo.json';
const QUERY = 'shining';
const SHINING = '1258';

describe('demo: a search typed while the catalog loads', () => {
  const env = useBrowser({ webgpu: false });

  test('shows results once the catalog is loaded, and no error or integrator message on the way', { timeout: 300_000 }, async () => {
    const context = await env.browser().newContext();
    await context.addInitScript({ content: OBSERVE });

    // hold every catalog request (the page's, for browsing, and the engine worker's) until the query was typed
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const held: string[] = [];
    await context.route(CATALOG, async (route: Route) => {
      held.push(route.request().url());
      await released;
      await new Promise((r) => setTimeout(r, 1000)); // and a little longer: slow network
      await route.continue();
    });

    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
    page.on('pageerror', (e) => warnings.push(`[page error] ${e.message}`));
    await page.goto(env.server().url);

    // the engine is loading its catalog (both requests are held) when the visitor types and presses Enter
    const start = Date.now();
    while (held.length < 2 && Date.now() - start < 120_000) await new Promise((r) => setTimeout(r, 100));
    assert.equal(held.length, 2, `the page and the engine worker asked for the catalog: ${held.join(', ')}`);
    await page.locator('#search-input').pressSequentially(QUERY, { delay: 40 });
    await page.locator('#search-input').press('Enter');
    await page.waitForTimeout(1500); // past the search debounce: search() and track() are waiting in the engine
    assert.notEqual(await page.evaluate(() => document.body.dataset.ready), 'true', 'the catalog is still loading');
    assert.equal(await page.locator('#search-results .rec-card').count(), 0, 'no results before the catalog is there');
    release();

    // results appear once the catalog is loaded; stop early if an error showed instead
    await page.waitForFunction(
      () => {
        const seen = (window as unknown as { __seen: Seen }).__seen;
        const banner = document.querySelector<HTMLElement>('#error-banner');
        const failed =
          seen.banners.length > 0 ||
          seen.messages.length > 0 ||
          (banner !== null && !banner.hidden) ||
          /not available/.test(document.querySelector('#search-results')?.textContent ?? '');
        return failed || document.querySelectorAll('#search-results .rec-card').length > 0;
      },
      undefined,
      { timeout: 240_000, polling: 100 },
    );
    await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 120_000 }).catch(() => undefined);
    await page.waitForTimeout(500); // a late banner (refreshPersonal after the Enter) would show by now
    const seen = await page.evaluate(() => (window as unknown as { __seen: Seen }).__seen);
    assert.ok(Array.isArray(seen.banners) && Array.isArray(seen.messages), 'the page was observed');
    assert.deepEqual(seen.banners, [], `no error banner was shown (console: ${warnings.join(' | ')})`);
    assert.deepEqual(seen.messages, [], `no error or integrator message was shown (console: ${warnings.join(' | ')})`);

    const results = await page.$$eval('#search-results .rec-card', (cards) => cards.map((c) => c.getAttribute('data-item-id') ?? ''));
    assert.ok(results.includes(SHINING), `"${QUERY}" finds The Shining: ${results.join(', ')}`);
    assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', 'the demo finished loading');
    const history = await page.evaluate(() => window.__recs.history());
    assert.ok(
      history.some((e) => e.type === 'search' && e.query === QUERY),
      'the search typed while loading was remembered (Enter)',
    );
    assert.ok(
      warnings.every((w) => !/not_ready|No catalog is loaded/.test(w)),
      `nothing failed for want of the catalog: ${warnings.join(' | ')}`,
    );
    await context.close();
  });
});
