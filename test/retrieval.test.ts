/**
 * Two-stage retrieval for large catalogs: candidates from a scorer, exact
 * ranking on the candidates. Compared with exact scoring of every item on the
 * demo catalog and the shipped global model.
 */
import { engineOptions } from '../support/engine-options';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { Engine, type EngineDeps } from '../src/engine/engine';
import { openStore } from '../src/store';
import { loadGlobalModel } from '../src/global/global-model';
import { JsScorer, type CatalogScorer } from '../src/candidates/scorer';
import type { CatalogItem, EngineEvent, RecommenderOptions } from '../src/types';
import { fileReader, MODELS_DIR } from '../support/node-models';
import { useSharedEncoder } from '../support/shared-encoder';

const catalog = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];

const sharedEncoder = useSharedEncoder();

const globalModel = (): Promise<ReturnType<typeof loadGlobalModel> extends Promise<infer G> ? G : never> =>
  loadGlobalModel(fileReader(join(MODELS_DIR, 'global-movielens')), 'global-movielens');

function engine(options: RecommenderOptions, deps: Partial<EngineDeps> = {}, factory = new IDBFactory()): Engine {
  return new Engine(engineOptions(options), {
    store: () => openStore({ indexedDB: factory }),
    encoder: async () => sharedEncoder(),
    globalModel,
    ...deps,
  });
}

describe('two-stage retrieval', () => {
  test('small catalogs are scored exactly; a forced path or a large catalog uses retrieval', async () => {
    const exact = engine({});
    await exact.setCatalog(catalog.slice(0, 500));
    assert.equal((await exact.stats()).scoring?.path, 'exact');
    const forced = engine({ scoring: 'js' });
    await forced.setCatalog(catalog.slice(0, 500));
    assert.equal((await forced.stats()).scoring?.path, 'js');
    const large = engine({ retrievalMinItems: 400 });
    await large.setCatalog(catalog.slice(0, 500));
    assert.equal((await large.stats()).scoring?.path, 'js', 'auto without onnxruntime: the TypeScript twin');
  });

  test('recommendations from retrieved candidates match exact scoring of every item', async () => {
    const factory = new IDBFactory();
    const exact = engine({ exploration: { rate: 0 } }, {}, factory);
    await exact.setCatalog(catalog);
    const liked = ['Star Wars', 'Alien', 'Terminator', 'Matrix', 'Blade Runner']
      .map((t) => catalog.find((it) => it.title.includes(t))?.id)
      .filter((x): x is string => !!x);
    assert.ok(liked.length >= 4);
    for (const id of liked) await exact.track({ type: 'click', itemId: id });
    await exact.flush();
    const retrieved = engine({ scoring: 'js', exploration: { rate: 0 } }, {}, factory); // same device store: same history
    await retrieved.setCatalog(catalog);
    assert.equal((await retrieved.history()).length, liked.length);
    let overlapSum = 0;
    for (const options of [{ k: 10 }, { k: 10, filters: { tags: ['Comedy'] } }, { k: 5, exclude: [catalog[0].id] }]) {
      const a = await exact.recommend(options);
      const b = await retrieved.recommend(options);
      assert.equal(b.length, a.length);
      assert.equal(b[0].itemId, a[0].itemId, `same best item for ${JSON.stringify(options)}`);
      const exactScore = new Map(a.map((r) => [r.itemId, r.score]));
      for (const r of b)
        if (exactScore.has(r.itemId))
          assert.ok(Math.abs((exactScore.get(r.itemId) as number) - r.score) < 1e-5, 'a candidate gets exactly its full-scoring score');
      overlapSum += b.filter((r) => exactScore.has(r.itemId)).length / a.length;
      for (const r of b) assert.ok(!liked.includes(r.itemId), 'seen items stay excluded');
      if (options.filters) for (const r of b) assert.ok(r.item.tags?.includes('Comedy'), 'filters apply to retrieval');
      assert.ok(b.every((r) => r.reasons.length > 0 && r.reasons[0].text.length > 0));
    }
    assert.ok(overlapSum / 3 >= 0.8, `overlap with exact scoring ${overlapSum / 3}`);
    const sim = await retrieved.similar(liked[0], 8);
    const simExact = await exact.similar(liked[0], 8);
    assert.equal(sim[0].itemId, simExact[0].itemId);
    const found = await retrieved.search('space adventure', 5);
    const foundExact = await exact.search('space adventure', 5);
    assert.equal(found[0].itemId, foundExact[0].itemId);
  });

  test('a lost GPU device: scoring falls back to WASM and the call is still answered', async () => {
    const events: EngineEvent[] = [];
    const made: string[] = [];
    let gpu: (CatalogScorer & { lose(): void }) | null = null;
    const e = engine(
      { scoring: 'webgpu', exploration: { rate: 0 } },
      {
        scorer: async (items, path) => {
          made.push(path);
          if (path === 'wasm') return Object.assign(new JsScorer(items, 'fallback'), { path: 'wasm' as const });
          const twin = new JsScorer(items);
          let lost = false;
          gpu = {
            path: 'webgpu',
            kernel: 'wgsl',
            reason: 'fake',
            deviceBytes: 1,
            get lost() {
              return lost;
            },
            lose: () => (lost = true),
            topK: (q, k, m) => (lost ? Promise.reject(new Error('device lost')) : twin.topK(q, k, m)),
            dispose: async () => undefined,
          };
          return gpu;
        },
      },
    );
    e.on((ev) => events.push(ev));
    await e.setCatalog(catalog.slice(0, 1000));
    await e.track({ type: 'click', itemId: catalog[5].id });
    const before = await e.recommend({ k: 5 });
    assert.equal((await e.stats()).scoring?.path, 'webgpu');
    (gpu as unknown as { lose(): void }).lose();
    const afterLoss = await e.recommend({ k: 5 });
    assert.deepEqual(
      afterLoss.map((r) => r.itemId),
      before.map((r) => r.itemId),
      'same results on the fallback path',
    );
    assert.deepEqual(made, ['webgpu', 'wasm']);
    assert.equal((await e.stats()).scoring?.path, 'wasm');
    assert.ok(events.some((ev) => ev.type === 'backend' && ev.component === 'scoring' && ev.backend === 'wasm'));
    assert.ok(events.some((ev) => ev.type === 'error' && /GPU device was lost/.test(ev.message)));
  });
});
