/**
 * Model integrity for every shipped model folder (encoder, ranking heads,
 * global model): each file is checked against its manifest SHA-256 before use,
 * and a tampered, truncated or unlisted file is refused with a clear
 * model_integrity error. The engine refuses a tampered encoder outright and
 * serves without a tampered optional model, saying why.
 */
import { engineOptions } from '../support/engine-options';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { RecommenderError } from '../src/errors';
import { OnnxSentenceEncoder } from '../src/encoding/encoder';
import type { ModelFileReader } from '../src/runtime/model-files';
import { loadGlobalModel } from '../src/global/global-model';
import { OnnxRankingHeads } from '../src/ranking/heads';
import { OnnxSequenceModel } from '../src/ranking/sequence-model';
import { manifestHash, sha256Hex, type ModelManifest } from '../src/formats/manifest';
import { openStore } from '../src/store';
import { Engine } from '../src/engine/engine';
import type { CatalogItem, EngineEvent } from '../src/types';
import { MODELS_DIR, nodeOrt } from '../support/node-models';
import { useSharedEncoder } from '../support/shared-encoder';

type Loader = (reader: ModelFileReader, where: string) => Promise<unknown>;
const LOADERS: Record<string, Loader> = {
  'glove-sif-100d': async (reader, where) =>
    OnnxSentenceEncoder.create({ ort: await nodeOrt(), reader, where, backend: 'wasm' }).then((e) => e.dispose()),
  'ranking-heads': async (reader, where) => OnnxRankingHeads.create({ ort: await nodeOrt(), reader, where, backend: 'wasm' }),
  'global-movielens': (reader, where) => loadGlobalModel(reader, where),
  // the demo's behaviour model, opened for the catalog it was trained on (every row from items.bin: no text vector is read)
  'sequence-movielens': async (reader, where) => {
    const items = JSON.parse(readFileSync(join(MODELS_DIR, 'sequence-movielens', 'items.json'), 'utf8')) as string[];
    const encoder = JSON.parse(readFileSync(join(MODELS_DIR, 'glove-sif-100d', 'manifest.json'), 'utf8')) as { hash: string; dimensions: number };
    const m = await OnnxSequenceModel.create({
      ort: await nodeOrt(),
      reader,
      where,
      backend: 'wasm',
      encoder: { modelHash: encoder.hash, dimensions: encoder.dimensions },
      catalogIds: items,
      catalogVectors: { count: items.length, dims: encoder.dimensions, data: new Float32Array(items.length * encoder.dimensions) },
    });
    await m.dispose();
  },
};
const DOCS = new Set(['manifest.json', 'MODEL_CARD.md']);

/** Reads a model folder from disk, with one file's bytes changed on the way (as a tampering proxy or a broken cache would). */
function readerWith(dir: string, file?: string, change?: (b: Uint8Array) => Uint8Array): ModelFileReader {
  return async (name) => {
    const bytes = new Uint8Array(readFileSync(join(dir, name)));
    return name === file && change ? change(bytes) : bytes;
  };
}

const flipOneByte = (b: Uint8Array): Uint8Array => {
  const c = b.slice();
  c[Math.floor(c.length / 2)] ^= 0x01;
  return c;
};
const truncate = (b: Uint8Array): Uint8Array => b.slice(0, b.length - 1);

function isIntegrityError(file: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof RecommenderError, `a RecommenderError, got ${String(e)}`);
    assert.equal(e.code, 'model_integrity', e.message);
    assert.ok(e.message.includes(file), `names the file: ${e.message}`);
    assert.ok(e.fix.length > 10, 'says what to do');
    return true;
  };
}

