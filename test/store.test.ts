/**
 * The IndexedDB store in Node on fake-indexeddb. Every test gets its own
 * IDBFactory, so databases never leak between tests.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import 'fake-indexeddb/auto'; // idb recognises requests through the global IDB* classes
import { IDBFactory } from 'fake-indexeddb';
import { openStore, StoreError, DEFAULT_DB_NAME, SCHEMA_VERSION } from '../src/store';
import { toStoreError } from '../src/store/errors';
import type { EventType, StoredEvent } from '../src/types';

const T0 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

function ev(eventId: string, timestamp = T0, type: EventType = 'view', itemId = 'item-1'): StoredEvent {
  return { eventId, timestamp, type, itemId };
}

function evs(prefix: string, n: number, timestamp = T0): StoredEvent[] {
  return Array.from({ length: n }, (_, i) => ev(`${prefix}-${i}`, timestamp + i));
}

/** A plain IndexedDB connection next to the store, like another tab or a bug writing bad data. */
function rawOpen(factory: IDBFactory, version?: number, onUpgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = version === undefined ? factory.open(DEFAULT_DB_NAME) : factory.open(DEFAULT_DB_NAME, version);
    req.onupgradeneeded = () => onUpgrade?.(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function rawAdd(db: IDBDatabase, value: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction('events', 'readwrite');
    tx.objectStore('events').add(value);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

test('appends keep insertion order and IndexedDB assigns seq', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  await store.appendEvents([{ ...ev('a', T0 + 5), seq: 999 }, ev('b', T0 + 1)]);
  await store.appendEvents([ev('c', T0)]);
  const got = await store.events();
  assert.deepEqual(
    got.map((e) => e.eventId),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(
    got.map((e) => e.seq),
    [1, 2, 3],
  );
  assert.deepEqual(got[0], { seq: 1, eventId: 'a', timestamp: T0 + 5, type: 'view', itemId: 'item-1' });
  assert.equal(await store.countEvents(), 3);
  assert.deepEqual(
    (await store.events({ sinceSeq: 1 })).map((e) => e.eventId),
    ['b', 'c'],
  );
  store.close();
});

test('appendEvents is idempotent on eventId', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  const batch = evs('x', 5);
  assert.deepEqual(await store.appendEvents(batch), { written: 5, duplicates: 0 });
  assert.deepEqual(await store.appendEvents(batch), { written: 0, duplicates: 5 });
  assert.deepEqual(await store.appendEvents([ev('x-4'), ev('y'), ev('y')]), { written: 1, duplicates: 2 });
  assert.deepEqual(await store.appendEvents([]), { written: 0, duplicates: 0 });
  assert.equal(await store.countEvents(), 6);
  store.close();
});

test('malformed events are rejected before anything is written', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  const bad = { eventId: 'z', type: 'view', timestamp: Number.NaN } as StoredEvent;
  await assert.rejects(
    store.appendEvents([ev('ok'), bad]),
    (e: unknown) => e instanceof StoreError && e.code === 'corrupt_record' && /nothing was written/.test(e.message),
  );
  assert.equal(await store.countEvents(), 0);
  store.close();
});

test('two connections appending concurrently lose and duplicate nothing', async () => {
  const factory = new IDBFactory();
  const [tabA, tabB] = await Promise.all([openStore({ indexedDB: factory }), openStore({ indexedDB: factory })]);
  const a = evs('tabA', 200);
  const b = evs('tabB', 200);
  const shared = evs('retried', 20); // both tabs retry the same batch
  const writes: Promise<{ written: number; duplicates: number }>[] = [];
  for (let i = 0; i < 200; i += 10) {
    writes.push(tabA.appendEvents(a.slice(i, i + 10)), tabB.appendEvents(b.slice(i, i + 10)));
    if (i === 100) writes.push(tabA.appendEvents(shared), tabB.appendEvents(shared));
  }
  const results = await Promise.all(writes);
  assert.equal(
    results.reduce((s, r) => s + r.written, 0),
    420,
  );
  assert.equal(
    results.reduce((s, r) => s + r.duplicates, 0),
    20,
  );
  const stored = await tabA.events();
  assert.equal(stored.length, 420);
  assert.equal(await tabB.countEvents(), 420);
  assert.equal(new Set(stored.map((e) => e.eventId)).size, 420);
  // each tab's own events keep their order
  for (const prefix of ['tabA', 'tabB']) {
    const mine = stored.filter((e) => e.eventId.startsWith(`${prefix}-`)).map((e) => e.eventId);
    assert.deepEqual(
      mine,
      Array.from({ length: 200 }, (_, i) => `${prefix}-${i}`),
    );
  }
  tabA.close();
  tabB.close();
});

test('limit returns the most recent events, oldest first', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  await store.appendEvents(evs('e', 10));
  assert.deepEqual(
    (await store.events({ limit: 3 })).map((e) => e.eventId),
    ['e-7', 'e-8', 'e-9'],
  );
  assert.equal((await store.events({ limit: 50 })).length, 10);
  assert.deepEqual(await store.events({ limit: 0 }), []);
  assert.deepEqual(
    (await store.events({ limit: 2, sinceSeq: 3 })).map((e) => e.seq),
    [9, 10],
  );
  assert.deepEqual(
    (await store.events({ limit: 5, sinceSeq: 8 })).map((e) => e.seq),
    [9, 10],
  );
  store.close();
});

