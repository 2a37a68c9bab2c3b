/**
 * Stored records with the right field types but impossible values, in Chromium:
 * another script writes them into the demo's IndexedDB (an unknown event type,
 * `constructor`, `__proto__`, an item absent from the catalog, a timestamp of
 * 1e300, a search without a query, a NaN timestamp). After a reload they are
 * quarantined: not in history(), not in the export's events but in its
 * `quarantined` section with the reason, counted apart by stats(), still in
 * IndexedDB; deleteData() removes them with the rest.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Recommender } from '../src/types';
import { openDemo, readStoredEvents, useBrowser } from './harness';

declare global {
  interface Window {
    __recs: Recommender;
  }
}

const env = useBrowser({ webgpu: false });
const GOOD = ['1258', '1997', '1982'];

test(
  'records that fail the event checks survive a reload only as quarantined: held, counted, exported apart, deleted with the rest',
  { timeout: 240_000 },
  async () => {
    const context = await env.browser().newContext();
    const page = await openDemo(context, env.server().url);
    await page.evaluate((ids) => Promise.all(ids.map((id) => window.__recs.track({ type: 'click', itemId: id }))), GOOD);
    const bad = await page.evaluate(async () => {
      const now = Date.now();
      const records = [
        { eventId: 'x-ctor', type: 'constructor', itemId: '1258', timestamp: now },
        { eventId: 'x-proto', type: '__proto__', itemId: '1258', timestamp: now },
        { eventId: 'x-unknown', type: 'click', itemId: 'not-in-the-catalog', timestamp: now },
        { eventId: 'x-1e300', type: 'purchase', itemId: '2571', timestamp: 1e300 },
        { eventId: 'x-search', type: 'search', timestamp: now },
        { eventId: 'x-nan', type: 'click', itemId: '2571', timestamp: Number.NaN },
      ];
      await new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('on-device-recs');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('events', 'readwrite');
          for (const r of records) tx.objectStore('events').add(r);
          tx.oncomplete = () => (open.result.close(), resolve());
          tx.onerror = () => reject(tx.error);
        };
      });
      return records.length;
    });
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 180_000 });
    const seen = await page.evaluate(async () => {
      const [history, stats, exported] = await Promise.all([window.__recs.history(), window.__recs.stats(), window.__recs.exportData()]);
      return {
        history: history.map((e) => e.itemId),
        stats: [stats.events, stats.quarantinedEvents],
        exported: exported.events.map((e) => e.itemId),
        quarantined: exported.quarantined.map((q) => [(q.record as { eventId?: string }).eventId, q.code, q.reason]),
      };
    });
    assert.deepEqual(seen.history, GOOD);
    assert.deepEqual(seen.exported, GOOD);
    assert.deepEqual(seen.stats, [GOOD.length, bad], 'stats() counts usable and quarantined events apart');
    assert.equal((await readStoredEvents(page)).length, GOOD.length + bad, 'kept in IndexedDB (not deleted)');
    const reasons = new Map(seen.quarantined.map(([id, code, reason]) => [id, `${code}: ${reason}`]));
    assert.match(reasons.get('x-ctor') ?? '', /^invalid_event: Unknown event type "constructor"/);
    assert.match(reasons.get('x-proto') ?? '', /^invalid_event: Unknown event type "__proto__"/);
    assert.match(reasons.get('x-unknown') ?? '', /^unknown_item: No item with id "not-in-the-catalog"/);
    assert.match(reasons.get('x-1e300') ?? '', /not in the future/);
    assert.match(reasons.get('x-search') ?? '', /non-empty query/);
    assert.match(reasons.get('x-nan') ?? '', /got NaN/);
    // the demo's privacy panel shows the usable count
    assert.equal((await page.textContent('#privacy-events'))?.trim(), String(GOOD.length));

    await page.evaluate(() => window.__recs.deleteData());
    assert.deepEqual(await readStoredEvents(page), [], 'deleteData() removes quarantined records too');
    assert.deepEqual(await page.evaluate(() => window.__recs.stats().then((s) => [s.events, s.quarantinedEvents])), [0, 0]);
    await context.close();
  },
);
