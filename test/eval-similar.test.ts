/** The "next item after X" protocol's pieces (docs/evaluation.md section 4): its pairs, its user split, its scoring. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { placeGlobalModel } from '../src/global/global-model';
import { DEFAULT_RANKING_CONFIG } from '../src/ranking/score';
import type { CatalogIndex } from '../src/vectors/catalog-index';
import type { Interaction } from '../tools/data/movielens';
import { splitLeaveLastOut } from '../tools/data/split';
import { buildGlobalModel } from '../tools/global/build';
import { evaluatePairs, pairsOf, splitUsers } from '../tools/eval/similar';

const r = (userId: number, movieId: number, timestamp: number): Interaction => ({ userId, movieId, rating: 4, timestamp });

describe('similar-items protocol', () => {
  test('pairs: (last training item -> validation), (validation -> test), each with the history up to X', () => {
    const [s] = splitLeaveLastOut([r(1, 10, 1), r(1, 20, 2), r(1, 30, 3), r(1, 40, 4)]);
    const pairs = pairsOf(s);
    assert.deepEqual(
      pairs.map((p) => [p.x.movieId, p.next.movieId, p.history.map((h) => h.movieId)]),
      [
        [20, 30, [10, 20]],
        [30, 40, [10, 20, 30]],
      ],
    );
  });

  test('validation and reported users are disjoint, cover every user, a third validate, deterministic', () => {
    const ratings = Array.from({ length: 90 }, (_, u) => [r(u + 1, 1, 1), r(u + 1, 2, 2), r(u + 1, 3, 3)]).flat();
    const splits = splitLeaveLastOut(ratings);
    const a = splitUsers(splits);
    const b = splitUsers(splits);
    const ids = (x: { userId: number }[]): number[] => x.map((s) => s.userId);
    assert.equal(a.validation.length, 30);
    assert.equal(new Set([...ids(a.validation), ...ids(a.reported)]).size, 90);
    assert.ok(!ids(a.validation).some((u) => ids(a.reported).includes(u)));
    assert.deepEqual(ids(a.validation), ids(b.validation));
    assert.notDeepEqual(ids(a.validation), ids(splits).slice(0, 30), 'shuffled, not the first users');
  });

  test('scoring: a next item the logs pair with X is a hit for co-visitation, a miss for content when the text disagrees', () => {
    // 12 items: 1's content twin is 2; the logs pair 1 with 7 (many users watch 1 then 7)
    const n = 12;
    const items = Array.from({ length: n }, (_, i) => ({ id: String(i + 1), title: `m${i + 1}` }));
    const data = new Float32Array(n * n);
    for (let i = 0; i < n; i++) data[i * n + i] = 1;
    data[1 * n + 0] = 0.99; // item 2 is nearly item 1
    data[1 * n + 1] = Math.sqrt(1 - 0.99 * 0.99);
    const index: CatalogIndex = {
      items,
      indexOf: new Map(items.map((it, i) => [it.id, i] as const)),
      matrix: { count: n, dims: n, data },
      prior: new Float32Array(n),
    };
    const training = Array.from({ length: 8 }, (_, u) => [
      { user: `u${u}`, item: '1', timestamp: 10 },
      { user: `u${u}`, item: '7', timestamp: 11 },
      { user: `u${u}`, item: String(8 + (u % 4)), timestamp: 12 },
    ]).flat();
    const global = placeGlobalModel(buildGlobalModel(training, { minCount: 1, lambda: 1, k: 5, kt: 5 }), index.indexOf);
    const [s] = splitLeaveLastOut([r(100, 3, 1), r(100, 1, 2), r(100, 7, 3), r(100, 12, 4)]);
    const settings = [
      { name: 'content', kind: 'content' as const, config: DEFAULT_RANKING_CONFIG },
      { name: 'viewed', kind: 'viewed-together' as const, config: DEFAULT_RANKING_CONFIG },
    ];
    const { rows, pairs } = evaluatePairs(settings, [s], index, global);
    assert.equal(pairs, 2);
    // pair (1 -> 7): co-visitation ranks 7 first, content does not list it in the first place; pair (7 -> 12): nobody finds 12 first
    assert.ok(rows[1].ndcg10 >= 0.5 - 1e-9, `viewed-together finds 7 after 1 at rank 0 (ndcg ${rows[1].ndcg10})`);
    assert.ok(rows[0].ndcg10 < rows[1].ndcg10);
  });
});