test('pruneEvents drops the oldest beyond maxEvents', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  await store.appendEvents(evs('e', 10));
  assert.equal(await store.pruneEvents({ maxEvents: 4 }), 6);
  assert.deepEqual(
    (await store.events()).map((e) => e.eventId),
    ['e-6', 'e-7', 'e-8', 'e-9'],
  );
  assert.equal(await store.pruneEvents({ maxEvents: 4 }), 0);
  assert.equal(await store.pruneEvents({ maxEvents: 0 }), 4);
  assert.equal(await store.countEvents(), 0);
  store.close();
});

test('pruneEvents drops events older than maxAgeMs, then applies the count', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  // out of timestamp order on purpose: age is by timestamp, count by insertion
  await store.appendEvents([
    ev('old-1', T0 - 40 * DAY),
    ev('new-1', T0 - 1 * DAY),
    ev('old-2', T0 - 31 * DAY),
    ev('new-2', T0 - 2 * DAY),
    ev('new-3', T0),
  ]);
  assert.equal(await store.pruneEvents({ maxAgeMs: 30 * DAY, now: T0 }), 2);
  assert.deepEqual(
    (await store.events()).map((e) => e.eventId),
    ['new-1', 'new-2', 'new-3'],
  );
  await store.appendEvents([ev('ancient', T0 - 100 * DAY)]);
  assert.equal(await store.pruneEvents({ maxAgeMs: 30 * DAY, maxEvents: 2, now: T0 }), 2);
  assert.deepEqual(
    (await store.events()).map((e) => e.eventId),
    ['new-2', 'new-3'],
  );
  assert.equal(await store.pruneEvents({}), 0);
  store.close();
});

test('deleteItemEvents deletes exactly the events of one item and reports how many', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  await store.appendEvents([ev('a', T0, 'click', 'x'), ev('b', T0 + 1, 'view', 'y'), ev('c', T0 + 2, 'dismiss', 'x'), ev('d', T0 + 3, 'search')]);
  assert.equal(await store.deleteItemEvents('x'), 2);
  assert.deepEqual(
    (await store.events()).map((e) => e.eventId),
    ['b', 'd'],
  );
  assert.equal(await store.deleteItemEvents('x'), 0, 'nothing left to delete');
  assert.equal(await store.deleteItemEvents('nope'), 0);
  assert.deepEqual(
    (await store.exportAll()).events.map((e) => e.eventId),
    ['b', 'd'],
  );
  store.close();
});

