/**
 * The behaviour model (training/sasrec + src/ranking/sequence-model.ts): a tiny model is trained
 * on a small fixture inside this test with Debian's PyTorch, exported, and run in Node's
 * onnxruntime (WASM, as the worker runs it). PyTorch's outputs of the exported model (its
 * dequantized item table) and onnxruntime's must agree; the folder's bad inputs are refused
 * with errors naming it; the history handling (truncation, unknown items, empty) is checked.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RecommenderError } from '../src/errors';
import { topK } from '../src/math/top-k';
import {
  ATTRIBUTION_ITEMS,
  OnnxSequenceModel,
  sequenceCauses,
  sequenceInputs,
  sequenceLogits,
  sequenceScores,
  type SequenceEvent,
} from '../src/ranking/sequence-model';
import { fileReader, nodeOrt } from '../support/node-models';
import { buildProfile } from '../src/profile/profile';
import { mulberry32 } from '../src/math/random';
import { catalogOrderPrior } from '../src/vectors/catalog-index';
import { DEFAULT_RANKING_CONFIG, linearScore, scoreComponents } from '../src/ranking/score';
import {
  CHECK,
  ENCODER,
  eventsOf,
  ids,
  ITEMS,
  MAX_LEN,
  maxAbsDiff,
  TEXT_DIMS,
  trainFixtureModel,
  TYPES,
  vectors,
  type Reference,
} from '../support/sequence-fixture';

const dir = mkdtempSync(join(tmpdir(), 'h4-sequence-model-'));
const model = join(dir, 'model');

async function open(folder = model, options: { catalogIds?: string[]; modelHash?: string } = {}): Promise<OnnxSequenceModel> {
  return OnnxSequenceModel.create({
    ort: await nodeOrt(),
    reader: fileReader(folder),
    where: folder,
    backend: 'wasm',
    encoder: { modelHash: options.modelHash ?? ENCODER.modelHash, dimensions: TEXT_DIMS },
    catalogIds: options.catalogIds ?? ids,
    catalogVectors: vectors,
  });
}

before(() => void trainFixtureModel(dir));
after(() => rmSync(dir, { recursive: true, force: true }));

test('PyTorch and onnxruntime (WASM) give the same user state, conversion state and top 10 for the exported model', async () => {
  const reference = JSON.parse(readFileSync(join(model, 'reference.json'), 'utf8')) as Reference[];
  assert.equal(reference.length, CHECK.length);
  const m = await open();
  assert.equal(m.info.maxLength, MAX_LEN);
  assert.equal(m.info.dims, 16);
  for (const [c, ref] of reference.entries()) {
    const state = await m.state(eventsOf(CHECK[c]));
    assert.ok(state, `history ${c} has known items`);
    assert.equal(state.used, Math.min(MAX_LEN, CHECK[c][0].length));
    const du = maxAbsDiff(state.userState, ref.userState);
    const dc = maxAbsDiff(state.conversionState, ref.conversionState);
    assert.ok(du <= 1e-3, `user state differs by ${du}`);
    assert.ok(dc <= 1e-3, `conversion state differs by ${dc}`);
    // catalog order is the model's order here: the logits over the dequantized int8 table
    const logits = sequenceLogits(m.items, m.info.itemScale, state.userState);
    const top = topK(logits, 10);
    assert.deepEqual(top, ref.top10, `top 10 of history ${c}`);
    assert.ok(
      maxAbsDiff(
        top.map((i) => logits[i]),
        ref.scores,
      ) <= 1e-3,
      'top-10 logits',
    );
    // the integer scan the engine ranks with keeps the float ranking's best item
    const { next, conversion } = sequenceScores(m, state);
    assert.equal(topK(next, 1)[0], ref.top10[0]);
    assert.ok(
      conversion.every((p) => p > 0 && p < 1),
      'conversion probabilities',
    );
  }
  await m.dispose();
});

test('leave-one-out attribution: one batched run gives what separate runs without each history item give, and names the item that drove the top slots', async () => {
  const m = await open();
  const rand = mulberry32(23);
  // fixture-like histories (walks through items 0-29, the model learned that i + 1 follows i), some with a repeated item
  const histories: SequenceEvent[][] = Array.from({ length: 20 }, (_, h) => {
    const start = Math.floor(rand() * 30);
    const length = 3 + Math.floor(rand() * 12);
    const walk = Array.from({ length }, (_, k) => ({ itemId: ids[(start + k) % 30], type: TYPES[Math.floor(rand() * 2)] }));
    return h % 5 === 0 ? [walk[0], ...walk] : walk;
  });
  // one distinct item only: leaving it out leaves no history (its share without it is 0, the cold visitor's)
  histories.push([
    { itemId: ids[7], type: 'view' },
    { itemId: ids[7], type: 'like' },
  ]);
  let slots = 0;
  let agree = 0;
  let last = 0;
  for (const events of histories) {
    const state = await m.state(events);
    const attribution = await m.attribution(events);
    assert.ok(state && attribution);
    const distinct = [...new Set(events.map((e) => e.itemId).reverse())].slice(0, ATTRIBUTION_ITEMS);
    assert.deepEqual(attribution.itemIds, distinct, 'the last distinct items, most recent first');
    const { next } = sequenceScores(m, state);
    const top = topK(next, 3);
    // separate runs, each without one history item: the reference leave-one-out (the drop of the item's next-item share)
    const without = new Map<string, Float32Array>();
    for (const id of distinct) {
      const s = await m.state(events.filter((e) => e.itemId !== id));
      without.set(id, s ? sequenceScores(m, s).next : new Float32Array(ITEMS));
    }
    for (const i of top) {
      const causes = sequenceCauses(m, attribution, next, i);
      for (const c of causes) assert.ok(Math.abs(c.drop - (next[i] - (without.get(c.itemId) as Float32Array)[i])) <= 1e-3, `drop of ${c.itemId}`);
      let best = '';
      let bestDrop = 0;
      for (const id of distinct) {
        const drop = next[i] - (without.get(id) as Float32Array)[i];
        if (drop > bestDrop) [best, bestDrop] = [id, drop];
      }
      slots++;
      if ((causes[0]?.itemId ?? '') === best) agree++;
      if (i === top[0] && causes[0]?.itemId === events[events.length - 1].itemId) last++;
    }
  }
  console.log(
    `# attribution: the batched run names the separate runs' leave-one-out item in ${agree} of ${slots} top-3 slots; the last item drove the top slot in ${last} of ${histories.length}`,
  );
  assert.equal(agree, slots, 'the batched leave-one-out names the item separate runs name');
  // the fixture's next item follows the last one: leaving the last item out is what lowers the top item most
  assert.ok(last >= 0.6 * histories.length, `the last item drove the top slot in ${last} of ${histories.length}`);
  await m.dispose();
});

test('the share temperature: exp((logit - best) / T) keeps the order, and "why this" drops are measured at the same temperature', async () => {
  const m = await open();
  const events: SequenceEvent[] = [3, 4, 5, 6].map((k) => ({ itemId: ids[k], type: TYPES[k % 2] }));
  const state = await m.state(events);
  const attribution = await m.attribution(events);
  assert.ok(state && attribution);
  const plain = sequenceScores(m, state).next;
  const warm = sequenceScores(m, state, false, 2).next;
  assert.equal(topK(warm, 1)[0], topK(plain, 1)[0]);
  for (let i = 0; i < plain.length; i++) assert.ok(Math.abs(warm[i] - Math.sqrt(plain[i])) <= 1e-5, `share of item ${i} at T = 2`);
  assert.ok(
    warm.every((s, i) => s >= plain[i]),
    'a higher temperature spreads the share: no item loses',
  );
  const top = topK(warm, 1)[0];
  for (const temperature of [2, 1, 2]) {
    // the cached leave-one-out shares follow the temperature asked for (a cache of the other one would be off)
    const next = temperature === 1 ? plain : warm;
    for (const c of sequenceCauses(m, attribution, next, top, temperature)) {
      const s = await m.state(events.filter((e) => e.itemId !== c.itemId));
      const without = s ? sequenceScores(m, s, false, temperature).next[top] : 0;
      assert.ok(Math.abs(c.drop - (next[top] - without)) <= 1e-3, `drop of ${c.itemId} at T = ${temperature}`);
    }
  }
  await m.dispose();
});

test('the manifest carries the SHA-256 of every file and the training figures', () => {
  const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')) as {
    kind: string;
    files: Record<string, { sha256: string; bytes: number }>;
    training: { bestEpoch: number; validationHr10: number };
    encoder: { modelHash: string };
  };
  assert.equal(manifest.kind, 'sequence-model');
  assert.deepEqual(Object.keys(manifest.files).sort(), ['items.bin', 'items.json', 'model.onnx', 'projection.bin']);
  assert.equal(manifest.encoder.modelHash, ENCODER.modelHash);
  assert.ok(manifest.training.bestEpoch >= 1);
  // the fixture's next item is deterministic: the model learns it (popularity alone would give about 10/30)
  assert.ok(manifest.training.validationHr10 > 0.5, `validation HR@10 ${manifest.training.validationHr10}`);
  const card = readFileSync(join(model, 'MODEL_CARD.md'), 'utf8');
  assert.match(card, new RegExp(`best epoch\\s+${manifest.training.bestEpoch}: validation HR@10 ${manifest.training.validationHr10}`));
});

test('a history longer than maxLength uses its last maxLength events; unknown items are skipped; no known item gives no state', async () => {
  const m = await open();
  const long: SequenceEvent[] = Array.from({ length: 3 * MAX_LEN }, (_, k) => ({ itemId: ids[k % 30], type: k % 3 ? 'view' : 'like' }));
  const full = await m.state(long);
  const last = await m.state(long.slice(-MAX_LEN));
  assert.ok(full && last);
  assert.equal(full.used, MAX_LEN);
  assert.deepEqual(full.userState, last.userState);
  const first = await m.state(long.slice(0, MAX_LEN));
  assert.ok(first && maxAbsDiff(first.userState, full.userState) > 1e-4, 'the oldest events are the ones dropped');

  const plain: SequenceEvent[] = [
    { itemId: 'm3', type: 'view' },
    { itemId: 'm4', type: 'like' },
  ];
  const withUnknown: SequenceEvent[] = [
    { itemId: 'not-in-model', type: 'view' },
    plain[0],
    { itemId: 'gone', type: 'like' },
    plain[1],
    { itemId: 'm9', type: 'dismiss' },
  ];
  const a = await m.state(plain);
  const b = await m.state(withUnknown);
  assert.ok(a && b);
  assert.equal(b.used, 2);
  assert.deepEqual(a.userState, b.userState);

  assert.equal(await m.state([]), null);
  assert.equal(await m.state([{ itemId: 'unknown', type: 'view' }]), null);
  // the same graph inputs are answered from memory (the same object), other inputs are run
  assert.equal(await m.state(plain), await m.state(withUnknown));
  assert.notEqual(await m.state(plain), await m.state(plain.slice(1)));
  const liked = await m.state(plain.map((e) => ({ ...e, type: 'like' })));
  assert.ok(liked && maxAbsDiff(liked.userState, a.userState) > 1e-6, 'the event types are part of the inputs');
  assert.equal(await m.attribution(long), await m.attribution(long));
  await m.dispose();
});

test('sequenceInputs: left padding, event types by name, unlisted types read as a view', () => {
  const rowOf = (id: string): number | undefined => (id.startsWith('m') ? Number(id.slice(1)) : undefined);
  const { items, types, used } = sequenceInputs(
    [
      { itemId: 'm1', type: 'like' },
      { itemId: 'x', type: 'view' },
      { itemId: 'm2', type: 'purchase' },
    ],
    rowOf,
    TYPES,
    4,
  );
  assert.equal(used, 2);
  assert.deepEqual([...items], [0n, 0n, 2n, 3n]);
  assert.deepEqual([...types], [0n, 0n, 2n, 1n]);
});

test('items the model never saw are scored by their projected text vector', async () => {
  const m = await open();
  // items 30-39 never occur in the fixture: their rows are the projection of their text vector alone
  const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')) as { catalog: { withInteractions: number } };
  assert.equal(manifest.catalog.withInteractions, 30);
  const proj = new Float32Array(Uint8Array.from(readFileSync(join(model, 'projection.bin'))).buffer);
  const dims = m.info.dims;
  for (const i of [30, 35, 39]) {
    for (let d = 0; d < dims; d++) {
      let y = proj[TEXT_DIMS * dims + d];
      for (let t = 0; t < TEXT_DIMS; t++) y += vectors.data[i * TEXT_DIMS + t] * proj[t * dims + d];
      assert.ok(Math.abs(m.items.data[i * m.items.paddedDims + d] * m.info.itemScale - y) <= m.info.itemScale, `item ${i} dim ${d}`);
    }
  }
  // a catalog item added after training (not in items.json) gets the same projection
  const extended = [...ids.slice(0, 39), 'new-item'];
  const m2 = await open(model, { catalogIds: extended });
  assert.equal(m2.modelRow[39], -1);
  assert.deepEqual(
    m2.items.data.subarray(39 * m2.items.paddedDims, 40 * m2.items.paddedDims),
    m.items.data.subarray(39 * m.items.paddedDims, 40 * m.items.paddedDims),
  );
  await m.dispose();
  await m2.dispose();
});

async function refused(mutate: (folder: string) => void, options: { catalogIds?: string[]; modelHash?: string } = {}): Promise<RecommenderError> {
  const folder = mkdtempSync(join(dir, 'bad-'));
  cpSync(model, folder, { recursive: true });
  mutate(folder);
  try {
    await open(folder, options);
  } catch (e) {
    assert.ok(e instanceof RecommenderError, `a RecommenderError, got ${String(e)}`);
    assert.ok(e.message.includes(folder), `the message names the folder: ${e.message}`);
    assert.ok(e.fix.length > 10, 'it says what to do');
    return e;
  }
  assert.fail('the folder was accepted');
}

test('bad model folders are refused with a code, the folder and the fix', async () => {
  const tampered = await refused((f) => {
    const b = readFileSync(join(f, 'model.onnx'));
    b[b.length >> 1] ^= 0xff;
    writeFileSync(join(f, 'model.onnx'), b);
  });
  assert.equal(tampered.code, 'model_integrity');
  const truncated = await refused((f) => {
    const b = readFileSync(join(f, 'items.bin'));
    writeFileSync(join(f, 'items.bin'), b.subarray(0, b.length - 16));
  });
  assert.equal(truncated.code, 'model_integrity');
  assert.match(truncated.message, /items\.bin/);
  const missing = await refused((f) => unlinkSync(join(f, 'projection.bin')));
  assert.equal(missing.code, 'model_load_failed');
  assert.match(missing.message, /projection\.bin/);
  const older = await refused((f) => {
    const manifest = JSON.parse(readFileSync(join(f, 'manifest.json'), 'utf8')) as { inputs: Record<string, string> };
    delete manifest.inputs.rows; // a folder of the trainer that kept the item table inside model.onnx
    writeFileSync(join(f, 'manifest.json'), JSON.stringify(manifest));
  });
  assert.equal(older.code, 'model_load_failed');
  assert.match(older.message, /older trainer/);
  assert.match(older.fix, /build:sequence-model/);
  const otherEncoder = await refused(() => {}, { modelHash: 'e'.repeat(64) });
  assert.equal(otherEncoder.code, 'model_load_failed');
  assert.match(otherEncoder.message, /encoder/);
  const otherCatalog = await refused(() => {}, { catalogIds: ids.map((id) => `other-${id}`) });
  assert.equal(otherCatalog.code, 'model_load_failed');
  assert.match(otherCatalog.message, /another catalog/);
});

/** The fixture's catalog as a ranking index. */
const fixtureIndex = () => ({
  items: ids.map((id) => ({ id, title: id })),
  indexOf: new Map(ids.map((id, i) => [id, i] as const)),
  matrix: vectors,
  prior: catalogOrderPrior(ITEMS),
});

