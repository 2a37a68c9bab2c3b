/**
 * The behaviour model in Debian Chromium: a tiny model trained with PyTorch inside this test
 * (support/sequence-fixture.ts) runs in the lab page on WebGPU (SwiftShader) and on WASM, and
 * both give PyTorch's user and conversion states within 1e-3 and its top 10.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CHECK, ENCODER, eventsOf, ids, maxAbsDiff, TEXT_DIMS, trainFixtureModel, vectors, type Reference } from '../support/sequence-fixture';
import { topK } from '../src/math/top-k';
import { OnnxSequenceModel, sequenceLogits } from '../src/ranking/sequence-model';
import type { CatalogItem } from '../src/types';
import { fileReader, loadNodeEncoder, nodeOrt } from '../support/node-models';
import { runTrainer, writeCatalogTrainerInput } from '../tools/sequence-model';
import { DIST, useBrowser } from './harness';

const env = useBrowser({ webgpu: true });
const dir = mkdtempSync(join(tmpdir(), 'h4-sequence-e2e-'));
let model = '';
before(() => void (model = trainFixtureModel(dir)));
after(() => rmSync(dir, { recursive: true, force: true }));

test('behaviour model: WebGPU and WASM in Chromium give PyTorch user and conversion states within 1e-3, and the leave-one-out batch Node gives', async () => {
  const reference = JSON.parse(readFileSync(join(model, 'reference.json'), 'utf8')) as Reference[];
  const files = Object.fromEntries(
    readdirSync(model)
      .filter((f) => f !== 'reference.json' && f !== 'MODEL_CARD.md')
      .map((f) => [f, [...readFileSync(join(model, f))]]),
  );
  // the catalog rows as the engine builds them (Node), to rank the catalog with the browser's states
  const node = await OnnxSequenceModel.create({
    ort: await nodeOrt(),
    reader: fileReader(model),
    where: model,
    backend: 'wasm',
    encoder: { modelHash: ENCODER.modelHash, dimensions: TEXT_DIMS },
    catalogIds: ids,
    catalogVectors: vectors,
  });
  const page = await env.browser().newPage();
  await page.goto(new URL('lab.html', env.server().url).href);
  await page.waitForFunction(() => document.body.dataset.labReady === 'true');
  for (const backend of ['webgpu', 'wasm'] as const) {
    const run = await page.evaluate((o) => window.lab.sequenceStates(o), {
      files,
      catalogIds: ids,
      vectors: [...vectors.data],
      textDims: TEXT_DIMS,
      encoderHash: ENCODER.modelHash,
      histories: CHECK.map(eventsOf),
      backend,
    });
    assert.equal(run.backend, backend, `the ${backend} provider ran`);
    run.states.forEach((s, c) => {
      const du = maxAbsDiff(s.userState, reference[c].userState);
      const dc = maxAbsDiff(s.conversionState, reference[c].conversionState);
      assert.equal(s.userState.length, reference[c].userState.length);
      assert.ok(du <= 1e-3, `${backend} history ${c}: user state differs by ${du}`);
      assert.ok(dc <= 1e-3, `${backend} history ${c}: conversion state differs by ${dc}`);
      const top = topK(sequenceLogits(node.items, node.info.itemScale, Float32Array.from(s.userState)), 10);
      assert.deepEqual(top, reference[c].top10, `${backend} history ${c}: top 10`);
    });
    // the leave-one-out rows ("why this"): one batched run on this backend, the same states as Node's WASM
    for (const [c, a] of run.attributions.entries()) {
      const mine = await node.attribution(eventsOf(CHECK[c]));
      assert.ok(mine && mine.itemIds.length > 1, `history ${c} has several items to leave out`);
      assert.deepEqual(a.itemIds, mine.itemIds);
      const d = maxAbsDiff(a.states, mine.states);
      assert.ok(d <= 1e-3, `${backend} history ${c}: leave-one-out states differ by ${d}`);
    }
  }
  await page.close();
  await node.dispose();
});

test('behaviour model in the worker (sequenceModel): it loads without an error; a tampered folder gives an error event naming it, and recommendations keep coming', async () => {
  const catalog = (JSON.parse(readFileSync(join(DIST, 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]).slice(0, 3000);
  // users walk the first 60 items in order: enough for a model of this catalog and encoder
  const users = Array.from({ length: 80 }, (_, u) => {
    const items = Array.from({ length: 8 }, (_, k) => (u + k) % 60);
    return { items: items.slice(0, -1), types: items.slice(0, -1).map(() => 1), validation: { item: items[7], type: 1 } };
  });
  const input = join(dir, 'demo-input');
  const encoder = await loadNodeEncoder();
  await writeCatalogTrainerInput(input, catalog, encoder, users);
  await encoder.dispose();
  const name = `e2e-sequence-${process.pid}`;
  const good = join(DIST, 'models', name);
  const bad = join(DIST, 'models', `${name}-tampered`);
  runTrainer(input, good, ['--dims', '16', '--max-len', '10', '--epochs', '6', '--negatives', '256', '--batch', '32']);
  cpSync(good, bad, { recursive: true });
  const b = readFileSync(join(bad, 'items.bin'));
  b[5] ^= 0x21;
  writeFileSync(join(bad, 'items.bin'), b);
  try {
    for (const [folder, tampered] of [
      [name, false],
      [`${name}-tampered`, true],
    ] as const) {
      const page = await env.browser().newPage();
      await page.goto(new URL('lab.html', env.server().url).href);
      await page.waitForFunction(() => document.body.dataset.labReady === 'true');
      await page.evaluate((o) => window.lab.open(o).then(() => undefined), {
        sequenceModel: folder,
        globalModel: 'global-movielens',
        storeName: `seq-${folder}`,
      });
      const recs = await page.evaluate(
        async (viewed) => {
          const r = window.labRecs as NonNullable<typeof window.labRecs>;
          for (const itemId of viewed) await r.track({ type: 'view', itemId });
          return (await r.recommend({ k: 10 })).map((x) => x.item.id);
        },
        catalog.slice(10, 14).map((it) => it.id),
      );
      const errors = await page.evaluate(() => (window.labEvents ?? []).filter((e) => e.type === 'error'));
      assert.equal(recs.length, 10, `${folder}: recommendations`);
      if (tampered) {
        assert.equal(errors.length, 1, `${folder}: one error event`);
        assert.ok(
          errors[0].type === 'error' && errors[0].code === 'model_integrity' && errors[0].message.includes(folder),
          JSON.stringify(errors[0]),
        );
      } else assert.deepEqual(errors, [], `${folder}: no error`);
      await page.close();
    }
  } finally {
    rmSync(good, { recursive: true, force: true });
    rmSync(bad, { recursive: true, force: true });
  }
});