test('vector cache round-trips per (modelHash, contentHash)', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  const batch = new Float32Array([1, 2, 3, 4, 5, 6, 0.125, -7.5, 1e-7]);
  const a = batch.subarray(0, 3);
  const b = batch.subarray(6, 9);
  await store.putVectors('model-1', [
    { contentHash: 'ha', vector: a },
    { contentHash: 'hb', vector: b },
  ]);
  const hits = await store.getVectors('model-1', ['ha', 'hb', 'missing']);
  assert.deepEqual([...hits.keys()].sort(), ['ha', 'hb']);
  assert.ok(hits.get('ha') instanceof Float32Array);
  assert.deepEqual(hits.get('ha'), new Float32Array([1, 2, 3]));
  assert.deepEqual(hits.get('hb'), new Float32Array([0.125, -7.5, 1e-7]));
  assert.equal(hits.get('hb')!.buffer.byteLength, 12, 'a view is stored as its own bytes, not the whole batch buffer');
  assert.equal((await store.getVectors('model-2', ['ha', 'hb'])).size, 0);
  assert.equal((await store.getVectors('model-1', [])).size, 0);
  // put overwrites
  await store.putVectors('model-1', [{ contentHash: 'ha', vector: new Float32Array([9, 9, 9]) }]);
  assert.deepEqual((await store.getVectors('model-1', ['ha'])).get('ha'), new Float32Array([9, 9, 9]));
  assert.equal(await store.countVectors(), 2);
  store.close();
});

test('deleteVectorsExcept drops every other model and keeps this one', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  const v = new Float32Array([1, 2]);
  for (const model of ['m0', 'm1', 'm1x', 'm2', 'a', 'zz']) {
    await store.putVectors(model, [
      { contentHash: 'h1', vector: v },
      { contentHash: 'h2', vector: v },
    ]);
  }
  assert.equal(await store.countVectors(), 12);
  assert.equal(await store.deleteVectorsExcept('m1'), 10);
  assert.equal(await store.countVectors(), 2);
  assert.equal((await store.getVectors('m1', ['h1', 'h2'])).size, 2);
  assert.equal((await store.getVectors('m1x', ['h1'])).size, 0);
  assert.equal(await store.deleteVectorsExcept('m1'), 0);
  store.close();
});

test('state round-trips any structured-cloneable value', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  assert.equal(await store.getState('profile'), undefined);
  const profile = { vector: new Float32Array([0.5, -0.25]), updatedAt: T0, items: ['a', 'b'] };
  await store.putState('profile', profile);
  await store.putState('settings', { excludeSeen: true });
  assert.deepEqual(await store.getState<typeof profile>('profile'), profile);
  assert.deepEqual(await store.getState('settings'), { excludeSeen: true });
  await store.putState('settings', { excludeSeen: false });
  assert.deepEqual(await store.getState('settings'), { excludeSeen: false });
  await store.deleteState('profile');
  assert.equal(await store.getState('profile'), undefined);
  store.close();
});

test('exportAll holds exactly the stored events and all state', async () => {
  const store = await openStore({ indexedDB: new IDBFactory() });
  await store.appendEvents(evs('e', 3));
  await store.appendEvents([{ eventId: 's', timestamp: T0, type: 'search', query: 'heat', context: { page: 'home' } }]);
  await store.putState('settings', { maxEvents: 100 });
  await store.putState('bandit', { arms: [1, 2] });
  await store.putVectors('m', [{ contentHash: 'h', vector: new Float32Array([1]) }]);
  const before = Date.now();
  const data = await store.exportAll();
  assert.equal(data.format, 'on-device-recs/v1');
  assert.ok(data.exportedAt >= before);
  assert.deepEqual(data.events, await store.events());
  assert.deepEqual(
    data.events.map((e) => e.eventId),
    ['e-0', 'e-1', 'e-2', 's'],
  );
  assert.deepEqual(data.settings, { settings: { maxEvents: 100 }, bandit: { arms: [1, 2] } });
  assert.doesNotThrow(() => structuredClone(data));
  store.close();
});

test('deleteAll empties the database and the store reopens lazily', async () => {
  const factory = new IDBFactory();
  const store = await openStore({ indexedDB: factory });
  const otherTab = await openStore({ indexedDB: factory });
  await store.appendEvents(evs('e', 5));
  await store.putState('profile', { v: 1 });
  await store.putVectors('m', [{ contentHash: 'h', vector: new Float32Array([1]) }]);
  assert.equal(await otherTab.countEvents(), 5);

  await store.deleteAll(); // the other tab steps aside on versionchange instead of blocking
  assert.deepEqual(await factory.databases(), []);

  assert.equal(await store.countEvents(), 0);
  assert.equal(await store.countVectors(), 0);
  assert.equal(await store.getState('profile'), undefined);
  assert.equal(await otherTab.countEvents(), 0);
  const reopened = await openStore({ indexedDB: factory });
  assert.equal(await reopened.countEvents(), 0);
  await store.appendEvents([ev('fresh')]);
  assert.deepEqual(
    (await reopened.events()).map((e) => e.eventId),
    ['fresh'],
  );
  for (const s of [store, otherTab, reopened]) s.close();
});