/** A visitor who viewed m1. */
const viewedOne = () =>
  buildProfile(
    [{ type: 'view', itemId: 'm1', timestamp: 1, eventId: 'e1', seq: 0 }],
    (id) => (id === 'm1' ? vectors.data.subarray(TEXT_DIMS, 2 * TEXT_DIMS) : undefined),
    1,
  );

test("the pipeline adds the model's components with their named weights, for a visitor with history only", () => {
  const index = fixtureIndex();
  const next = Float32Array.from({ length: ITEMS }, (_, i) => i / ITEMS);
  const conversion = Float32Array.from({ length: ITEMS }, (_, i) => 1 - i / ITEMS);
  const profile = viewedOne();
  const config = { ...DEFAULT_RANKING_CONFIG, weights: { ...DEFAULT_RANKING_CONFIG.weights, sequence: 2, sequenceConversion: 0.5 } };
  const base = linearScore(scoreComponents(index, profile, null, config), index, profile, config);
  const withModel = linearScore(scoreComponents(index, profile, null, config, { next, conversion }), index, profile, config);
  for (let i = 0; i < ITEMS; i++) assert.ok(Math.abs(withModel[i] - base[i] - (2 * next[i] + 0.5 * conversion[i])) < 1e-5, `item ${i}`);
  const cold = buildProfile([], () => undefined, 1);
  assert.deepEqual(
    linearScore(scoreComponents(index, cold, null, config, { next, conversion }), index, cold, config),
    linearScore(scoreComponents(index, cold, null, config), index, cold, config),
  );
});

