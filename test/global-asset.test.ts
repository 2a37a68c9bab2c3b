/**
 * The compact global asset (version 2, src/formats/global-model-file.ts): what it keeps of a
 * dense model, version 1 folders still loading, every malformed case refused with
 * model_load_failed naming the file, shards written in order and each one integrity-checked,
 * and the engine fetching every file of a sharded asset in the same order whoever the visitor is
 * (what it fetches never depends on their history), serving on without a tampered shard.
 */
import { engineOptions } from '../support/engine-options';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { RecommenderError } from '../src/errors';
import {
  decodeGlobalAsset,
  encodeBoughtTogether,
  encodeGlobalAsset,
  encodeGlobalModel,
  globalAssetBytes,
  globalRowBuffer,
  readGlobalRow,
  type GlobalAsset,
  type GlobalListKind,
  type GlobalModel,
} from '../src/formats/global-model-file';
import { manifestHash, sha256Hex, type ModelManifest } from '../src/formats/manifest';
import { loadGlobalModel, neighboursOf, placeGlobalModel } from '../src/global/global-model';
import type { ModelFileReader } from '../src/runtime/model-files';
import { openStore } from '../src/store';
import { Engine } from '../src/engine/engine';
import type { CatalogItem, EngineEvent } from '../src/types';
import { useSharedEncoder } from '../support/shared-encoder';
import { writeGlobalAsset } from '../tools/global/write-asset';

const tmp = mkdtempSync(join(tmpdir(), 'odr-global-asset-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A dense model over `ids`: row r's neighbours r+1..r+k (weights falling), next items r+2.., popularity by r mod 7, co-purchases. */
function denseModel(ids: string[], k = 30, kt = 12, withBought = true): GlobalModel {
  const rows = ids.length;
  const list = (kk: number, step: number, scale: number): { ids: Uint32Array; ws: Float32Array } => {
    const out = { ids: new Uint32Array(rows * kk), ws: new Float32Array(rows * kk) };
    for (let r = 0; r < rows; r++)
      for (let t = 0; t < kk && t < rows - 1; t++) {
        out.ids[r * kk + t] = (r + step + t) % rows === r ? (r + 1) % rows : (r + step + t) % rows;
        // some rows hold fewer entries (a 0 weight ends the row)
        out.ws[r * kk + t] = r % 5 === 4 && t >= kk / 2 ? 0 : scale * Math.pow(0.85, t) * (1 + (r % 3) / 10);
      }
    return out;
  };
  const n = list(k, 1, 0.3);
  const t = list(kt, 2, 1 / kt);
  const b = list(8, 3, 5);
  return {
    itemIds: ids,
    rows,
    k,
    neighbours: n.ids,
    weights: n.ws,
    kt,
    next: t.ids,
    nextWeights: t.ws,
    popularity: Float32Array.from(ids, (_, r) => (r % 7 === 6 ? 0 : 1 / (1 + (r % 7)))),
    ...(withBought ? { bought: { k: 8, neighbours: b.ids, weights: b.ws } } : {}),
  };
}

/** The dense model's strongest `keep` entries of row `r` (by item id), as the asset should hold them. */
function denseRow(kk: number, ids: Uint32Array, ws: Float32Array, r: number, keep: number, itemIds: string[]): Map<string, number> {
  const entries: [number, number][] = [];
  for (let t = 0; t < kk; t++) if (ws[r * kk + t] > 0) entries.push([ids[r * kk + t], ws[r * kk + t]]);
  entries.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return new Map(entries.slice(0, keep).map(([id, w]) => [itemIds[id], w]));
}

function assetRow(a: GlobalAsset, list: GlobalListKind, id: string): Map<string, number> {
  const row = globalRowBuffer(a);
  const n = readGlobalRow(a, list, a.itemIds.indexOf(id), row);
  return new Map(Array.from({ length: n }, (_, i) => [a.itemIds[row.ids[i]], row.weights[i]] as const));
}

function isLoadFailure(file: string, what: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof RecommenderError, `a RecommenderError, got ${String(e)}`);
    assert.equal(e.code, 'model_load_failed', e.message);
    assert.ok(e.message.includes(file), `names ${file}: ${e.message}`);
    assert.match(e.message, what);
    assert.match(e.fix, /npm run build:global/);
    return true;
  };
}

const ids = Array.from({ length: 60 }, (_, i) => `item-${i}`);

