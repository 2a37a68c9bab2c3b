import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecommenderError } from '../src/errors';
import { globalScores, loadGlobalModel, neighbourContributions } from '../src/global/global-model';
import { decodeGlobalAsset, decodeGlobalModel, encodeGlobalAsset, encodeGlobalModel } from '../src/formats/global-model-file';
import { manifestHash, sha256Hex, type ModelManifest } from '../src/formats/manifest';
import { coldItems, hitMetrics, rankOf, splitLeaveLastOut } from '../tools/data/split';
import { buildGlobalModel, userSequences, type LoggedInteraction } from '../tools/global/build';
import { invertSpd } from '../src/math/linalg';
import type { Interaction } from '../tools/data/movielens';

// three users who watch a -> b -> c in order, one who watches a -> c
const logs: LoggedInteraction[] = [
  ...['u1', 'u2', 'u3'].flatMap((u) => ['a', 'b', 'c'].map((item, t) => ({ user: u, item, timestamp: 100 + t }))),
  { user: 'u4', item: 'a', timestamp: 5 },
  { user: 'u4', item: 'c', timestamp: 6 },
  { user: 'u5', item: 'd', timestamp: 7 },
];

describe('global model', () => {
  test('EASE inverse is a real inverse', () => {
    const n = 3;
    const a = Float64Array.from([4, 1, 0, 1, 3, 1, 0, 1, 2]);
    const inv = a.slice();
    invertSpd(inv, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * inv[k * n + j];
        assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-12);
      }
    }
  });

  test('sequences are time-ordered with ties by numeric item id', () => {
    const seq = userSequences([
      { user: 'x', item: '10', timestamp: 1 },
      { user: 'x', item: '9', timestamp: 1 },
      { user: 'x', item: '1', timestamp: 0 },
    ]);
    assert.deepEqual(
      seq.get('x')?.map((e) => e.item),
      ['1', '9', '10'],
    );
  });

  test('build -> bytes -> load round trip, deterministic, scores follow co-occurrence and order', async () => {
    const opts = { minCount: 1, lambda: 0.5, k: 3, kt: 3 };
    const m = buildGlobalModel(logs, opts);
    const again = buildGlobalModel([...logs].reverse(), opts);
    assert.ok(Buffer.from(encodeGlobalModel(m)).equals(Buffer.from(encodeGlobalModel(again))), 'input order does not matter');
    const dense = decodeGlobalModel(encodeGlobalModel(m), m.itemIds);
    assert.deepEqual(Array.from(dense.neighbours), Array.from(m.neighbours));
    assert.deepEqual(Array.from(dense.weights), Array.from(m.weights));
    assert.deepEqual(Array.from(dense.popularity), Array.from(m.popularity));
    const { bytes, itemIds } = encodeGlobalAsset(m);
    assert.ok(Buffer.from(bytes).equals(Buffer.from(encodeGlobalAsset(again).bytes)), 'the asset is byte-identical for the same input');
    const asset = decodeGlobalAsset(bytes, itemIds);
    // next-item: after b comes c
    const rowOf = new Map(asset.itemIds.map((id, r) => [id, r] as const));
    const rowToCatalog = Int32Array.from(asset.itemIds, (_, r) => r);
    const s = globalScores(
      asset,
      rowToCatalog,
      asset.rows,
      [
        { itemId: 'a', weight: 1 },
        { itemId: 'b', weight: 1 },
      ],
      rowOf,
    );
    assert.ok(s.next[rowOf.get('c') as number] > s.next[rowOf.get('d') as number]);
    assert.ok(s.neighbour[rowOf.get('c') as number] > 0, 'c co-occurs with a and b');
    assert.equal(s.neighbour[rowOf.get('d') as number], 0, 'd never co-occurs');
    const why = neighbourContributions(asset, rowOf, 'c', [
      { itemId: 'a', weight: 1 },
      { itemId: 'b', weight: 1 },
    ]);
    assert.ok(why.length > 0 && Math.abs(why.reduce((x, y) => x + y.weight, 0) - 1) < 1e-6);
  });

  test('a flipped byte is refused by the integrity check; a truncated file by the decoder', async () => {
    const m = buildGlobalModel(logs, { minCount: 1, k: 2, kt: 2 });
    const { bytes: bin, itemIds } = encodeGlobalAsset(m);
    const items = new TextEncoder().encode(JSON.stringify(itemIds));
    const files: ModelManifest['files'] = {
      'global.bin': { sha256: await sha256Hex(bin), bytes: bin.length },
      'items.json': { sha256: await sha256Hex(items), bytes: items.length },
    };
    const manifest = {
      format: 'on-device-recs-model/v1',
      name: 'g',
      kind: 'global-model',
      model: 'global.bin',
      inputs: {},
      outputs: {},
      files,
      hash: await manifestHash(files),
    };
    const serve =
      (tamper: boolean) =>
      async (file: string): Promise<Uint8Array> => {
        if (file === 'manifest.json') return new TextEncoder().encode(JSON.stringify(manifest));
        if (file === 'items.json') return items;
        const b = bin.slice();
        if (tamper) b[30] ^= 1;
        return b;
      };
    const ok = await loadGlobalModel(serve(false), 'g');
    assert.equal(ok.rows, m.rows);
    await assert.rejects(loadGlobalModel(serve(true), 'g'), (e: RecommenderError) => e.code === 'model_integrity');
    assert.throws(
      () => decodeGlobalAsset(bin.slice(0, bin.length - 4), itemIds),
      (e: RecommenderError) => e.code === 'model_load_failed',
    );
  });
});