test('new items by the content path: items the global model does not know get coldSequence times their share relative to the best of them; known items nothing', () => {
  const index = fixtureIndex();
  const rand = mulberry32(5);
  const part = (): Float32Array => Float32Array.from({ length: ITEMS }, () => rand());
  // the last quarter of the catalog is new to the global model; their best share is item ITEMS - 3's
  const known = Uint8Array.from({ length: ITEMS }, (_, i) => (i < 0.75 * ITEMS ? 1 : 0));
  const next = Float32Array.from({ length: ITEMS }, (_, i) => (i < 0.75 * ITEMS ? 0.5 + 0.5 * rand() : 0.01 * rand()));
  next[ITEMS - 3] = 0.02;
  const components = { content: part(), neighbour: part(), next: part(), popularity: part(), known, sequence: { next, conversion: part() } };
  const profile = viewedOne();
  const at = (coldSequence: number) => {
    const config = { ...DEFAULT_RANKING_CONFIG, weights: { ...DEFAULT_RANKING_CONFIG.weights, coldSequence } };
    return linearScore(components, index, profile, config);
  };
  const off = at(0);
  const on = at(0.8);
  for (let i = 0; i < ITEMS; i++) {
    const expected = known[i] ? 0 : (0.8 * next[i]) / 0.02;
    assert.ok(Math.abs(on[i] - off[i] - expected) < 1e-4, `item ${i}: ${on[i] - off[i]} against ${expected}`);
  }
  assert.ok(Math.abs(on[ITEMS - 3] - off[ITEMS - 3] - 0.8) < 1e-5, 'the best new item gets the whole weight');
});