describe('model integrity', () => {
  assert.deepEqual(readdirSync(MODELS_DIR).sort(), Object.keys(LOADERS).sort(), 'every shipped model folder is covered here');

  for (const [name, load] of Object.entries(LOADERS)) {
    const dir = join(MODELS_DIR, name);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;

    test(`${name}: every file is listed in the manifest with its SHA-256 and size; the untouched folder loads`, async () => {
      for (const f of readdirSync(dir)) if (!DOCS.has(f)) assert.ok(manifest.files[f], `${name}/${f} is listed`);
      for (const [f, meta] of Object.entries(manifest.files)) {
        const bytes = readFileSync(join(dir, f));
        assert.equal(bytes.length, meta.bytes, `${f} size`);
        assert.equal(await sha256Hex(new Uint8Array(bytes)), meta.sha256, `${f} SHA-256`);
      }
      assert.equal(await manifestHash(manifest.files), manifest.hash);
      await load(readerWith(dir), dir);
    });

    for (const file of Object.keys(manifest.files)) {
      test(`${name}: a flipped byte or a truncated ${file} is refused with model_integrity before use`, async () => {
        await assert.rejects(load(readerWith(dir, file, flipOneByte), dir), isIntegrityError(file));
        await assert.rejects(
          load(readerWith(dir, file, truncate), dir),
          (e: unknown) => isIntegrityError(file)(e) && /bytes, the manifest says/.test((e as Error).message),
        );
      });
    }

    test(`${name}: a manifest that no longer lists the graph is refused`, async () => {
      const stripped: ModelManifest = { ...manifest, files: { ...manifest.files } };
      delete stripped.files[manifest.model];
      const reader: ModelFileReader = async (f) =>
        f === 'manifest.json' ? new TextEncoder().encode(JSON.stringify(stripped)) : new Uint8Array(readFileSync(join(dir, f)));
      await assert.rejects(load(reader, dir), isIntegrityError(manifest.model));
    });
  }
});

describe('model integrity in the engine', () => {
  const encoder = useSharedEncoder();
  const catalog = (
    JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]
  ).slice(0, 200);

  test('a tampered encoder: setCatalog() rejects with model_integrity and stores nothing', async () => {
    const dir = join(MODELS_DIR, 'glove-sif-100d');
    const factory = new IDBFactory();
    const engine = new Engine(engineOptions({}), {
      store: () => openStore({ indexedDB: factory }),
      encoder: async () =>
        OnnxSentenceEncoder.create({ ort: await nodeOrt(), reader: readerWith(dir, 'model.onnx', flipOneByte), where: dir, backend: 'wasm' }),
    });
    await assert.rejects(engine.setCatalog(catalog), isIntegrityError('model.onnx'));
    assert.equal(await (await openStore({ indexedDB: factory })).countVectors(), 0, 'no vector from a tampered model was cached');
  });

  test('a tampered global model or ranking heads: refused with an error event; the engine serves without them', async () => {
    const events: EngineEvent[] = [];
    const globalDir = join(MODELS_DIR, 'global-movielens');
    const headsDir = join(MODELS_DIR, 'ranking-heads');
    const engine = new Engine(engineOptions({ seed: 1 }), {
      store: () => openStore({ indexedDB: new IDBFactory() }),
      encoder: async () => encoder(),
      globalModel: () => loadGlobalModel(readerWith(globalDir, 'global.bin', flipOneByte), globalDir),
      rankingHeads: async () =>
        OnnxRankingHeads.create({ ort: await nodeOrt(), reader: readerWith(headsDir, 'model.onnx', flipOneByte), where: headsDir, backend: 'wasm' }),
    });
    engine.on((e) => events.push(e));
    await engine.setCatalog(catalog);
    await engine.track({ type: 'click', itemId: catalog[0].id });
    assert.equal((await engine.recommend({ k: 5 })).length, 5, 'still serving');
    const errors = events.filter((e): e is Extract<EngineEvent, { type: 'error' }> => e.type === 'error').map((e) => e.message);
    assert.ok(
      errors.some((m) => /Global model not used/.test(m) && /global\.bin failed its integrity check/.test(m)),
      errors.join(' | '),
    );
    assert.ok(
      errors.some((m) => /Ranking heads not used/.test(m) && /model\.onnx failed its integrity check/.test(m)),
      errors.join(' | '),
    );
    await engine.close();
  });
});
