import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matrixFromRows } from '../src/math/matrix';
import { topK } from '../src/math/top-k';
import { FEATURE_COUNT, rerankWithHeads, type RankingHeads } from '../src/ranking/heads';
import { buildProfile } from '../src/profile/profile';
import type { ScoreComponents } from '../src/ranking/score';
import { catalogOrderPrior, type CatalogIndex } from '../src/vectors/catalog-index';

/** Fake heads: p(click) = the 'next' feature, so the test controls the heads' order. */
const heads: RankingHeads = {
  backend: 'js',
  modelHash: 'fake',
  async predict(features, rows) {
    const click = Float32Array.from({ length: rows }, (_, r) => features[r * FEATURE_COUNT + 2]);
    return { click, conversion: new Float32Array(rows) };
  },
  async dispose() {},
};

test('heads re-rank known items; items unknown to the global model keep their linear slot', async () => {
  const n = 6;
  const items = Array.from({ length: n }, (_, i) => ({ id: String(i), title: `item ${i}` }));
  const index: CatalogIndex = {
    items,
    indexOf: new Map(items.map((it, i) => [it.id, i])),
    matrix: matrixFromRows(
      items.map(() => Float32Array.from([1, 0])),
      2,
    ),
    prior: catalogOrderPrior(n),
  };
  const base = Float32Array.from([6, 5, 4, 3, 2, 1]); // linear order 0..5
  const components: ScoreComponents = {
    content: new Float32Array(n),
    neighbour: new Float32Array(n),
    next: Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), // heads prefer 5, 4, 3, ...
    popularity: new Float32Array(n),
    known: Uint8Array.from([1, 0, 1, 1, 1, 1]), // item 1 is cold
  };
  const profile = buildProfile([], () => undefined, 0);
  const scores = await rerankWithHeads(heads, index, profile, components, base, n);
  assert.deepEqual(topK(scores, n), [5, 1, 4, 3, 2, 0], 'cold item 1 keeps its second place; known items follow the heads');
});