describe('evaluation protocol', () => {
  const r = (userId: number, movieId: number, timestamp: number): Interaction => ({ userId, movieId, rating: 4, timestamp });

  test('leave-last-out split: time order, ties by movieId, users under 3 interactions skipped', () => {
    const splits = splitLeaveLastOut([r(1, 30, 5), r(1, 20, 5), r(1, 10, 1), r(1, 40, 9), r(2, 1, 1), r(2, 2, 2)]);
    assert.equal(splits.length, 1);
    assert.deepEqual(
      splits[0].train.map((x) => x.movieId),
      [10, 20],
    );
    assert.equal(splits[0].validation.movieId, 30);
    assert.equal(splits[0].test.movieId, 40);
  });

  test('on-device rule: training rows never include a validation or test target', () => {
    const ratings = Array.from({ length: 60 }, (_, i) => r(1 + (i % 6), i, i));
    for (const s of splitLeaveLastOut(ratings)) {
      assert.ok(!s.train.includes(s.validation) && !s.train.includes(s.test));
      assert.ok(s.train.every((x) => x.timestamp <= s.validation.timestamp));
    }
  });

  test('HR@10 and NDCG@10 from ranks; rank ties broken by index like topK', () => {
    const m = hitMetrics([0, 1, 9, 10, null]);
    assert.equal(m.hr, 3 / 5);
    assert.ok(Math.abs(m.ndcg - (1 + 1 / Math.log2(3) + 1 / Math.log2(11)) / 5) < 1e-12);
    const scores = Float32Array.from([0.5, 0.9, 0.5, -Infinity]);
    assert.equal(rankOf(scores, 1), 0);
    assert.equal(rankOf(scores, 0), 1);
    assert.equal(rankOf(scores, 2), 2);
    assert.equal(rankOf(scores, 3), null);
  });

  test('cold items: 10% of distinct test targets, deterministic for seed 42', () => {
    const ratings = Array.from({ length: 300 }, (_, i) => r(1 + (i % 100), i, i));
    const splits = splitLeaveLastOut(ratings);
    const a = coldItems(splits);
    assert.deepEqual([...a], [...coldItems(splits)]);
    assert.equal(a.size, 10);
    for (const id of a) assert.ok(splits.some((s) => s.test.movieId === id));
  });
});