test('deleteAll rejects as blocked while a foreign connection ignores versionchange', async () => {
  const factory = new IDBFactory();
  const store = await openStore({ indexedDB: factory });
  await store.appendEvents([ev('a')]);
  const stubborn = await rawOpen(factory);
  stubborn.onversionchange = null; // an old tab that does not step aside
  await assert.rejects(
    store.deleteAll(),
    (e: unknown) => e instanceof StoreError && e.code === 'blocked' && /close or reload the other tabs/.test(e.message),
  );
  stubborn.close(); // the pending deletion then completes
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await factory.databases(), []);
  store.close();
});

test('deleteAll waits out a blocked deletion that the other connection lets go of in time (WebKit fires blocked for a closing connection)', async () => {
  const factory = new IDBFactory();
  const store = await openStore({ indexedDB: factory });
  await store.appendEvents([ev('a')]);
  const late = await rawOpen(factory);
  late.onversionchange = null; // does not step aside at once: 'blocked' fires
  setTimeout(() => late.close(), 100); // ... but lets go well within the grace period
  await store.deleteAll();
  assert.deepEqual(await factory.databases(), []);
  store.close();
});

test('corrupt records are skipped on read and counted, not thrown', async () => {
  const factory = new IDBFactory();
  const store = await openStore({ indexedDB: factory });
  await store.appendEvents([ev('a')]);
  const raw = await rawOpen(factory);
  await rawAdd(raw, { eventId: 'no-type', timestamp: T0 });
  await rawAdd(raw, { eventId: 'bad-time', type: 'view', timestamp: 'yesterday' });
  await rawAdd(raw, { eventId: 'nan-time', type: 'view', timestamp: Number.NaN });
  raw.close();
  await store.appendEvents([ev('b')]);

  assert.equal(store.corruptRecords, 0);
  assert.deepEqual(
    (await store.events()).map((e) => e.eventId),
    ['a', 'b'],
  );
  assert.equal(store.corruptRecords, 3);
  await store.events(); // reading again does not count them twice
  assert.equal(store.corruptRecords, 3);
  assert.deepEqual(
    (await store.events({ limit: 2 })).map((e) => e.eventId),
    ['a', 'b'],
  );
  assert.deepEqual(
    (await store.exportAll()).events.map((e) => e.eventId),
    ['a', 'b'],
  );
  assert.equal(store.corruptRecords, 3);
  store.close();
});

test('data persists across close and reopen', async () => {
  const factory = new IDBFactory();
  const store = await openStore({ indexedDB: factory });
  await store.appendEvents(evs('e', 3));
  await store.putState('bandit', { pulls: 7 });
  await store.putVectors('m', [{ contentHash: 'h', vector: new Float32Array([0.1, 0.2]) }]);
  store.close();

  const again = await openStore({ indexedDB: factory });
  assert.deepEqual(
    (await again.events()).map((e) => [e.seq, e.eventId]),
    [
      [1, 'e-0'],
      [2, 'e-1'],
      [3, 'e-2'],
    ],
  );
  assert.deepEqual(await again.getState('bandit'), { pulls: 7 });
  assert.deepEqual((await again.getVectors('m', ['h'])).get('h'), new Float32Array([0.1, 0.2]));
  await again.appendEvents([ev('e-3')]);
  assert.equal((await again.events({ limit: 1 }))[0].seq, 4);
  again.close();

  // a closed store reopens when used again
  assert.equal(await store.countEvents(), 4);
  store.close();
});