describe('compact global asset (version 2)', () => {
  test("keeps each row's strongest k / kt / boughtK entries, weights within half a level, popularity within 0.1%", () => {
    const m = denseModel(ids);
    const options = { k: 10, kt: 5, boughtK: 4, levels: 16, meanK: 0, meanKt: 0, meanBoughtK: 0 };
    const { bytes, itemIds } = encodeGlobalAsset(m, options);
    const a = decodeGlobalAsset(bytes, itemIds);
    assert.deepEqual([...itemIds].sort(), [...ids].sort());
    for (let r = 1; r < a.rows; r++) assert.ok(a.popularity[r] <= a.popularity[r - 1], 'rows come in descending popularity');
    for (const [list, kk, dIds, dWs, keep] of [
      ['neighbours', m.k, m.neighbours, m.weights, options.k],
      ['next', m.kt, m.next, m.nextWeights, options.kt],
      ['bought', 8, m.bought?.neighbours, m.bought?.weights, options.boughtK],
    ] as const) {
      let lo = Infinity;
      let hi = 0;
      for (let r = 0; r < m.rows; r++)
        for (const w of denseRow(kk, dIds as Uint32Array, dWs as Float32Array, r, keep, ids).values()) [lo, hi] = [Math.min(lo, w), Math.max(hi, w)];
      const halfStep = Math.log(hi / lo) / (options.levels - 1) / 2;
      for (let r = 0; r < m.rows; r++) {
        const want = denseRow(kk, dIds as Uint32Array, dWs as Float32Array, r, keep, ids);
        const got = assetRow(a, list, ids[r]);
        assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `${list} of ${ids[r]}`);
        for (const [id, w] of want)
          assert.ok(Math.abs(Math.log((got.get(id) as number) / w)) <= halfStep + 1e-6, `${list} weight ${ids[r]} -> ${id}`);
      }
    }
    for (const [r, id] of ids.entries()) {
      const p = a.popularity[a.itemIds.indexOf(id)];
      assert.ok(m.popularity[r] === 0 ? p === 0 : Math.abs(p / m.popularity[r] - 1) < 1e-3, `popularity of ${id}: ${p} vs ${m.popularity[r]}`);
    }
    // neighboursOf: best first, mapped to the catalog
    const indexOf = new Map(ids.map((id, i) => [id, i] as const));
    const list = neighboursOf(placeGlobalModel(a, indexOf), 'item-0', 'viewed');
    assert.equal(list.length, options.k);
    for (let i = 1; i < list.length; i++) assert.ok(list[i].weight <= list[i - 1].weight);
    assert.equal(list[0].item, 1, 'item-0 -> item-1 is the strongest');
    assert.ok(globalAssetBytes(a) > a.data.byteLength);
  });

  test('the size budget: about meanK entries per row, at least minPerRow each, more for popular rows, always their strongest', () => {
    const m = denseModel(ids);
    const options = { meanK: 8, meanKt: 4, minPerRow: 3, levels: 16 };
    const a = decodeGlobalAsset(encodeGlobalAsset(m, options).bytes, encodeGlobalAsset(m, options).itemIds);
    for (const [list, kk, dIds, dWs, mean] of [
      ['neighbours', m.k, m.neighbours, m.weights, options.meanK],
      ['next', m.kt, m.next, m.nextWeights, options.meanKt],
    ] as const) {
      let total = 0;
      const kept = new Map<string, number>();
      for (let r = 0; r < m.rows; r++) {
        const strongest = [...denseRow(kk, dIds, dWs, r, kk, ids).keys()];
        const got = assetRow(a, list, ids[r]);
        assert.ok(got.size >= Math.min(options.minPerRow, strongest.length), `${list} of ${ids[r]} keeps ${got.size}`);
        assert.deepEqual([...got.keys()].sort(), strongest.slice(0, got.size).sort(), `${list} of ${ids[r]}: its strongest`);
        total += got.size;
        kept.set(ids[r], got.size);
      }
      assert.ok(Math.abs(total / m.rows - mean) <= 1, `${list}: ${total / m.rows} per row for a budget of ${mean}`);
      // item-0 is among the most popular (popularity 1), item-5 among the least (1/6)
      assert.ok((kept.get('item-0') as number) > (kept.get('item-5') as number), `${list}: ${kept.get('item-0')} vs ${kept.get('item-5')}`);
    }
  });

  test('malformed files give model_load_failed naming the file and the fix', () => {
    const m = denseModel(ids);
    const { bytes, itemIds } = encodeGlobalAsset(m);
    const with32 = (at: number, v: number): Uint8Array => {
      const b = bytes.slice();
      new DataView(b.buffer).setUint32(at, v, true);
      return b;
    };
    assert.throws(() => decodeGlobalAsset(bytes.slice(0, 40), itemIds, 'g/global.bin'), isLoadFailure('g/global.bin', /truncated/));
    assert.throws(
      () => decodeGlobalAsset(bytes.slice(0, bytes.length - 1), itemIds, 'g/global.bin'),
      isLoadFailure('g/global.bin', /truncated or extended/),
    );
    assert.throws(() => decodeGlobalAsset(with32(0, 0x12345678), itemIds, 'g/global.bin'), isLoadFailure('g/global.bin', /unknown header/));
    assert.throws(() => decodeGlobalAsset(with32(4, 3), itemIds, 'g/global.bin'), isLoadFailure('g/global.bin', /version 3/));
    assert.throws(
      () => decodeGlobalAsset(bytes, itemIds.slice(1), 'g/global.bin'),
      isLoadFailure('g/global.bin', /items\.json lists 59 ids for 60 rows/),
    );
    assert.throws(() => decodeGlobalAsset(with32(12, 2), itemIds, 'g/global.bin'), isLoadFailure('g/global.bin', /the header allows 2/));
    // an index out of range: four rows, the most popular pointing at the least popular; the header then says three
    const four: GlobalModel = {
      itemIds: ['a', 'b', 'c', 'd'],
      rows: 4,
      k: 1,
      neighbours: Uint32Array.from([3, 0, 0, 0]),
      weights: Float32Array.from([1, 1, 1, 1]),
      kt: 1,
      next: new Uint32Array(4),
      nextWeights: new Float32Array(4),
      popularity: Float32Array.from([1, 0.5, 0.4, 0.1]),
    };
    const enc = encodeGlobalAsset(four);
    const three = enc.bytes.slice();
    new DataView(three.buffer).setUint32(8, 3, true); // the u16 popularity still fits its 8 padded bytes
    assert.throws(
      () => decodeGlobalAsset(three, ['a', 'b', 'c'], 'g/global.bin'),
      isLoadFailure('g/global.bin', /points at row 3 of 3 \(an index out of range\)/),
    );
    assert.deepEqual(decodeGlobalAsset(enc.bytes, enc.itemIds).itemIds, ['a', 'b', 'c', 'd']);
  });

  test('a version 1 folder (dense global.bin + bought.bin) still loads, held as the asset', async () => {
    const m = denseModel(ids);
    const files: Record<string, Uint8Array> = {
      'global.bin': encodeGlobalModel(m),
      'bought.bin': encodeBoughtTogether(m.rows, m.bought as NonNullable<GlobalModel['bought']>),
      'items.json': new TextEncoder().encode(JSON.stringify(m.itemIds)),
    };
    const a = await loadGlobalModel(await serveFolder(files, 'global.bin'), 'v1');
    assert.equal(a.rows, m.rows);
    assert.ok(a.bought);
    // held with the default budget: each row keeps its strongest entries
    const got = assetRow(a, 'bought', 'item-3');
    const strongest = [...denseRow(8, m.bought?.neighbours as Uint32Array, m.bought?.weights as Float32Array, 3, 8, ids).keys()];
    assert.ok(got.size >= 3);
    assert.deepEqual([...got.keys()].sort(), strongest.slice(0, got.size).sort());
    // a v1 global.bin that lies about its size is refused, naming it
    files['global.bin'] = files['global.bin'].slice(0, files['global.bin'].length - 4);
    await assert.rejects(loadGlobalModel(await serveFolder(files, 'global.bin'), 'v1'), isLoadFailure('v1/global.bin', /size does not match/));
  });

  test('shards: cut in order when over shardBytes, the same asset once joined; a tampered byte in any file is refused', async () => {
    const m = denseModel(ids);
    const one = join(tmp, 'one');
    const many = join(tmp, 'many');
    const info = { build: {}, describe: () => '- test', source: 'test' };
    await writeGlobalAsset(one, m, info);
    const sizes = await writeGlobalAsset(many, m, { ...info, shardBytes: 300 });
    const manifest = JSON.parse(readFileSync(join(many, 'manifest.json'), 'utf8')) as ModelManifest & { shards: string[] };
    const whole = readFileSync(join(one, 'global.bin'));
    assert.deepEqual(
      manifest.shards,
      Array.from({ length: Math.ceil(whole.length / 300) }, (_, i) => `global-${String(i).padStart(3, '0')}.bin`),
    );
    assert.ok(manifest.shards.length >= 3, `${manifest.shards.length} shards`);
    assert.equal(manifest.model, 'global-000.bin');
    assert.ok(Buffer.concat(manifest.shards.map((f) => readFileSync(join(many, f)))).equals(whole), 'the shards joined are the single file');
    assert.ok(manifest.shards.every((f) => sizes[f] <= 300));
    const fromDisk =
      (dir: string, change?: string): ModelFileReader =>
      async (f) => {
        const b = new Uint8Array(readFileSync(join(dir, f)));
        if (f === change) b[Math.floor(b.length / 2)] ^= 1;
        return b;
      };
    const a = await loadGlobalModel(fromDisk(many), 'many');
    const b = await loadGlobalModel(fromDisk(one), 'one');
    assert.deepEqual(a.itemIds, b.itemIds);
    assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)));
    for (const f of [...manifest.shards, 'items.json'])
      await assert.rejects(loadGlobalModel(fromDisk(many, f), 'many'), (e: RecommenderError) => {
        assert.equal(e.code, 'model_integrity', e.message);
        assert.ok(e.message.includes(f), `names ${f}: ${e.message}`);
        return true;
      });
    // a manifest whose shards are not the folder's files
    const bad = { ...manifest, shards: ['global-000.bin', 'global-999.bin'] };
    await assert.rejects(
      loadGlobalModel(async (f) => (f === 'manifest.json' ? new TextEncoder().encode(JSON.stringify(bad)) : fromDisk(many)(f)), 'many'),
      isLoadFailure('many/manifest.json', /shards/),
    );
  });
});

