/**
 * Stored records that fail the event checks are quarantined on every read (Node,
 * shipped encoder on WASM, IndexedDB from fake-indexeddb): records with the right
 * field types but impossible values (a type outside the vocabulary such as
 * `constructor` or `__proto__`, an item absent from the catalog, a timestamp of
 * 1e300 or in the future, a search without a query) and records of the wrong shape
 * are kept on the device, counted apart, exported in their own section with the
 * reason, and never used for ranking, the profile, exploration or history().
 * A record held only for an unknown item comes back when a catalog with it loads.
 */
import { engineOptions } from '../support/engine-options';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { Engine } from '../src/engine/engine';
import { MAX_CLOCK_SKEW_MS, sortStoredEvents } from '../src/engine/event-validation';
import { DEFAULT_DB_NAME, openStore } from '../src/store';
import { RecommenderError } from '../src/errors';
import type { CatalogItem, QuarantinedEvent } from '../src/types';
import { useSharedEncoder } from '../support/shared-encoder';

const catalog = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]
).slice(0, 300);
/** An item the first catalog lacks and a later one brings (a catalog that changed). */
const RETURNING: CatalogItem = { id: 'returning-item', title: 'The Returning Item', tags: ['Horror'], category: 'Horror' };
const NOW = Date.UTC(2026, 10, 20);
const sharedEncoder = useSharedEncoder();

function makeEngine(factory: IDBFactory): Engine {
  return new Engine(engineOptions({ seed: 11 }), {
    store: () => openStore({ indexedDB: factory }),
    encoder: async () => sharedEncoder(),
    now: () => NOW,
  });
}

