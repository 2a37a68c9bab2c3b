/**
 * The behaviour model in Debian Chromium: a tiny model trained with PyTorch inside this test
 * (support/sequence-fixture.ts) runs in the lab page on WebGPU (SwiftShader) and on WASM, and
 * both give PyTorch's user and conversion states within 1e-3 and its top 10.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CHECK, ENCODER, eventsOf, ids, maxAbsDiff, TEXT_DIMS, trainFixtureModel, vectors, type Reference } from '../support/sequence-fixture';
import { topK } from '../src/math/top-k';
import { OnnxSequenceModel, sequenceLogits } from '../src/ranking/sequence-model';
import { fileReader, nodeOrt } from '../support/node-models';
import { useBrowser } from './harness';

const env = useBrowser({ webgpu: true });
const dir = mkdtempSync(join(tmpdir(), 'h4-sequence-e2e-'));
let model = '';
before(() => void (model = trainFixtureModel(dir)));
after(() => rmSync(dir, { recursive: true, force: true }));

test('behaviour model: WebGPU and WASM in Chromium give PyTorch user and conversion states within 1e-3', async () => {
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
  }
  await page.close();
  await node.dispose();
});