/** A folder served from memory, with its manifest. */
async function serveFolder(files: Record<string, Uint8Array>, model: string): Promise<ModelFileReader> {
  const listed: ModelManifest['files'] = {};
  for (const [f, b] of Object.entries(files)) listed[f] = { sha256: await sha256Hex(b), bytes: b.length };
  const manifest = {
    format: 'on-device-recs-model/v1',
    name: 'g',
    kind: 'global-model',
    model,
    inputs: {},
    outputs: {},
    files: listed,
    hash: await manifestHash(listed),
  };
  return async (f) => {
    if (f === 'manifest.json') return new TextEncoder().encode(JSON.stringify(manifest));
    const b = files[f];
    if (!b) throw new RecommenderError('model_load_failed', `no ${f}`, 'test');
    return b;
  };
}

describe('a sharded asset on the device', () => {
  const encoder = useSharedEncoder();
  const catalog = (
    JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]
  ).slice(0, 200);
  const dir = join(tmp, 'device');

  /** One page load of a returning visitor: their earlier clicks are in the store; returns the files the engine requested, in order. */
  async function visit(clicks: string[], change?: string): Promise<{ requests: string[]; slate: string[]; errors: string[] }> {
    const factory = new IDBFactory();
    const first = new Engine(engineOptions({ seed: 1 }), { store: () => openStore({ indexedDB: factory }), encoder: async () => encoder() });
    await first.setCatalog(catalog);
    for (const itemId of clicks) await first.track({ type: 'click', itemId });
    await first.close();
    const requests: string[] = [];
    const reader: ModelFileReader = async (f) => {
      requests.push(f);
      const b = new Uint8Array(readFileSync(join(dir, f)));
      if (f === change) b[Math.floor(b.length / 2)] ^= 1;
      return b;
    };
    const events: EngineEvent[] = [];
    const engine = new Engine(engineOptions({ seed: 1 }), {
      store: () => openStore({ indexedDB: factory }),
      encoder: async () => encoder(),
      globalModel: () => loadGlobalModel(reader, dir),
    });
    engine.on((e) => events.push(e));
    await engine.setCatalog(catalog);
    assert.deepEqual((await engine.history()).map((e) => e.itemId).sort(), [...clicks].sort(), "the history is the earlier page's");
    const slate = (await engine.recommend({ k: 10 })).map((r) => r.itemId);
    await engine.close();
    const errors = events.filter((e): e is Extract<EngineEvent, { type: 'error' }> => e.type === 'error').map((e) => e.message);
    return { requests, slate, errors };
  }

  test("two visitors with different histories fetch the same files in the same order: every shard, in the manifest's order", async () => {
    await writeGlobalAsset(
      dir,
      denseModel(
        catalog.map((c) => c.id),
        30,
        12,
        false,
      ),
      { build: {}, describe: () => '- test', source: 'test', shardBytes: 1000 },
    );
    const shards = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { shards: string[] }).shards;
    assert.ok(shards.length >= 3, `${shards.length} shards`);
    const a = await visit(catalog.slice(0, 3).map((c) => c.id));
    const b = await visit(catalog.slice(150, 156).map((c) => c.id));
    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
    assert.notDeepEqual(a.slate, b.slate, 'the histories differ, and so do the slates');
    assert.deepEqual(a.requests, b.requests);
    assert.deepEqual(a.requests, ['manifest.json', 'items.json', ...shards]);
  });

  test('a tampered shard: an error event naming it, and the engine serves without the global model', async () => {
    const shards = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { shards: string[] }).shards;
    const v = await visit([catalog[0].id], shards[1]);
    assert.equal(v.slate.length, 10, 'still serving');
    assert.ok(
      v.errors.some((m) => /Global model not used/.test(m) && m.includes(`${shards[1]} failed its integrity check`)),
      v.errors.join(' | '),
    );
  });
});
