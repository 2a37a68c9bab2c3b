/**
 * The behaviour model in the engine (src/engine/sequence-state.ts): a tiny model trained inside
 * this test on a walk through part of the demo catalog (the shipped encoder's text vectors), given
 * to the same Engine the worker runs. Its scores join the ranking; a bad folder is reported with
 * an error event naming it and the fix, and the engine serves the global model's ranking; an
 * empty history gives the cold ranking.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { itemText } from '../src/catalog/validate';
import { Engine } from '../src/engine/engine';
import { RecommenderError } from '../src/errors';
import { SequenceModelSlot, type SequenceModelLoader } from '../src/engine/sequence-state';
import type { LoadedCatalog } from '../src/engine/catalog-loader';
import { DEFAULT_RANKING_CONFIG, type RankingConfig } from '../src/ranking/score';
import { loadGlobalModel } from '../src/global/global-model';
import { matrixFromRows } from '../src/math/matrix';
import { OnnxSequenceModel } from '../src/ranking/sequence-model';
import { openStore } from '../src/store';
import type { CatalogItem, EngineEvent, StoredEvent } from '../src/types';
import { engineOptions } from '../support/engine-options';
import { fileReader, loadNodeEncoder, MODELS_DIR, nodeOrt } from '../support/node-models';
import type { SentenceEncoder } from '../src/encoding/encoder';

import { mulberry32 } from '../src/math/random';
import { runTrainer, writeCatalogTrainerInput } from '../tools/sequence-model';

const catalog = (JSON.parse(readFileSync(join(MODELS_DIR, '..', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]).slice(0, 120);
const WALK = 60; // users walk items 0..59 in order; items 60..119 never occur
const dir = mkdtempSync(join(tmpdir(), 'h4-sequence-engine-'));
const model = join(dir, 'model');
let shared: SentenceEncoder | undefined;
/** One encoder for the file; engines get a view whose dispose() leaves it open. */
const encoder = (): SentenceEncoder => {
  const s = shared as SentenceEncoder;
  return { info: s.info, embed: (texts, onProgress) => s.embed(texts, onProgress), dispose: async () => undefined };
};

before(async () => {
  shared = await loadNodeEncoder();
  const rand = mulberry32(5);
  const users = Array.from({ length: 120 }, () => {
    const start = Math.floor(rand() * WALK);
    const length = 4 + Math.floor(rand() * 10);
    const items = Array.from({ length }, (_, k) => (start + k) % WALK);
    return { items: items.slice(0, -1), types: items.slice(0, -1).map(() => 1), validation: { item: items[length - 1], type: 1 } };
  });
  await writeCatalogTrainerInput(join(dir, 'input'), catalog, encoder(), users);
  runTrainer(join(dir, 'input'), model, [
    ...['--dims', '16', '--max-len', '10', '--epochs', '80', '--patience', '8', '--lr', '0.01'],
    ...['--negatives', '0', '--batch', '32'],
  ]);
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await shared?.dispose();
});

const loader =
  (folder: string): SequenceModelLoader =>
  async (c, enc) =>
    OnnxSequenceModel.create({
      ort: await nodeOrt(),
      reader: fileReader(folder),
      where: folder,
      backend: 'wasm',
      encoder: enc,
      catalogIds: c.ids,
      catalogVectors: c.vectors,
    });

function engine(options: { sequence?: string; global?: boolean; newItems?: number } = {}): { e: Engine; events: EngineEvent[] } {
  const where = join(MODELS_DIR, 'global-movielens');
  const e = new Engine(engineOptions({ seed: 3, exploration: { policy: 'off' }, newItems: options.newItems }), {
    store: () => openStore({ indexedDB: new IDBFactory() }),
    encoder: async () => encoder(),
    globalModel: options.global ? () => loadGlobalModel(fileReader(where), where) : undefined,
    sequenceModel: options.sequence ? loader(options.sequence) : undefined,
    now: () => 1_700_000_000_000,
  });
  const events: EngineEvent[] = [];
  e.on((ev) => events.push(ev));
  return { e, events };
}

