/**
 * The IndexedDB vector cache at a real site's size (issue 12): 100,000 item vectors, written the way
 * the catalog loader writes them (batches of 512), come back exactly, in few records; a disk that
 * fills up part way refuses the batch that did not fit with quota_exceeded and keeps every batch
 * before it and the visitor's events. fake-indexeddb, a fresh IDBFactory per test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { openStore, StoreError } from '../src/store';
import { CHUNK_MIN_ROWS } from '../src/store/store';
import { fnv1a64 } from '../src/catalog/validate';
import { mulberry32 } from '../src/math/random';

const ITEMS = 100_000;
const DIMS = 100;
const BATCH = 512; // src/engine/catalog-loader.ts EMBED_CHUNK

function vectors(count: number, seed: number): { contentHash: string; vector: Float32Array }[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => ({
    contentHash: fnv1a64(`item ${i}`),
    vector: Float32Array.from({ length: DIMS }, () => rand() * 2 - 1),
  }));
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

test('100,000 vectors cached in batches of 512 come back exactly, from one record per batch', { timeout: 300_000 }, async () => {
  const factory = new IDBFactory();
  const store = await openStore({ indexedDB: factory, name: 'cache-100k' });
  const rows = vectors(ITEMS, 1);
  for (let s = 0; s < ITEMS; s += BATCH) await store.putVectors('model', rows.slice(s, s + BATCH));
  assert.equal(await store.countVectors(), ITEMS);
  const back = await store.getVectors(
    'model',
    rows.map((r) => r.contentHash),
  );
  assert.equal(back.size, ITEMS);
  for (const r of rows) assert.deepEqual(back.get(r.contentHash), r.vector);
  // a few of them, and another model's: the same answers
  const some = await store.getVectors('model', [rows[7].contentHash, rows[99_999].contentHash, 'ffffffffffffffff']);
  assert.deepEqual([...some.keys()], [rows[7].contentHash, rows[99_999].contentHash]);
  assert.deepEqual(some.get(rows[7].contentHash), rows[7].vector);
  assert.equal((await store.getVectors('other-model', [rows[0].contentHash])).size, 0);
  store.close();
  const db = await request(factory.open('cache-100k'));
  const records = await request(db.transaction('vectors').objectStore('vectors').count());
  db.close();
  assert.equal(records, Math.ceil(ITEMS / BATCH), 'one record per batch, not one per item');
});

test('small batches stay one record per item; one read returns both kinds; deleteVectorsExcept counts a chunk by its vectors', async () => {
  const factory = new IDBFactory();
  const store = await openStore({ indexedDB: factory, name: 'cache-mixed' });
  const rows = vectors(CHUNK_MIN_ROWS + 10, 2);
  await store.putVectors('model', rows.slice(0, CHUNK_MIN_ROWS)); // a chunk
  await store.putVectors('model', rows.slice(CHUNK_MIN_ROWS)); // 10 one-item records
  assert.equal(await store.countVectors(), rows.length);
  const back = await store.getVectors(
    'model',
    rows.map((r) => r.contentHash),
  );
  assert.equal(back.size, rows.length);
  for (const r of rows) assert.deepEqual(back.get(r.contentHash), r.vector);
  assert.equal(await store.deleteVectorsExcept('another-model'), rows.length, 'deleteVectorsExcept counts the vectors of a chunk');
  assert.equal(await store.countVectors(), 0);
  store.close();
});

test(
  'a disk that fills up while 100,000 vectors are cached: the batch that did not fit is refused with quota_exceeded, everything before it and the events are kept',
  { timeout: 300_000 },
  async () => {
    const factory = new IDBFactory();
    const store = await openStore({ indexedDB: factory, name: 'cache-quota' });
    await store.appendEvents([{ eventId: 'e1', type: 'click', itemId: 'a', timestamp: Date.now() }]);
    // the quota: about 60,000 vectors' bytes; fake-indexeddb's record store refuses the write that goes over
    const budget = 60_000 * DIMS * 4;
    let used = 0;
    const probe = await request(
      (() => {
        const open = factory.open('probe', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('s');
        return open;
      })(),
    );
    const raw = (probe.transaction('s').objectStore('s') as unknown as { _rawObjectStore: object })._rawObjectStore;
    probe.close();
    const proto = Object.getPrototypeOf(raw) as { storeRecord: (record: { value: unknown }, ...rest: unknown[]) => unknown };
    const original = proto.storeRecord;
    proto.storeRecord = function (this: unknown, record: { value: unknown }, ...rest: unknown[]) {
      const v = (record.value as { vector?: Float32Array } | undefined)?.vector;
      if (v instanceof Float32Array) {
        if (used + v.byteLength > budget) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        used += v.byteLength;
      }
      return original.call(this, record, ...rest);
    };
    try {
      const rows = vectors(ITEMS, 3);
      let stored = 0;
      let refused: unknown = null;
      for (let s = 0; s < ITEMS && !refused; s += BATCH) {
        try {
          await store.putVectors('model', rows.slice(s, s + BATCH));
          stored = Math.min(ITEMS, s + BATCH);
        } catch (e) {
          refused = e;
        }
      }
      assert.ok(refused instanceof StoreError, `a StoreError, not ${String(refused)}`);
      assert.equal(refused.code, 'quota_exceeded');
      assert.ok(stored > 50_000 && stored < ITEMS, `${stored} vectors stored before the disk was full`);
      assert.equal(await store.countVectors(), stored, 'nothing of the refused batch');
      const back = await store.getVectors(
        'model',
        rows.map((r) => r.contentHash),
      );
      assert.equal(back.size, stored);
      for (const r of rows.slice(0, stored)) assert.deepEqual(back.get(r.contentHash), r.vector);
      assert.deepEqual(
        (await store.events()).map((e) => e.eventId),
        ['e1'],
        "the visitor's events are kept",
      );
    } finally {
      proto.storeRecord = original;
      store.close();
    }
  },
);