/** Records another script, a bug or an old build might have written, each with the reason it must be held for. */
const BAD: { record: Record<string, unknown>; code: QuarantinedEvent['code']; reason: RegExp }[] = [
  {
    record: { eventId: 'b-ctor', type: 'constructor', itemId: catalog[5].id, timestamp: NOW - 1000 },
    code: 'invalid_event',
    reason: /Unknown event type "constructor"/,
  },
  {
    record: { eventId: 'b-proto', type: '__proto__', itemId: catalog[5].id, timestamp: NOW - 1000 },
    code: 'invalid_event',
    reason: /Unknown event type "__proto__"/,
  },
  {
    record: { eventId: 'b-gone', type: 'purchase', itemId: RETURNING.id, timestamp: NOW - 2000 },
    code: 'unknown_item',
    reason: /No item with id "returning-item" in the loaded catalog/,
  },
  {
    record: { eventId: 'b-1e300', type: 'purchase', itemId: catalog[6].id, timestamp: 1e300 },
    code: 'invalid_event',
    reason: /timestamp must be epoch milliseconds, not in the future/,
  },
  {
    record: { eventId: 'b-future', type: 'dismiss', itemId: catalog[7].id, timestamp: NOW + 2 * MAX_CLOCK_SKEW_MS },
    code: 'invalid_event',
    reason: /not in the future/,
  },
  {
    record: { eventId: 'b-value', type: 'dwell', itemId: catalog[8].id, value: 'long', timestamp: NOW - 1000 },
    code: 'invalid_event',
    reason: /value must be a finite number/,
  },
  { record: { eventId: 'b-search', type: 'search', timestamp: NOW - 1000 }, code: 'invalid_event', reason: /search event needs a non-empty query/ },
  { record: { eventId: 'b-search-empty', type: 'search', query: '   ', timestamp: NOW - 1000 }, code: 'invalid_event', reason: /non-empty query/ },
  { record: { eventId: 'b-no-item', type: 'click', timestamp: NOW - 1000 }, code: 'invalid_event', reason: /needs the item's catalog id/ },
  { record: { type: 'click', itemId: catalog[9].id, timestamp: NOW - 1000 }, code: 'invalid_event', reason: /no event id/ },
  { record: { eventId: 'b-no-time', type: 'click', itemId: catalog[9].id }, code: 'invalid_event', reason: /no timestamp/ },
  // the wrong shape (what the store already skipped on read): now held and exported too
  {
    record: { eventId: 'b-nan', type: 'click', itemId: catalog[10].id, timestamp: Number.NaN },
    code: 'invalid_event',
    reason: /epoch milliseconds, not in the future, got NaN/,
  },
  {
    record: { eventId: 'b-object-item', type: 'click', itemId: { id: catalog[10].id }, timestamp: NOW - 1000 },
    code: 'invalid_event',
    reason: /needs the item's catalog id/,
  },
];
const GOOD = catalog.slice(0, 3).map((it) => it.id);

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** A device whose log holds three good clicks (tracked through the engine) and then every BAD record, written directly. */
async function deviceWithBadRecords(): Promise<IDBFactory> {
  const factory = new IDBFactory();
  const first = makeEngine(factory);
  await first.setCatalog(catalog);
  for (const id of GOOD) await first.track({ type: 'click', itemId: id, timestamp: NOW - 10_000 });
  await first.close();
  const db = await request(factory.open(DEFAULT_DB_NAME));
  const tx = db.transaction('events', 'readwrite');
  for (const b of BAD) tx.objectStore('events').add(b.record);
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
  db.close();
  return factory;
}

async function recordsInDb(factory: IDBFactory): Promise<number> {
  return (await openStore({ indexedDB: factory })).countEvents();
}

describe('quarantine of stored records', () => {
  test('the checks track() makes sort the stored log: each bad record is held with its code and reason, the good ones kept as stored', () => {
    const good = GOOD.map((id, i) => ({ eventId: `g-${i}`, seq: i + 1, type: 'click', itemId: id, timestamp: NOW - 10 }));
    const known = new Set(catalog.map((it) => it.id));
    const { usable, quarantined } = sortStoredEvents([...good, ...BAD.map((b) => b.record)], NOW, (id) => known.has(id));
    assert.deepEqual(usable, good);
    assert.equal(quarantined.length, BAD.length);
    quarantined.forEach((q, i) => {
      assert.equal(q.record, BAD[i].record, 'the record as stored');
      assert.equal(q.code, BAD[i].code, JSON.stringify(q));
      assert.match(q.reason, BAD[i].reason);
      assert.doesNotMatch(q.reason, /Call track|Use one of/, "a reason, not track()'s fix");
    });
    // no catalog loaded yet: an unknown item is not a reason (its catalog may load later)
    assert.equal(sortStoredEvents([BAD[2].record], NOW, null).usable.length, 1);
  });

  test(
    'after a reload: held apart, counted, exported as such, never used; a catalog that brings the item back brings its event back',
    { timeout: 120_000 },
    async () => {
      const factory = await deviceWithBadRecords();
      const total = await recordsInDb(factory);
      assert.equal(total, GOOD.length + BAD.length);

      const engine = makeEngine(factory);
      await engine.setCatalog(catalog);
      assert.deepEqual(
        (await engine.history()).map((e) => [e.type, e.itemId]),
        GOOD.map((id) => ['click', id]),
        'history() holds the good events only',
      );
      const stats = await engine.stats();
      assert.equal(stats.events, GOOD.length);
      assert.equal(stats.quarantinedEvents, BAD.length);
      assert.equal(stats.events + stats.quarantinedEvents, total, 'the counts add up to what IndexedDB holds');

      const exported = await engine.exportData();
      assert.deepEqual(
        exported.events.map((e) => e.eventId),
        (await engine.history()).map((e) => e.eventId),
      );
      assert.equal(exported.quarantined.length, BAD.length);
      for (const b of BAD) {
        const q = exported.quarantined.find(
          (x) => (x.record as { eventId?: unknown }).eventId === b.record.eventId && (x.record as { type?: unknown }).type === b.record.type,
        );
        assert.ok(q, `exported as quarantined: ${JSON.stringify(b.record)}`);
        assert.equal(q.code, b.code);
        assert.match(q.reason, b.reason);
        assert.equal(typeof q.seq, 'number');
      }
      assert.ok(Object.getPrototypeOf(exported.events[0]) === Object.prototype && !('polluted' in {}), 'nothing polluted');

      // never used: the slates are those of a device holding only the good events (same seed, same calls)
      const clean = new IDBFactory();
      const reference = makeEngine(clean);
      await reference.setCatalog(catalog);
      for (const id of GOOD) await reference.track({ type: 'click', itemId: id, timestamp: NOW - 10_000 });
      const slate = async (e: Engine): Promise<string[][]> => [
        (await e.recommend({ k: 10 })).map((r) => `${r.itemId} ${r.score.toFixed(6)} ${r.reasons.map((x) => x.text).join('/')}`),
        (await e.similar(catalog[6].id, 5)).map((r) => r.itemId),
        (await e.search('horror', 5)).map((r) => r.itemId),
        (await e.explain(catalog[7].id)).map((r) => r.text),
      ];
      assert.deepEqual(await slate(engine), await slate(reference), 'ranking, profile and exploration ignore the quarantined records');

      // the catalog changed: the item is back, and so is the event held only for it
      await engine.setCatalog([...catalog, RETURNING]);
      const back = await engine.history();
      assert.ok(
        back.some((e) => e.eventId === 'b-gone' && e.type === 'purchase'),
        'the purchase of the returning item is used again',
      );
      assert.equal((await engine.stats()).quarantinedEvents, BAD.length - 1);
      assert.ok(!(await engine.recommend({ k: 50 })).some((r) => r.itemId === RETURNING.id), 'and counts: a purchased item is not recommended');
      // and gone again with it
      await engine.setCatalog(catalog);
      assert.equal((await engine.stats()).quarantinedEvents, BAD.length);
      assert.ok(!(await engine.history()).some((e) => e.eventId === 'b-gone'));
      assert.equal(await recordsInDb(factory), total, 'nothing was deleted');
      await Promise.all([engine.close(), reference.close()]);
    },
  );

  test('before any catalog: unknown items are not judged yet; the first catalog sorts them', { timeout: 120_000 }, async () => {
    const factory = await deviceWithBadRecords();
    const engine = makeEngine(factory);
    const early = await engine.history(); // no catalog loaded: every id passes
    assert.ok(early.some((e) => e.eventId === 'b-gone'));
    assert.equal((await engine.stats()).quarantinedEvents, BAD.length - 1);
    await engine.setCatalog(catalog);
    assert.ok(!(await engine.history()).some((e) => e.eventId === 'b-gone'));
    assert.equal((await engine.stats()).quarantinedEvents, BAD.length);
    await engine.close();
  });

  test('forget() and deleteData() reach quarantined records too', { timeout: 120_000 }, async () => {
    const factory = await deviceWithBadRecords();
    const engine = makeEngine(factory);
    await engine.setCatalog(catalog);
    // "forget this" on an item whose only event is held (the 1e300 purchase of catalog[6])
    const report = await engine.forgetItem(catalog[6].id);
    assert.equal(report.removedEvents, 1);
    assert.ok(!(await engine.exportData()).quarantined.some((q) => (q.record as { itemId?: unknown }).itemId === catalog[6].id));
    assert.equal((await engine.stats()).quarantinedEvents, BAD.length - 1);
    await engine.deleteData();
    const stats = await engine.stats();
    assert.deepEqual([stats.events, stats.quarantinedEvents], [0, 0]);
    const exported = await engine.exportData();
    assert.deepEqual([exported.events, exported.quarantined], [[], []]);
    assert.equal(await recordsInDb(factory), 0, 'deleteData() removed the quarantined records from IndexedDB');
    await engine.close();
  });

  test('track() refuses the timestamps a read would quarantine (1e300, beyond the clock skew) and accepts a clock a little fast', async () => {
    const engine = makeEngine(new IDBFactory());
    await engine.setCatalog(catalog.slice(0, 20));
    for (const timestamp of [1e300, NOW + MAX_CLOCK_SKEW_MS + 1, Number.MAX_VALUE]) {
      await assert.rejects(
        engine.track({ type: 'click', itemId: catalog[0].id, timestamp }),
        (e: unknown) => e instanceof RecommenderError && e.code === 'invalid_event' && /not in the future/.test(e.message),
        String(timestamp),
      );
    }
    await engine.track({ type: 'click', itemId: catalog[0].id, timestamp: NOW + MAX_CLOCK_SKEW_MS / 2 });
    assert.equal((await engine.stats()).events, 1);
    await engine.close();
  });
});
