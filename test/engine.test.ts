/**
 * The engine in Node: the same Engine class the worker runs, with the shipped
 * encoder on WASM and IndexedDB from fake-indexeddb.
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
import { RecommenderError } from '../src/errors';
import type { RecommenderOptions } from '../src/types';
import type { CatalogItem } from '../src/types';
import { useSharedEncoder } from '../support/shared-encoder';

const catalog = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];
const small = catalog.slice(0, 600);
const genres = (it: CatalogItem): string[] => (it.tags ?? []).filter((t) => /^[A-Z]/.test(t));

/** Engines dispose their encoder on close; the file's tests share one non-owning view. */
const sharedEncoder = useSharedEncoder();

function makeEngine(factory = new IDBFactory(), now?: () => number): Engine {
  return new Engine(engineOptions({}), { store: () => openStore({ indexedDB: factory }), encoder: async () => sharedEncoder(), now });
}

describe('Engine', () => {
  test('rejects calls before a catalog with a clear not_ready error', async () => {
    const e = makeEngine();
    await assert.rejects(e.recommend(), (err: RecommenderError) => err.code === 'not_ready' && /setCatalog/.test(err.message));
  });

  test('loads a catalog, reports bad items, caches vectors by content hash', async () => {
    const factory = new IDBFactory();
    const e = makeEngine(factory);
    const bad = [...small.slice(0, 50), { id: '', title: 'x' }, { title: 'no id' }, small[0]] as unknown as CatalogItem[];
    const report = await e.setCatalog(bad);
    assert.equal(report.loaded, 50);
    assert.equal(report.problems.length, 3);
    assert.equal(report.embedded, 50);
    const again = makeEngine(factory);
    const changed = small.slice(0, 50).map((it, i) => (i === 0 ? { ...it, title: `${it.title} (director's cut)` } : it));
    const second = await again.setCatalog(changed);
    assert.equal(second.fromCache, 49, 'unchanged items come from the cache');
    assert.equal(second.embedded, 1, 'only the changed item is embedded again');
  });

  test('clicks personalise: recommendations follow the clicked genre and name the clicked items', async () => {
    const e = makeEngine();
    await e.setCatalog(small);
    const horror = small.filter((it) => genres(it)[0] === 'Horror').slice(0, 3);
    assert.equal(horror.length, 3);
    for (const it of horror) await e.track({ type: 'click', itemId: it.id });
    const recs = await e.recommend({ k: 10 });
    assert.equal(recs.length, 10);
    const clicked = new Set(horror.flatMap(genres));
    const sharing = recs.filter((r) => genres(r.item).some((g) => clicked.has(g))).length;
    assert.ok(sharing >= 6, `${sharing}/10 share a genre`);
    const titles = horror.map((h) => h.title);
    const ranked = recs.filter((r) => r.source !== 'explore' && r.source !== 'trending');
    assert.ok(ranked.length >= 8, 'exploration fills at most the open slots (20% by default)');
    for (const r of ranked) {
      assert.equal(r.reasons[0].kind, 'history');
      assert.ok(
        titles.some((t) => r.reasons[0].text.includes(t)),
        r.reasons[0].text,
      );
    }
    assert.ok(
      recs.every((r) => !horror.some((h) => h.id === r.itemId)),
      'seen items excluded',
    );
  });

  test('diversity and taskWeights options: validated with a clear error; more diversity spreads a slate over more genres', async () => {
    const opts = (o: RecommenderOptions): Engine =>
      new Engine(engineOptions(o), { store: () => openStore({ indexedDB: new IDBFactory() }), encoder: async () => sharedEncoder() });
    assert.throws(
      () => opts({ diversity: 1.5 }),
      (err: RecommenderError) => err.code === 'invalid_options' && /diversity must be a number from 0 to 1/.test(err.message),
    );
    assert.throws(
      () => opts({ taskWeights: { click: -1 } }),
      (err: RecommenderError) => err.code === 'invalid_options' && /taskWeights/.test(err.message),
    );
    assert.throws(() => opts({ taskWeights: { click: 0, conversion: 0 } }), /must not be 0 for both click and conversion/);
    const slateGenres = async (diversity: number): Promise<number> => {
      const e = opts({ diversity, exploration: { rate: 0 } });
      await e.setCatalog(small);
      for (const it of small.filter((x) => genres(x)[0] === 'Horror').slice(0, 3)) await e.track({ type: 'click', itemId: it.id });
      const recs = await e.recommend({ k: 10 });
      await e.close();
      return new Set(recs.map((r) => genres(r.item)[0])).size;
    };
    const focused = await slateGenres(0);
    const spread = await slateGenres(0.9);
    assert.ok(spread > focused, `first genres in the slate: ${focused} at diversity 0, ${spread} at 0.9`);
  });

  test('dismiss pushes an item and its neighbours down; filters and exclude apply', async () => {
    const e = makeEngine();
    await e.setCatalog(small);
    const horror = small.filter((it) => genres(it)[0] === 'Horror');
    await e.track({ type: 'click', itemId: horror[0].id });
    const before = await e.recommend({ k: 10 });
    const victim = before[0];
    await e.track({ type: 'dismiss', itemId: victim.itemId });
    const afterDismiss = await e.recommend({ k: 10 });
    assert.ok(!afterDismiss.some((r) => r.itemId === victim.itemId), 'dismissed item gone');
    const filtered = await e.recommend({ k: 5, filters: { categories: ['Comedy'] }, exclude: [afterDismiss[0].itemId] });
    assert.ok(filtered.every((r) => r.item.category === 'Comedy' && r.itemId !== afterDismiss[0].itemId));
  });

  test('unknown ids and malformed events get clear errors and store nothing', async () => {
    const e = makeEngine();
    await e.setCatalog(small);
    await assert.rejects(e.track({ type: 'click', itemId: 'nope' }), (err: RecommenderError) => err.code === 'unknown_item');
    await assert.rejects(e.track({ type: 'teleport' as never, itemId: small[0].id }), (err: RecommenderError) => err.code === 'invalid_event');
    await assert.rejects(e.track({ type: 'dwell', itemId: small[0].id, value: Number.NaN }), (err: RecommenderError) => err.code === 'invalid_event');
    await assert.rejects(e.similar('nope'), (err: RecommenderError) => err.code === 'unknown_item');
    assert.equal((await e.stats()).events, 0);
    assert.equal((await e.recommend()).length, 10, 'still serving');
  });

  test('similar and search', async () => {
    const e = makeEngine();
    await e.setCatalog(small);
    const toy = small.find((it) => it.title.startsWith('Toy Story (1995)'));
    assert.ok(toy);
    const sim = await e.similar(toy.id, 5);
    assert.equal(sim.length, 5);
    assert.ok(sim.every((r) => r.itemId !== toy.id && r.reasons[0].kind === 'similar'));
    assert.ok(
      sim.some((r) => genres(r.item).includes('Animation')),
      sim.map((r) => r.item.title).join('; '),
    );
    const found = await e.search('toy story', 5);
    assert.equal(found[0].itemId, toy.id);
    assert.deepEqual(await e.search('   '), []);
  });

  test('history survives a new engine on the same database; export is exact; delete empties it', async () => {
    const factory = new IDBFactory();
    const e = makeEngine(factory);
    await e.setCatalog(small);
    await Promise.all(small.slice(0, 20).map((it) => e.track({ type: 'view', itemId: it.id })));
    await e.close();
    const e2 = makeEngine(factory);
    await e2.setCatalog(small);
    const hist = await e2.history();
    assert.equal(hist.length, 20);
    const exported = await e2.exportData();
    assert.deepEqual(
      exported.events.map((x) => x.itemId),
      small.slice(0, 20).map((it) => it.id),
    );
    await e2.deleteData();
    assert.equal((await e2.history()).length, 0);
    assert.equal((await e2.stats()).events, 0);
    const rec = await e2.recommend({ k: 3 });
    assert.equal(rec[0].reasons[0].kind, 'popular');
  });

  test('retention: maxEvents keeps the newest', async () => {
    const factory = new IDBFactory();
    const e = new Engine(engineOptions({ maxEvents: 50 }), { store: () => openStore({ indexedDB: factory }), encoder: async () => sharedEncoder() });
    await e.setCatalog(small);
    for (let i = 0; i < 120; i++) await e.track({ type: 'view', itemId: small[i].id });
    await e.close();
    const e2 = new Engine(engineOptions({ maxEvents: 50 }), { store: () => openStore({ indexedDB: factory }), encoder: async () => sharedEncoder() });
    await e2.setCatalog(small);
    const hist = await e2.history();
    assert.equal(hist.length, 50);
    assert.equal(hist[hist.length - 1].itemId, small[119].id);
  });
});
