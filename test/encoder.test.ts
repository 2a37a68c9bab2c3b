/**
 * The shipped ONNX encoder on WASM (Node) against the plain TypeScript
 * reference of the same math, with weights read back from model.onnx.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXED_TEXTS } from '../e2e/fixtures';
import { RecommenderError } from '../src/errors';
import { OnnxSentenceEncoder } from '../src/model/encoder';
import { sha256Hex, type ModelManifest } from '../src/model/manifest';
import { rawToFloat32, readInitializers } from '../src/model/onnx-proto';
import { cosine, sifEmbed, type SifWeights } from '../src/model/sif';
import { WordTokenizer } from '../src/model/tokenizer';
import { fileReader, loadNodeEncoder, MODELS_DIR, nodeOrt } from '../tools/lib/node-models';

const DIR = join(MODELS_DIR, 'glove-sif-100d');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as ModelManifest;
let encoder: OnnxSentenceEncoder;
before(async () => {
  encoder = await loadNodeEncoder();
});
after(async () => {
  await encoder.dispose();
});

function referenceWeights(): SifWeights {
  const inits = readInitializers(new Uint8Array(readFileSync(join(DIR, 'model.onnx'))));
  const table = inits.get('word_vectors_int8');
  const scale = inits.get('row_scale');
  const common = inits.get('common_component');
  assert.ok(table && scale && common, 'initializers present');
  assert.deepEqual(table.dims.slice(1), [100]);
  return { dims: 100, table: new Int8Array(table.raw.buffer, table.raw.byteOffset, table.raw.byteLength), rowScale: rawToFloat32(scale.raw), common: rawToFloat32(common.raw) };
}

const TEXTS = [...FIXED_TEXTS, 'Matrix, The (1999). Action. Action, Sci-Fi, Thriller, virtual reality', 'heist movie with a clever twist', 'word '.repeat(5000)];

describe('ONNX sentence encoder', () => {
  test('matches the TypeScript reference on a fixed text set (max abs diff < 1e-4)', async () => {
    const weights = referenceWeights();
    const tokenizer = WordTokenizer.fromVocabText(readFileSync(join(DIR, 'vocab.txt'), 'utf8'));
    const got = await encoder.embed(TEXTS);
    let maxDiff = 0;
    TEXTS.forEach((t, i) => {
      const want = sifEmbed(tokenizer.encode(t).ids, weights);
      for (let d = 0; d < 100; d++) maxDiff = Math.max(maxDiff, Math.abs(want[d] - got[i][d]));
    });
    assert.ok(maxDiff < 1e-4, `max abs diff ${maxDiff}`);
  });

  test('outputs are unit length, or all zeros for texts without a known word', async () => {
    const vectors = await encoder.embed(TEXTS);
    vectors.forEach((v, i) => {
      const n = Math.hypot(...v);
      const known = encoder.tokenizer.encode(TEXTS[i]).ids.length > 0;
      assert.ok(known ? Math.abs(n - 1) < 1e-5 : n === 0, `text ${i}: norm ${n}`);
      assert.ok(v.every(Number.isFinite));
    });
  });

  test('a batch of 300 in one call equals one-by-one, and progress reaches done == total', async () => {
    const texts = Array.from({ length: 300 }, (_, i) => `${TEXTS[i % TEXTS.length]} ${i}`);
    const progress: { done: number; total: number }[] = [];
    const batch = await encoder.embed(texts, (p) => progress.push(p));
    assert.deepEqual(progress[progress.length - 1], { done: 300, total: 300 });
    assert.ok(progress.length >= 3, 'reported per batch');
    for (const i of [0, 7, 150, 299]) {
      const [single] = await encoder.embed([texts[i]]);
      for (let d = 0; d < 100; d++) assert.ok(Math.abs(single[d] - batch[i][d]) < 1e-6);
    }
  });

  test('every file matches its manifest SHA-256, and the folder is well under 15 MB', async () => {
    let total = 0;
    for (const [file, meta] of Object.entries(manifest.files)) {
      const bytes = readFileSync(join(DIR, file));
      assert.equal(await sha256Hex(new Uint8Array(bytes)), meta.sha256, file);
      assert.equal(bytes.length, meta.bytes);
    }
    for (const f of readdirSync(DIR)) total += statSync(join(DIR, f)).size;
    assert.ok(total < 15e6, `${total} bytes`);
  });

  test('a tampered model file is refused with a model_integrity error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recs-tamper-'));
    try {
      cpSync(DIR, dir, { recursive: true });
      const model = readFileSync(join(dir, 'model.onnx'));
      model[model.length - 100] ^= 0xff;
      writeFileSync(join(dir, 'model.onnx'), model);
      await assert.rejects(
        OnnxSentenceEncoder.create({ ort: nodeOrt(), reader: fileReader(dir), where: dir, backend: 'wasm' }),
        (e: RecommenderError) => e instanceof RecommenderError && e.code === 'model_integrity' && /model\.onnx/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('semantic sanity: a sci-fi query is closer to a sci-fi movie than to a romance', async () => {
    const [q, scifi, romance] = await encoder.embed([
      'space alien invasion sci-fi',
      'Alien (1979). Horror. Horror, Sci-Fi, aliens, space',
      'Notting Hill (1999). Comedy. Comedy, Romance, london, love story',
    ]);
    assert.ok(cosine(q, scifi) > cosine(q, romance) + 0.1, `${cosine(q, scifi)} vs ${cosine(q, romance)}`);
  });
});
