/**
 * The visitor's controls in the engine (Node, shipped encoder on WASM,
 * IndexedDB from fake-indexeddb): forget this, not interested in a category,
 * the pause switch and more variety, all stored on the device, exported and deleted.
 */
import { engineOptions } from '../support/engine-options';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { Engine } from '../src/engine/engine';
import { openStore } from '../src/store';
import type { RecommenderError } from '../src/errors';
import type { CatalogItem, Recommendation, RecommenderOptions } from '../src/types';
import { useSharedEncoder } from '../support/shared-encoder';

const catalog = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];
const small = catalog.slice(0, 600);
const genres = (it: CatalogItem): string[] => (it.tags ?? []).filter((t) => /^[A-Z]/.test(t));
const horror = small.filter((it) => genres(it)[0] === 'Horror').slice(0, 3);
const named = (recs: Recommendation[]): Set<string> => new Set(recs.flatMap((r) => r.reasons.flatMap((x) => x.itemIds ?? [])));

/** Engines dispose their encoder on close; the file's tests share one non-owning view. */
const sharedEncoder = useSharedEncoder();

function makeEngine(factory = new IDBFactory(), options: RecommenderOptions = {}): Engine {
  return new Engine(engineOptions(options), { store: () => openStore({ indexedDB: factory }), encoder: async () => sharedEncoder() });
}