const ids = (recs: { item: CatalogItem }[]): string[] => recs.map((r) => r.item.id);

async function walk(e: Engine, from: number, steps: number): Promise<void> {
  for (let k = 0; k < steps; k++) await e.track({ type: 'view', itemId: catalog[from + k].id });
}

test("the model's next item joins the ranking: after a walk it ranks higher than without the model", async () => {
  const { e, events } = engine({ sequence: model });
  await e.setCatalog(catalog);
  await walk(e, 10, 4); // items 10..13: the model learned that 14 follows
  const next = catalog[14].id;
  const recs = ids(await e.recommend({ k: 20 }));
  assert.deepEqual(
    events.filter((ev) => ev.type === 'error'),
    [],
  );
  const { e: plain } = engine();
  await plain.setCatalog(catalog);
  await walk(plain, 10, 4);
  const without = ids(await plain.recommend({ k: 20 }));
  const at = recs.indexOf(next);
  assert.ok(at >= 0, `with the model ${catalog[14].title} is at ${at}`);
  // "why this": the slot the model drove names the history item whose removal lowers it most (the last one of the walk)
  const reason = (await e.recommend({ k: 20 })).find((r) => r.item.id === next)?.reasons[0];
  assert.equal(reason?.kind, 'history');
  assert.equal(reason.itemIds?.[0], catalog[13].id, `the reason: ${reason.text}`);
  assert.match(reason.text, new RegExp(`Because you viewed ${catalog[13].title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // explain(id) gives the same cause
  assert.deepEqual((await e.explain(next))[0].itemIds?.[0], catalog[13].id);
  assert.ok(without.indexOf(next) === -1 || at < without.indexOf(next), `without the model it is at ${without.indexOf(next)}`);
  await e.close();
  await plain.close();
});

test('newItems: items neither model has seen are ranked among themselves by the content path; at the top weight the best of them leads', async () => {
  // five new arrivals (ids neither the global model nor the behaviour model knows, texts of known items): their model rows are the projection of their text
  const arrivals = [20, 40, 70, 90, 110].map((i) => ({ ...catalog[i], id: `new-${catalog[i].id}` }));
  const slates: string[][] = [];
  for (const newItems of [0, 10]) {
    const { e, events } = engine({ sequence: model, global: true, newItems });
    await e.setCatalog([...catalog, ...arrivals]);
    await walk(e, 10, 4);
    slates.push(ids(await e.recommend({ k: 10 })));
    assert.deepEqual(
      events.filter((ev) => ev.type === 'error'),
      [],
    );
    await e.close();
  }
  const isNew = (id: string): boolean => id.startsWith('new-');
  assert.ok(isNew(slates[1][0]), `at newItems 10 a new item leads: ${slates[1].join(', ')}`);
  assert.ok(slates[1].filter(isNew).length >= slates[0].filter(isNew).length, 'no fewer new items than without');
  assert.notDeepEqual(slates[0], slates[1]);
});

test("the export's default weights follow the measured parity: int8 only within 1e-3 of the float weights", () => {
  const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')) as {
    quantization: { weights: string; parity: { weights: string; bound: number; weightsInt8VsFloatWeights: { maxAbsDiff: number } } };
  };
  const { parity } = manifest.quantization;
  assert.equal(parity.bound, 1e-3);
  assert.equal(parity.weights, parity.weightsInt8VsFloatWeights.maxAbsDiff <= 1e-3 ? 'int8' : 'float32');
  assert.ok(manifest.quantization.weights.startsWith(parity.weights === 'int8' ? 'int8' : 'float32'), manifest.quantization.weights);
});

test('an empty history gives the cold ranking with or without the model', async () => {
  const { e } = engine({ sequence: model, global: true });
  const { e: plain } = engine({ global: true });
  await e.setCatalog(catalog);
  await plain.setCatalog(catalog);
  assert.deepEqual(ids(await e.recommend({ k: 10 })), ids(await plain.recommend({ k: 10 })));
  await e.close();
  await plain.close();
});

test('a tampered or missing model file: an error event naming the folder and the fix, and the global ranking', async () => {
  for (const [name, mutate] of [
    [
      'tampered',
      (f: string) => {
        const b = readFileSync(join(f, 'items.bin'));
        b[3] ^= 0x40;
        writeFileSync(join(f, 'items.bin'), b);
      },
    ],
    ['missing', (f: string) => rmSync(join(f, 'model.onnx'))],
  ] as const) {
    const folder = mkdtempSync(join(dir, `${name}-`));
    cpSync(model, folder, { recursive: true });
    mutate(folder);
    const { e, events } = engine({ sequence: folder, global: true });
    const { e: plain } = engine({ global: true });
    await e.setCatalog(catalog);
    await plain.setCatalog(catalog);
    await walk(e, 10, 4);
    await walk(plain, 10, 4);
    const recs = await e.recommend({ k: 10 });
    assert.deepEqual(ids(recs), ids(await plain.recommend({ k: 10 })), `${name}: the global model's ranking`);
    const errors = events.filter((ev): ev is Extract<EngineEvent, { type: 'error' }> => ev.type === 'error');
    assert.equal(errors.length, 1, `${name}: one error event`);
    assert.equal(errors[0].code, name === 'tampered' ? 'model_integrity' : 'model_load_failed');
    assert.ok(errors[0].message.includes(folder), `${name}: names the folder: ${errors[0].message}`);
    assert.match(
      errors[0].fix,
      name === 'tampered' ? /npm run build:sequence-model/ : /Serve every file of the folder/,
      `${name}: the fix: ${errors[0].fix}`,
    );
    assert.doesNotMatch(errors[0].message, /build:models/, `${name}: not the encoder's build`);
    // reported once per catalog; the engine keeps serving
    assert.equal((await e.recommend({ k: 5 })).length, 5);
    assert.equal(events.filter((ev) => ev.type === 'error').length, 1);
    await e.close();
    await plain.close();
  }
});

test('the sequenceModel option: a folder name inside modelsUrl, none by default, anything else refused', () => {
  assert.equal(engineOptions({}).sequenceModel, null);
  assert.equal(engineOptions({ sequenceModel: 'sequence-movielens' }).sequenceModel, 'sequence-movielens');
  assert.throws(
    () => engineOptions({ sequenceModel: 3 as unknown as string }),
    (e: unknown) => e instanceof RecommenderError && e.code === 'invalid_options' && /sequenceModel/.test(e.message),
  );
});

test('the conversion scan runs only for a ranking that weighs conversion; the next-item shares are the same either way', async () => {
  const enc = encoder();
  const slot = new SequenceModelSlot(
    loader(model),
    async () => enc,
    () => undefined,
  );
  const loaded = { items: catalog, matrix: matrixFromRows(await enc.embed(catalog.map(itemText)), enc.info.dimensions) } as unknown as LoadedCatalog;
  const history: StoredEvent[] = [10, 11, 12].map((i, k) => ({
    eventId: `e${k}`,
    type: 'view',
    itemId: catalog[i].id,
    timestamp: 1_700_000_000_000 + k,
  }));
  const weighs = (sequenceConversion: number): RankingConfig => ({
    ...DEFAULT_RANKING_CONFIG,
    weights: { ...DEFAULT_RANKING_CONFIG.weights, sequenceConversion },
  });
  const both = await slot.components(loaded, history, null);
  const weighed = await slot.components(loaded, history, null, weighs(0.3));
  const unweighed = await slot.components(loaded, history, null, weighs(0));
  assert.ok(both && weighed && unweighed);
  assert.ok(
    both.conversion.some((v) => v > 0),
    'without a ranking both components are computed',
  );
  assert.deepEqual(weighed.conversion, both.conversion);
  assert.deepEqual(unweighed.conversion, new Float32Array(catalog.length));
  assert.deepEqual(unweighed.next, both.next);
});