test('a newer tab upgrading closes this connection instead of being blocked; reopening reports version_error', async () => {
  const factory = new IDBFactory();
  const store = await openStore({ indexedDB: factory });
  await store.appendEvents([ev('a')]);
  let blocked = false;
  const newer = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = factory.open(DEFAULT_DB_NAME, SCHEMA_VERSION + 1);
    req.onblocked = () => (blocked = true);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  assert.equal(blocked, false);
  await assert.rejects(
    store.countEvents(),
    (e: unknown) => e instanceof StoreError && e.code === 'version_error' && /reload the page/.test(e.message),
  );
  newer.close();
  await assert.rejects(openStore({ indexedDB: factory }), (e: unknown) => e instanceof StoreError && e.code === 'version_error');
  store.close();
});

test('opening rejects as blocked when an older connection will not close for the upgrade', async () => {
  const factory = new IDBFactory();
  const old = await rawOpen(factory, SCHEMA_VERSION, (db) => db.createObjectStore('events'));
  old.onversionchange = null; // an old tab that does not step aside
  // A factory that asks for one version more than this build knows, as a future build would.
  const future: IDBFactory = {
    open: (name: string, version?: number) => factory.open(name, (version ?? SCHEMA_VERSION) + 1),
    deleteDatabase: (name: string) => factory.deleteDatabase(name),
    databases: () => factory.databases(),
    cmp: (a: unknown, b: unknown) => factory.cmp(a, b),
  };
  await assert.rejects(
    openStore({ indexedDB: future }),
    (e: unknown) => e instanceof StoreError && e.code === 'blocked' && /close or reload the other tabs/.test(e.message),
  );
  old.close();
});

test('a failing migration rejects as version_error and leaves the stored data as it was', async () => {
  const factory = new IDBFactory();
  const store = await openStore({ indexedDB: factory });
  await store.appendEvents([ev('kept')]);
  store.close();
  // A future build would ask for SCHEMA_VERSION + 1; this build has no migration for it.
  const future: IDBFactory = {
    open: (name: string, version?: number) => factory.open(name, (version ?? SCHEMA_VERSION) + 1),
    deleteDatabase: (name: string) => factory.deleteDatabase(name),
    databases: () => factory.databases(),
    cmp: (a: unknown, b: unknown) => factory.cmp(a, b),
  };
  await assert.rejects(
    openStore({ indexedDB: future }),
    (e: unknown) =>
      e instanceof StoreError &&
      e.code === 'version_error' &&
      e.message.includes(`Migrating the on-device database from version ${SCHEMA_VERSION} to ${SCHEMA_VERSION + 1} failed`),
  );
  const again = await openStore({ indexedDB: factory });
  assert.deepEqual(
    (await again.events()).map((e) => e.eventId),
    ['kept'],
  );
  again.close();
});

test('a database without the expected stores reports version_error', async () => {
  const factory = new IDBFactory();
  (await rawOpen(factory, SCHEMA_VERSION)).close(); // same name and version, created by something else
  await assert.rejects(
    openStore({ indexedDB: factory }),
    (e: unknown) => e instanceof StoreError && e.code === 'version_error' && /object store/.test(e.message),
  );
});

test('IndexedDB failures map to StoreError codes with a fix in the message', () => {
  const quota = toStoreError(new DOMException('disk full', 'QuotaExceededError'), 'writing 50 events');
  assert.equal(quota.code, 'quota_exceeded');
  assert.match(quota.message, /quota exceeded while writing 50 events: free disk space or lower maxEvents/);
  assert.equal(toStoreError(new DOMException('x', 'VersionError'), 'opening').code, 'version_error');
  assert.equal(toStoreError(new DOMException('x', 'InvalidStateError'), 'reading').code, 'unavailable');
  assert.equal(toStoreError(new DOMException('x', 'DataCloneError'), 'writing').code, 'corrupt_record');
  assert.equal(toStoreError(new Error('boom'), 'reading').code, 'unknown');
  const already = new StoreError('blocked', 'b');
  assert.equal(toStoreError(already, 'x'), already);
});

test('openStore without any IndexedDB rejects as unavailable', async () => {
  const saved = globalThis.indexedDB;
  // @ts-expect-error simulate an environment without IndexedDB
  delete globalThis.indexedDB;
  try {
    await assert.rejects(openStore(), (e: unknown) => e instanceof StoreError && e.code === 'unavailable');
  } finally {
    globalThis.indexedDB = saved;
  }
});
