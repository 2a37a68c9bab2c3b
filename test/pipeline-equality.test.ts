/**
 * `npm run eval` scores the product: on a fixture (the demo catalog, the shipped
 * global model and heads, real MovieLens histories), the evaluation's ranking of
 * a user is exactly the slate the engine's recommend() returns for the same
 * history (exploration off, so the slate is the ranking).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { Engine } from '../src/engine/engine';
import { openStore } from '../src/store';
import { loadGlobalModel, placeGlobalModel, type GlobalAsset } from '../src/global/global-model';
import { OnnxRankingHeads, type RankingHeads } from '../src/ranking/heads';
import type { CatalogItem } from '../src/types';
import type { CatalogIndex } from '../src/vectors/catalog-index';
import { engineOptions } from '../support/engine-options';
import { fileReader, MODELS_DIR, nodeOrt } from '../support/node-models';
import { useSharedEncoder } from '../support/shared-encoder';
import { engineVariant, rankVariant } from '../tools/eval';
import { catalogIndexOf, profileFor } from '../tools/data/ml-index';
import { loadMovieLens, MOVIELENS_DIR, type Interaction } from '../tools/data/movielens';

const catalog = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];
const encoder = useSharedEncoder();
const globalDir = join(MODELS_DIR, 'global-movielens');
const headsDir = join(MODELS_DIR, 'ranking-heads');
const loadHeads = async (): Promise<RankingHeads> =>
  OnnxRankingHeads.create({ ort: await nodeOrt(), reader: fileReader(headsDir), where: headsDir, backend: 'wasm' });

/** Users with a history of at least 5 demo-catalog items: their last 30 such interactions, in time order. */
function histories(users: number): Interaction[][] {
  const inCatalog = new Set(catalog.map((it) => it.id));
  const byUser = new Map<number, Interaction[]>();
  for (const r of loadMovieLens(MOVIELENS_DIR).ratings) {
    if (!inCatalog.has(String(r.movieId))) continue;
    byUser.set(r.userId, [...(byUser.get(r.userId) ?? []), r]);
  }
  return [...byUser.values()]
    .filter((h) => h.length >= 5)
    .slice(0, users)
    .map((h) => h.sort((a, b) => a.timestamp - b.timestamp || a.movieId - b.movieId).slice(-30));
}

describe('one ranking pipeline', () => {
  let index: CatalogIndex;
  let model: GlobalAsset;
  let heads: RankingHeads;
  before(async () => {
    index = await catalogIndexOf(catalog);
    model = await loadGlobalModel(fileReader(globalDir), globalDir);
    heads = await loadHeads();
  });
  after(async () => heads.dispose());

  test("the evaluation's ranking of a user equals the engine's recommend() for the same history", async () => {
    const global = placeGlobalModel(model, index.indexOf);
    for (const history of histories(6)) {
      const last = history[history.length - 1].timestamp * 1000;
      const profile = profileFor(history, index);
      const evaluated = await rankVariant(engineVariant(heads), index, global, heads, profile);
      const engine = new Engine(engineOptions({ exploration: { policy: 'off' }, seed: 1 }), {
        store: () => openStore({ indexedDB: new IDBFactory() }),
        encoder: async () => encoder(),
        globalModel: () => loadGlobalModel(fileReader(globalDir), globalDir),
        rankingHeads: loadHeads,
        now: () => last,
      });
      await engine.setCatalog(catalog);
      for (const r of history) await engine.track({ type: 'view', itemId: String(r.movieId), timestamp: r.timestamp * 1000 });
      const recommended = await engine.recommend({ k: 10 });
      const user = `user ${history[0].userId}`;
      assert.equal(recommended.length, 10, user);
      assert.deepEqual(
        recommended.map((r) => r.itemId),
        evaluated.slate.map((i) => index.items[i].id),
        `${user}: the engine's slate differs from the evaluation's`,
      );
      recommended.forEach((r, s) => assert.ok(Math.abs(r.score - evaluated.scores[evaluated.slate[s]]) < 1e-5, `${user}: score of ${r.itemId}`));
      await engine.close();
    }
  });
});
