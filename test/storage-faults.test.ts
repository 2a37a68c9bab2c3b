/**
 * Storage faults, in Node on fake-indexeddb, through the store and through the
 * Engine the worker runs: quota exceeded, an upgrade blocked by an old tab, a
 * migration over a database written by the previous schema version, corrupt
 * records. Events tracked during a fault are kept and written later, or
 * reported as lost; never silently dropped.
 */
import { engineOptions } from '../support/engine-options';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory, IDBObjectStore as FakeObjectStore } from 'fake-indexeddb';
import { Engine } from '../src/engine/engine';
import { openStore, StoreError, SCHEMA_VERSION, DEFAULT_DB_NAME } from '../src/store';
import { RecommenderError } from '../src/errors';
import { fromWireError, toWireError } from '../src/workers/protocol';
import type { CatalogItem, EngineEvent, StoredEvent } from '../src/types';
import { useSharedEncoder } from '../support/shared-encoder';

const ROOT = join(import.meta.dirname, '..');
const catalog = (JSON.parse(readFileSync(join(ROOT, 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]).slice(0, 300);
const encoder = useSharedEncoder();

interface V1Fixture {
  schemaVersion: 1;
  name: string;
  events: StoredEvent[];
  vectors: { modelHash: string; contentHash: string; dims: number; vector: number[]; as: 'Float32Array' | 'ArrayBuffer' }[];
  state: Record<string, unknown>;
}
const V1 = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'store-v1.json'), 'utf8')) as V1Fixture;
/** The fixture's last event plus a day: "now" for engines reading it (retention is by age). */
const FIXTURE_NOW = Math.max(...V1.events.map((e) => e.timestamp)) + 86_400_000;

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * Writes the fixture with the version-1 schema exactly as the first release
 * defined it (frozen here on purpose: later edits to MIGRATIONS must still
 * read what that release wrote). Returns the open connection (an "old tab").
 */
async function writeV1Database(factory: IDBFactory): Promise<IDBDatabase> {
  const open = factory.open(V1.name, 1);
  open.onupgradeneeded = () => {
    const db = open.result;
    const events = db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
    events.createIndex('eventId', 'eventId', { unique: true });
    events.createIndex('timestamp', 'timestamp');
    const vectors = db.createObjectStore('vectors', { keyPath: ['modelHash', 'contentHash'] });
    vectors.createIndex('modelHash', 'modelHash');
    db.createObjectStore('state');
  };
  const db = await request(open);
  const tx = db.transaction(['events', 'vectors', 'state'], 'readwrite');
  for (const e of V1.events) tx.objectStore('events').add(e);
  for (const v of V1.vectors) {
    const f = new Float32Array(v.vector);
    tx.objectStore('vectors').add({
      modelHash: v.modelHash,
      contentHash: v.contentHash,
      dims: v.dims,
      vector: v.as === 'ArrayBuffer' ? f.buffer : f,
    });
  }
  for (const [k, v] of Object.entries(V1.state)) tx.objectStore('state').put(v, k);
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
  return db;
}

function engineOn(factory: IDBFactory, now?: () => number, listener?: (e: EngineEvent) => void): Engine {
  const e = new Engine(engineOptions({ seed: 7 }), { store: () => openStore({ indexedDB: factory }), encoder: async () => encoder(), now });
  if (listener) e.on(listener);
  return e;
}

// ---------------------------------------------------------------- quota fault injection

/**
 * Makes every record write fail the way a full disk does: the request errors
 * with QuotaExceededError and its transaction aborts, rolling back the whole
 * batch (IndexedDB's all-or-nothing). Patched on fake-indexeddb's record store,
 * below the store module, so the store's own error mapping is exercised.
 */
async function quotaFault(): Promise<{ on(): void; off(): void; restore(): void }> {
  const probe = new IDBFactory();
  const open = probe.open('probe', 1);
  open.onupgradeneeded = () => open.result.createObjectStore('s');
  const db = await request(open);
  const raw = (db.transaction('s').objectStore('s') as unknown as { _rawObjectStore: object })._rawObjectStore;
  db.close();
  const proto = Object.getPrototypeOf(raw) as { storeRecord: (...args: unknown[]) => unknown };
  const original = proto.storeRecord;
  let active = false;
  proto.storeRecord = function (this: unknown, ...args: unknown[]) {
    if (active) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    return original.apply(this, args);
  };
  return {
    on: () => (active = true),
    off: () => (active = false),
    restore: () => {
      proto.storeRecord = original;
    },
  };
}