describe('visitor controls', () => {
  test('forget this: the item leaves IndexedDB, the history, every reason, the impression log and the export', async () => {
    const factory = new IDBFactory();
    const e = makeEngine(factory);
    await e.setCatalog(small);
    for (const it of horror) await e.track({ type: 'click', itemId: it.id });
    await e.track({ type: 'view', itemId: horror[0].id });
    const victim = horror[0].id;
    const first = await e.recommend({ k: 10 });
    assert.ok(named(first).has(victim), 'before: a reason names the item');
    await e.track({ type: 'click', itemId: first[0].itemId }); // feedback lands in the exploration state
    const report = await e.forgetItem(victim);
    assert.deepEqual(report, { itemId: victim, removedEvents: 2 });
    const store = await openStore({ indexedDB: factory });
    assert.ok(!(await store.events()).some((ev) => ev.itemId === victim), 'no stored event of the item');
    assert.ok(!(await e.history()).some((ev) => ev.itemId === victim), 'not in the history in memory');
    const exported = await e.exportData();
    assert.ok(!JSON.stringify(exported).includes(`"${victim}"`), 'export no longer contains it (events, exploration state)');
    assert.ok(!e.impressionLog().some((i) => i.itemId === victim), 'nor the impression log');
    // the next slate may show the item again (it is no longer seen), but never as a reason
    const next = await e.recommend({ k: 10 });
    assert.ok(!named(next).has(victim), 'the next slate names it in no reason');
    assert.ok((await e.explain(next[0].itemId)).every((r) => !(r.itemIds ?? []).includes(victim)));
    // a fresh engine on the same device starts without it too
    const again = makeEngine(factory);
    await again.setCatalog(small);
    assert.ok(!named(await again.recommend({ k: 10 })).has(victim));
    await Promise.all([e.close(), again.close()]);
    store.close();
  });

  test('forget this also drops queued events of the item that were not written yet', async () => {
    const e = makeEngine();
    await e.setCatalog(small);
    const queued = e.track({ type: 'click', itemId: horror[1].id });
    const report = await e.forgetItem(horror[1].id);
    await queued;
    assert.equal(report.removedEvents, 1);
    assert.equal((await e.history()).length, 0);
    assert.equal((await e.exportData()).events.length, 0);
    await e.close();
  });

  test('not interested in a category: recommend() and similar() leave it out; stored, exported, kept across engines', async () => {
    const factory = new IDBFactory();
    const e = makeEngine(factory);
    await e.setCatalog(small);
    for (const it of horror) await e.track({ type: 'click', itemId: it.id });
    const category = (await e.recommend({ k: 10 })).map((r) => r.item.category).find((c): c is string => !!c);
    assert.ok(category, 'the demo catalog has categories');
    const controls = await e.setControls({ notInterested: [category] });
    assert.deepEqual(controls.notInterested, [category]);
    const recs = await e.recommend({ k: 30 });
    assert.equal(recs.length, 30);
    assert.ok(
      recs.every((r) => r.item.category !== category),
      'no item of that category',
    );
    assert.ok((await e.similar(horror[0].id, 20)).every((r) => r.item.category !== category));
    assert.deepEqual((await e.exportData()).settings['visitor-controls'], { paused: false, notInterested: [category], variety: null });
    const again = makeEngine(factory);
    await again.setCatalog(small);
    assert.deepEqual((await again.controls()).notInterested, [category]);
    assert.ok((await again.recommend({ k: 30 })).every((r) => r.item.category !== category));
    await again.setControls({ notInterested: [] });
    assert.ok(
      (await again.recommend({ k: 30 })).some((r) => r.item.category === category),
      'cleared: the category is back',
    );
    await Promise.all([e.close(), again.close()]);
  });

  test('pause: the non-personal ranking, track() stores nothing (bad events still reject), resume restores', async () => {
    const factory = new IDBFactory();
    const e = makeEngine(factory, { exploration: { rate: 0 } });
    await e.setCatalog(small);
    for (const it of horror) await e.track({ type: 'click', itemId: it.id });
    const personal = await e.recommend({ k: 10 });
    await e.setControls({ paused: true });
    const fresh = makeEngine(new IDBFactory(), { exploration: { rate: 0 } });
    await fresh.setCatalog(small);
    const nonPersonal = (await fresh.recommend({ k: 10 })).map((r) => r.itemId);
    const paused = await e.recommend({ k: 10 });
    assert.deepEqual(
      paused.map((r) => r.itemId),
      nonPersonal,
      'paused: the same slate as a visitor without history',
    );
    assert.equal(named(paused).size, 0, 'no reason names a history item');
    const impressions = e.impressionLog().length;
    await e.track({ type: 'click', itemId: small[100].id });
    await e.flush();
    const store = await openStore({ indexedDB: factory });
    assert.equal(await store.countEvents(), 3, 'nothing stored while paused');
    assert.equal((await e.history()).length, 3);
    assert.equal(e.impressionLog().length, impressions, 'no impression logged while paused');
    await assert.rejects(e.track({ type: 'nope' as 'click', itemId: 'x' }), (err: RecommenderError) => err.code === 'invalid_event');
    await e.setControls({ paused: false });
    assert.deepEqual(
      (await e.recommend({ k: 10 })).map((r) => r.itemId),
      personal.map((r) => r.itemId),
      'resumed: personal again',
    );
    await e.track({ type: 'click', itemId: small[100].id });
    assert.equal(await store.countEvents(), 4, 'tracking again after resume');
    await Promise.all([e.close(), fresh.close()]);
    store.close();
  });

  test('more variety: a higher MMR weight spreads the slate over more genres; null restores the site default', async () => {
    const e = makeEngine(new IDBFactory(), { exploration: { rate: 0 }, diversity: 0 });
    await e.setCatalog(small);
    for (const it of horror) await e.track({ type: 'click', itemId: it.id });
    const spread = (recs: Recommendation[]): number => new Set(recs.map((r) => genres(r.item)[0])).size;
    const focused = await e.recommend({ k: 10 });
    await e.setControls({ variety: 0.9 });
    const varied = await e.recommend({ k: 10 });
    assert.ok(spread(varied) > spread(focused), `first genres: ${spread(focused)} by default, ${spread(varied)} with more variety`);
    await e.setControls({ variety: null });
    assert.deepEqual(
      (await e.recommend({ k: 10 })).map((r) => r.itemId),
      focused.map((r) => r.itemId),
    );
    await e.close();
  });

  test('bad calls are RecommenderErrors with a fix; deleteData() removes the controls', async () => {
    const factory = new IDBFactory();
    const e = makeEngine(factory);
    await e.setCatalog(small.slice(0, 50));
    for (const bad of [
      null,
      [],
      { paused: 'yes' },
      { variety: 2 },
      { variety: NaN },
      { notInterested: 'Horror' },
      { notInterested: [''] },
      { other: 1 },
    ])
      await assert.rejects(e.setControls(bad), (err: RecommenderError) => err.code === 'invalid_options' && !!err.fix, JSON.stringify(bad));
    await assert.rejects(e.forgetItem(42 as unknown as string), (err: RecommenderError) => err.code === 'invalid_options' && !!err.fix);
    await e.setControls({ paused: true, variety: 0.5, notInterested: ['Drama'] });
    assert.ok('visitor-controls' in (await e.exportData()).settings);
    await e.deleteData();
    assert.deepEqual(await e.controls(), { paused: false, notInterested: [], variety: null });
    const store = await openStore({ indexedDB: factory });
    assert.equal(await store.getState('visitor-controls'), undefined);
    await e.close();
    store.close();
  });
});
