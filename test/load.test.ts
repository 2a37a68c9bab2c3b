/**
 * Load and retention, through the Engine the worker runs (fake-indexeddb):
 * 100,000 events in one session lose nothing beyond the retention policy,
 * storage stays bounded by it, and recommend() keeps answering. Retention by
 * age and by count is enforced on the device.
 */
import { engineOptions } from '../support/engine-options';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { Engine } from '../src/engine/engine';
import { openStore } from '../src/store';
import type { CatalogItem } from '../src/types';
import { useSharedEncoder } from '../support/shared-encoder';

const catalog = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]
).slice(0, 500);
const encoder = useSharedEncoder();
const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

test('100,000 events in one session: the newest 10,000 (maxEvents) are kept exactly, storage stays bounded, recommend() keeps answering', async () => {
  const factory = new IDBFactory();
  let now = T0;
  const MAX = 10_000;
  const engine = new Engine(engineOptions({ seed: 5, maxEvents: MAX, excludeSeen: false }), {
    store: () => openStore({ indexedDB: factory }),
    encoder: async () => encoder(),
    now: () => now,
  });
  await engine.setCatalog(catalog);
  const observer = await openStore({ indexedDB: factory });
  const N = 100_000;
  const CHUNK = 2_000;
  const types = ['view', 'view', 'view', 'click', 'dwell', 'like'] as const;
  let maxStored = 0;
  let maxHistory = 0;
  for (let start = 0; start < N; start += CHUNK) {
    const chunk: Promise<void>[] = [];
    for (let i = start; i < start + CHUNK; i++) {
      now = T0 + i * 1_000; // one event a second
      const type = types[i % types.length];
      chunk.push(engine.track({ type, itemId: catalog[(i * 7919) % catalog.length].id, ...(type === 'dwell' ? { value: i % 300 } : {}) }));
    }
    await Promise.all(chunk); // every track() resolves: stored, none dropped
    maxStored = Math.max(maxStored, await observer.countEvents());
    maxHistory = Math.max(maxHistory, (await engine.history()).length);
    if (start % 20_000 === 0) assert.ok((await engine.recommend({ k: 10 })).length === 10, `recommend() answers after ${start + CHUNK} events`);
  }
  await engine.flush();
  // bounded: never more than maxEvents plus the writes between two retention passes (every 500 events) and one chunk
  assert.ok(maxStored <= MAX + 500 + CHUNK, `at most ${maxStored} events stored at any time`);
  assert.ok(maxHistory <= MAX + 500 + CHUNK, `at most ${maxHistory} events held in memory`);
  // a new engine on the same database (the next visit) applies the policy exactly: the newest 10,000, in order
  await engine.close();
  const next = new Engine(engineOptions({ seed: 5, maxEvents: MAX, excludeSeen: false }), {
    store: () => openStore({ indexedDB: factory }),
    encoder: async () => encoder(),
    now: () => now,
  });
  await next.setCatalog(catalog);
  const kept = await next.history();
  assert.equal(kept.length, MAX);
  assert.deepEqual(
    kept.map((e) => e.timestamp),
    Array.from({ length: MAX }, (_, j) => T0 + (N - MAX + j) * 1_000),
    'exactly the newest events, none missing, none duplicated',
  );
  assert.equal(await observer.countEvents(), MAX);
  const recs = await next.recommend({ k: 10 });
  assert.equal(recs.length, 10, 'recommend() still answers');
  await next.close();
  observer.close();
});

test('retention by age: events older than maxEventAgeDays are deleted on the device; younger ones are kept', async () => {
  const factory = new IDBFactory();
  let now = T0;
  const make = (): Engine =>
    new Engine(engineOptions({ seed: 6, maxEventAgeDays: 30 }), {
      store: () => openStore({ indexedDB: factory }),
      encoder: async () => encoder(),
      now: () => now,
    });
  const engine = make();
  await engine.setCatalog(catalog);
  for (let i = 0; i < 40; i++) await engine.track({ type: 'view', itemId: catalog[i].id, timestamp: T0 - (40 - i) * DAY }); // 1..40 days old
  await engine.close();
  const again = make();
  await again.setCatalog(catalog);
  const kept = await again.history();
  assert.equal(kept.length, 30, `${kept.length} kept`);
  assert.ok(kept.every((e) => e.timestamp >= T0 - 30 * DAY));
  assert.equal(await (await openStore({ indexedDB: factory })).countEvents(), 30, 'deleted from IndexedDB, not just hidden');
  // a month later, on the next visit, all of them have expired
  await again.close();
  now = T0 + 31 * DAY;
  const later = make();
  await later.setCatalog(catalog);
  assert.equal((await later.history()).length, 0);
  assert.equal(await (await openStore({ indexedDB: factory })).countEvents(), 0);
  await later.close();
});