/**
 * The other way a full disk shows (a browser that checks quota when it commits): the
 * transaction aborts with QuotaExceededError in its own `error`, and the requests still
 * pending in it fail with a bare AbortError. Patched on fake-indexeddb's object store.
 */
function quotaAtCommit(): { on(): void; off(): void; restore(): void } {
  const proto = FakeObjectStore.prototype as unknown as Record<'add' | 'put', (...args: unknown[]) => unknown>;
  const original = { add: proto.add, put: proto.put };
  const aborted = new WeakSet<object>();
  let active = false;
  for (const method of ['add', 'put'] as const) {
    proto[method] = function (this: { transaction: { _abort(name: string): void } }, ...args: unknown[]) {
      const request = original[method].apply(this, args);
      const tx = this.transaction;
      if (active && !aborted.has(tx)) {
        aborted.add(tx);
        queueMicrotask(() => tx._abort('QuotaExceededError')); // after every request of the batch was queued
      }
      return request;
    };
  }
  return {
    on: () => (active = true),
    off: () => (active = false),
    restore: () => Object.assign(proto, original),
  };
}

const settle = <T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('storage faults', () => {
  test('quota exceeded: the store rejects with quota_exceeded and writes nothing of the batch', async () => {
    const fault = await quotaFault();
    try {
      const store = await openStore({ indexedDB: new IDBFactory() });
      await store.appendEvents([{ eventId: 'before', type: 'view', itemId: 'x', timestamp: 1 }]);
      fault.on();
      const batch = Array.from({ length: 20 }, (_, i): StoredEvent => ({ eventId: `b-${i}`, type: 'view', itemId: 'x', timestamp: 2 + i }));
      await assert.rejects(
        store.appendEvents(batch),
        (e: unknown) => e instanceof StoreError && e.code === 'quota_exceeded' && /free disk space or lower maxEvents/.test(e.message),
      );
      await assert.rejects(store.putState('profile', { v: 1 }), (e: unknown) => e instanceof StoreError && e.code === 'quota_exceeded');
      fault.off();
      assert.deepEqual(
        (await store.events()).map((e) => e.eventId),
        ['before'],
        'the failed batch left nothing half-written',
      );
      assert.deepEqual(await store.appendEvents(batch), { written: 20, duplicates: 0 }, 'the same batch is written as is once space is free');
      store.close();
    } finally {
      fault.restore();
    }
  });

  test('quota exceeded: track() reports it, the events keep serving from memory and are written once space is free, exactly once', async () => {
    const fault = await quotaFault();
    try {
      const factory = new IDBFactory();
      const events: EngineEvent[] = [];
      const engine = engineOn(factory, undefined, (e) => events.push(e));
      await engine.setCatalog(catalog);
      await engine.track({ type: 'view', itemId: catalog[0].id });
      fault.on();
      const during = catalog.slice(10, 15).map((it) => settle(engine.track({ type: 'click', itemId: it.id })));
      const results = await Promise.all(during);
      for (const r of results) {
        assert.equal(r.ok, false, 'track() does not claim the event is stored');
        const err = (r as { error: unknown }).error;
        // the store's own code reaches the caller (and, across the worker boundary, the page)
        assert.ok(err instanceof RecommenderError && err.code === 'quota_exceeded', String(err));
        assert.match(err.message, /quota exceeded/i);
        assert.match(err.message, /kept in memory and retried/);
        // what the worker sends for it, structured-cloned, is what the page's promise rejects with
        const onPage = fromWireError(structuredClone(toWireError(err)));
        assert.ok(onPage instanceof RecommenderError && onPage.code === 'quota_exceeded' && /free disk space/i.test(onPage.fix), String(onPage));
      }
      assert.ok(
        events.some((e) => e.type === 'error' && e.code === 'quota_exceeded' && /quota exceeded/i.test(e.message) && e.fix.length > 0),
        'an error event with its code and fix tells the page',
      );
      // the visitor's session keeps working on the unwritten events
      const history = await engine.history();
      assert.deepEqual(
        history.map((e) => e.itemId),
        [catalog[0].id, ...catalog.slice(10, 15).map((it) => it.id)],
      );
      const recs = await engine.recommend({ k: 5 });
      assert.equal(recs.length, 5);
      assert.ok(
        recs.every((r) => !catalog.slice(10, 15).some((it) => it.id === r.itemId)),
        'unwritten clicks still count as seen',
      );
      fault.off();
      await engine.flush();
      const stored = await (await openStore({ indexedDB: factory })).events();
      assert.deepEqual(
        stored.map((e) => e.itemId),
        [catalog[0].id, ...catalog.slice(10, 15).map((it) => it.id)],
        'every event tracked during the fault was written, once, in order',
      );
      await engine.close();
    } finally {
      fault.restore();
    }
  });

  test('quota exceeded at commit (requests fail with AbortError, the transaction with QuotaExceededError): still quota_exceeded, store and track()', async () => {
    const fault = quotaAtCommit();
    try {
      const factory = new IDBFactory();
      const store = await openStore({ indexedDB: factory });
      fault.on();
      const batch = Array.from({ length: 5 }, (_, i): StoredEvent => ({ eventId: `c-${i}`, type: 'view', itemId: 'x', timestamp: 1 + i }));
      const isQuota = (e: unknown): boolean => e instanceof StoreError && e.code === 'quota_exceeded';
      await assert.rejects(store.appendEvents(batch), isQuota);
      await assert.rejects(store.putState('profile', { v: 1 }), isQuota);
      await assert.rejects(store.putVectors('m', [{ contentHash: 'h', vector: new Float32Array(4) }]), isQuota);
      fault.off();
      assert.equal(await store.countEvents(), 0, 'nothing of the aborted batch was stored');
      store.close();

      const events: EngineEvent[] = [];
      const engine = engineOn(factory, undefined, (e) => events.push(e));
      await engine.setCatalog(catalog);
      fault.on();
      const r = await settle(engine.track({ type: 'click', itemId: catalog[1].id }));
      assert.equal(r.ok, false);
      const err = (r as { error: unknown }).error;
      assert.ok(err instanceof RecommenderError && err.code === 'quota_exceeded', String(err));
      const onPage = fromWireError(structuredClone(toWireError(err)));
      assert.ok(onPage instanceof RecommenderError && onPage.code === 'quota_exceeded', String(onPage));
      await engine.recommend({ k: 3 }); // the exploration state is saved after a slate: its error event keeps the code too
      for (let i = 0; i < 200 && !events.some((e) => e.type === 'error' && /exploration state/.test(e.message)); i++)
        await new Promise((r) => setTimeout(r, 25));
      const errors = events.filter((e) => e.type === 'error');
      assert.ok(errors.length >= 2, JSON.stringify(errors));
      assert.deepEqual([...new Set(errors.map((e) => (e as { code: string }).code))], ['quota_exceeded'], JSON.stringify(errors));
      fault.off();
      await engine.flush();
      await engine.close();
    } finally {
      fault.restore();
    }
  });

  test('storage failing for longer than the in-memory queue holds: the overflow is reported lost (rejected track + error event), the rest written', async () => {
    const fault = await quotaFault();
    try {
      const factory = new IDBFactory();
      const errors: string[] = [];
      const engine = engineOn(factory, undefined, (e) => e.type === 'error' && errors.push(e.message));
      await engine.setCatalog(catalog);
      fault.on();
      const first = await settle(engine.track({ type: 'view', itemId: catalog[0].id })); // a write fails: storage is failing now
      assert.equal(first.ok, false);
      const N = 10_050;
      const tracked = [
        Promise.resolve(first),
        ...Array.from({ length: N }, (_, i) => settle(engine.track({ type: 'view', itemId: catalog[i % catalog.length].id }))),
      ];
      fault.off();
      await engine.flush();
      const results = await Promise.all(tracked);
      const lost = results.filter((r) => !r.ok && /dropped/.test((r as { error: Error }).error.message));
      const stored = await (await openStore({ indexedDB: factory })).countEvents();
      // the first event's track() already said "kept in memory and retried": its loss is reported by the error event
      const reportedLost = errors.reduce((n, m) => n + Number(/^(\d+) events could not be stored and were dropped/.exec(m)?.[1] ?? 0), 0);
      assert.equal(stored + reportedLost, N + 1, `every event is either stored (${stored}) or reported lost (${reportedLost})`);
      assert.equal(reportedLost, N + 1 - 10_000);
      assert.equal(lost.length, N - 10_000, 'each later track() whose event was dropped rejects');
      assert.equal((await engine.history()).length, stored, 'the lost events left the session history too');
      assert.ok(
        errors.some((m) => /could not be stored and were dropped/.test(m)),
        'the loss is announced as an error event',
      );
      await engine.close();
    } finally {
      fault.restore();
    }
  });

  test('schema migration: a version-1 database (fixture) is upgraded and keeps every event, vector and state entry', async () => {
    assert.ok(SCHEMA_VERSION > V1.schemaVersion, 'the fixture is from an older schema version');
    const factory = new IDBFactory();
    (await writeV1Database(factory)).close();
    const store = await openStore({ indexedDB: factory });
    const events = await store.events();
    assert.deepEqual(events, V1.events, 'every event with its seq, id, type, item, value, query and context');
    assert.equal(store.corruptRecords, 0);
    // the unique eventId index survived: re-appending an old event is a duplicate
    assert.deepEqual(await store.appendEvents([{ ...V1.events[0] }]), { written: 0, duplicates: 1 });
    // new events continue after the old ones
    await store.appendEvents([{ eventId: 'after-upgrade', type: 'view', itemId: '1', timestamp: FIXTURE_NOW }]);
    assert.equal((await store.events({ limit: 1 }))[0].seq, V1.events.length + 1);
    // vectors in both old encodings (Float32Array and raw ArrayBuffer)
    const [m] = V1.vectors;
    const hits = await store.getVectors(
      m.modelHash,
      V1.vectors.map((v) => v.contentHash),
    );
    for (const v of V1.vectors) assert.deepEqual(hits.get(v.contentHash), new Float32Array(v.vector), v.contentHash);
    for (const [k, v] of Object.entries(V1.state)) assert.deepEqual(await store.getState(k), v, `state ${k}`);
    store.close();
    // the version-2 index covers the events written by version 1
    const db = await request(factory.open(DEFAULT_DB_NAME));
    assert.equal(db.version, SCHEMA_VERSION);
    const byItem = await request(db.transaction('events').objectStore('events').index('itemId').getAll('1214'));
    assert.deepEqual(
      byItem.map((e: StoredEvent) => e.eventId),
      V1.events.filter((e) => e.itemId === '1214').map((e) => e.eventId),
    );
    db.close();
  });

  test('schema migration: the engine on an upgraded version-1 database reloads the history and personalises from it', async () => {
    const factory = new IDBFactory();
    (await writeV1Database(factory)).close();
    const engine = engineOn(factory, () => FIXTURE_NOW);
    await engine.setCatalog(catalog);
    assert.deepEqual(
      (await engine.history()).map((e) => e.eventId),
      V1.events.map((e) => e.eventId),
    );
    const recs = await engine.recommend({ k: 10 });
    assert.ok(!recs.some((r) => ['1214', '1258', '1'].includes(r.itemId)), 'clicked and dismissed items from the old history are left out');
    const titles = catalog.filter((it) => it.id === '1214' || it.id === '1258').map((it) => it.title);
    assert.ok(
      recs.some((r) => r.reasons.some((x) => titles.some((t) => x.text.includes(t)))),
      `reasons name the old history: ${recs.map((r) => r.reasons[0]?.text).join(' | ')}`,
    );
    const exported = await engine.exportData();
    assert.deepEqual(
      exported.events.map((e) => e.eventId),
      V1.events.map((e) => e.eventId),
    );
    assert.deepEqual(exported.settings['backend-choice'], V1.state['backend-choice']);
    await engine.close();
  });

  test('an upgrade blocked by an old tab: a clear "blocked" error; events tracked meanwhile are kept and written once the old tab closes', async () => {
    const factory = new IDBFactory();
    const oldTab = await writeV1Database(factory); // an old build that ignores versionchange
    oldTab.onversionchange = null;
    const errors: string[] = [];
    const engine = engineOn(
      factory,
      () => FIXTURE_NOW,
      (e) => e.type === 'error' && errors.push(e.message),
    );
    // without a connection there is no catalog: the reason is clear
    await assert.rejects(
      engine.setCatalog(catalog),
      (e: unknown) => e instanceof StoreError && e.code === 'blocked' && /close or reload the other tabs/.test(e.message),
    );
    const during = [settle(engine.track({ type: 'click', itemId: '2571' })), settle(engine.track({ type: 'like', itemId: '2571' }))];
    for (const r of await Promise.all(during)) {
      assert.equal(r.ok, false);
      const err = (r as { error: Error }).error;
      assert.ok(err instanceof RecommenderError && err.code === 'blocked', String(err));
      assert.match(err.message, /blocked by another open tab/);
      assert.match(err.message, /kept in memory and retried/);
    }
    assert.ok(errors.some((m) => /blocked/.test(m)));
    oldTab.close(); // the old tab goes away; the queued upgrade runs, then the engine's retries get through
    for (let i = 0; i < 100 && (await settle(engine.setCatalog(catalog))).ok === false; i++) await new Promise((r) => setTimeout(r, 50));
    await engine.flush();
    const stored = await (await openStore({ indexedDB: factory })).events();
    assert.deepEqual(
      stored.map((e) => e.eventId),
      [...V1.events.map((e) => e.eventId), ...(await engine.history()).slice(-2).map((e) => e.eventId)],
      'the old history plus both events tracked while blocked',
    );
    assert.deepEqual(
      stored.slice(-2).map((e) => [e.type, e.itemId]),
      [
        ['click', '2571'],
        ['like', '2571'],
      ],
    );
    await engine.close();
  });

  test(
    'corrupt records (events, state, vectors) are skipped: the engine loads, serves, re-embeds and exports only valid data',
    { timeout: 60_000 },
    async () => {
      const factory = new IDBFactory();
      const first = engineOn(factory);
      await first.setCatalog(catalog);
      for (const it of catalog.slice(0, 3)) await first.track({ type: 'click', itemId: it.id });
      const modelHash = encoder().info.modelHash;
      await first.close();
      // damage the database as a bug, a disk error or another script might
      const db = await request(factory.open(DEFAULT_DB_NAME));
      const tx = db.transaction(['events', 'state', 'vectors'], 'readwrite');
      tx.objectStore('events').add({ eventId: 'no-type', timestamp: Date.now() });
      tx.objectStore('events').add({ eventId: 'nan-time', type: 'click', itemId: catalog[5].id, timestamp: Number.NaN });
      tx.objectStore('events').add({ unexpected: ['shape'], type: 42 });
      tx.objectStore('events').add({ eventId: 'inf-dwell', type: 'dwell', itemId: catalog[6].id, value: Infinity, timestamp: Date.now() });
      tx.objectStore('events').add({ eventId: 'object-item', type: 'click', itemId: { id: catalog[6].id }, timestamp: Date.now() });
      tx.objectStore('state').put({ mixer: 'garbage', policy: 'thompson' }, 'exploration');
      const vectorKeys = (await request(tx.objectStore('vectors').getAllKeys())) as [string, string][];
      const victim = vectorKeys.find((k) => k[0] === modelHash) as [string, string];
      tx.objectStore('vectors').put({ modelHash, contentHash: victim[1], dims: 100, vector: new Float32Array(3) });
      // one record holds one item's vector, or a chunk of a batch's (key "~chunk:<id>:<rows>", src/store/store.ts)
      const victimRows = victim[1].startsWith('~chunk:') ? Number(victim[1].split(':').pop()) : 1;
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();

      const engine = engineOn(factory);
      const report = await engine.setCatalog(catalog);
      assert.equal(report.embedded, victimRows, 'the items of the corrupt vector record are embedded again, and only they');
      const history = await engine.history();
      assert.deepEqual(
        history.map((e) => e.itemId),
        catalog.slice(0, 3).map((it) => it.id),
      );
      const recs = await engine.recommend({ k: 10 });
      assert.equal(recs.length, 10, 'still serving');
      await engine.track({ type: 'click', itemId: catalog[7].id });
      const exported = await engine.exportData();
      assert.deepEqual(
        exported.events.map((e) => e.itemId),
        [...catalog.slice(0, 3), catalog[7]].map((it) => it.id),
      );
      await engine.close();
    },
  );
});
