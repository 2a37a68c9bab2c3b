/** The Hugging Face adapter on the generated tiny BERT fixture, fully offline. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { env } from '@huggingface/transformers';
import { RecommenderError } from '../src/errors';
import type { SentenceEncoder } from '../src/encoding/encoder';
import { createHuggingFaceEncoder } from '../src/encoding/hf-encoder';
import { rawToFloat32, readInitializers } from '../src/formats/onnx-proto';
import { buildTinyBertFixture, TINY_BERT_HIDDEN } from '../tools/models/tiny-bert';

const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'models');
const FIXTURE = join(FIXTURES, 'tiny-bert');

/** Every fetch transformers.js makes goes through env.fetch: record them to prove nothing went to the network. */
const fetched: string[] = [];
const realFetch = env.fetch;
let enc: SentenceEncoder;
const temps: string[] = [];
const tempDir = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'tiny-bert-'));
  temps.push(dir);
  return dir;
};

before(async () => {
  env.fetch = async (input: string | URL) => {
    fetched.push(String(input));
    throw new Error(`network access in a test: ${String(input)}`);
  };
  enc = await createHuggingFaceEncoder({ model: 'tiny-bert', localModelPath: FIXTURES, batchSize: 2 });
});
after(async () => {
  await enc?.dispose();
  env.fetch = realFetch;
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

const files = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();

const near = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number): boolean =>
  a.length === b.length && Array.from(a).every((x, i) => Math.abs(x - b[i]) <= tol);

test('the fixture build is deterministic and matches the committed fixture', async () => {
  const a = await tempDir();
  const b = await tempDir();
  await buildTinyBertFixture(a);
  await buildTinyBertFixture(b);
  const names = await files(a);
  assert.deepEqual(names, ['README.md', 'config.json', 'onnx/model.onnx', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
  assert.deepEqual(await files(b), names);
  assert.deepEqual(await files(FIXTURE), names, 'committed fixture has the same files (npm run build:fixtures)');
  for (const f of names) {
    const bytes = await readFile(join(a, f));
    assert.ok(bytes.equals(await readFile(join(b, f))), `${f} differs between two builds`);
    assert.ok(bytes.equals(await readFile(join(FIXTURE, f))), `${f} differs from the committed fixture: run npm run build:fixtures`);
  }
});

test('loads offline and reports what ran', () => {
  assert.equal(enc.info.name, 'hf:tiny-bert');
  assert.equal(enc.info.dimensions, TINY_BERT_HIDDEN);
  assert.match(enc.info.modelHash, /^[0-9a-f]{64}$/);
  // Node: transformers.js runs onnxruntime-node's native CPU provider, reported as 'js' (neither WASM nor WebGPU).
  assert.equal(enc.info.backend, 'js');
  assert.match(enc.backendReason ?? '', /onnxruntime-node, native CPU/);
  assert.deepEqual(fetched, []);
});

test('unit-length vectors; same text, same vector; different texts differ; batches equal singles; progress per batch', async () => {
  const texts = ['space alien movie', 'a love story', 'running shoes', 'space alien movie', 'zzz unknown words', 'the old dogs'];
  const progress: { done: number; total: number }[] = [];
  const batch = await enc.embed(texts, (p) => progress.push(p));
  assert.equal(batch.length, texts.length);
  assert.deepEqual(progress, [
    { done: 2, total: 6 },
    { done: 4, total: 6 },
    { done: 6, total: 6 },
  ]);
  for (const v of batch) {
    assert.ok(v instanceof Float32Array);
    assert.equal(v.length, TINY_BERT_HIDDEN);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5, 'unit length');
  }
  assert.deepEqual(Array.from(batch[0]), Array.from(batch[3]), 'same text, same vector');
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      if (texts[i] !== texts[j]) assert.ok(!near(batch[i], batch[j], 1e-3), `"${texts[i]}" and "${texts[j]}" should differ`);
    }
  }
  for (const [i, t] of texts.entries()) {
    const [single] = await enc.embed([t]);
    assert.ok(near(single, batch[i], 1e-5), `batched and single vectors of "${t}" differ`);
  }
  assert.deepEqual(await enc.embed([]), []);
  assert.deepEqual(fetched, []);
});

test('the vector is the mean-pooled, normalised hidden state of the fixture graph', async () => {
  const tokenizer = JSON.parse(await readFile(join(FIXTURE, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
  const weights = readInitializers(new Uint8Array(await readFile(join(FIXTURE, 'onnx', 'model.onnx'))));
  const table = (name: string): Float32Array => rawToFloat32(weights.get(name)!.raw);
  const [words, types, dense] = [table('word_embeddings'), table('token_type_embeddings'), table('dense')];
  const H = TINY_BERT_HIDDEN;
  const ids = ['[CLS]', 'running', 'shoes', 'dog', '##s', '[SEP]'].map((t) => tokenizer.model.vocab[t]);
  const mean = new Float64Array(H);
  for (const id of ids) {
    for (let o = 0; o < H; o++) {
      let s = 0;
      for (let i = 0; i < H; i++) s += (words[id * H + i] + types[i]) * dense[i * H + o];
      mean[o] += Math.tanh(s) / ids.length;
    }
  }
  const norm = Math.hypot(...mean);
  const [v] = await enc.embed(['Running  SHOES dogs']);
  assert.ok(
    near(
      v,
      Array.from(mean, (x) => x / norm),
      1e-5,
    ),
    'adapter output matches a hand computation',
  );
});

test('modelHash depends on the model and its config, not on where the files are', async () => {
  const root = await tempDir();
  await buildTinyBertFixture(join(root, 'tiny-bert'));
  const moved = await createHuggingFaceEncoder({ model: 'tiny-bert', localModelPath: root });
  assert.equal(moved.info.modelHash, enc.info.modelHash);
  await moved.dispose();
  const configPath = join(root, 'tiny-bert', 'config.json');
  const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
  await writeFile(configPath, JSON.stringify({ ...config, max_position_embeddings: 64 }));
  const changed = await createHuggingFaceEncoder({ model: 'tiny-bert', localModelPath: root });
  assert.notEqual(changed.info.modelHash, enc.info.modelHash);
  await changed.dispose();
});

test('a missing model gives a RecommenderError naming the path and the fix, without any download', async () => {
  await assert.rejects(createHuggingFaceEncoder({ model: 'no-such-model', localModelPath: FIXTURES }), (e: unknown) => {
    assert.ok(e instanceof RecommenderError);
    assert.equal(e.code, 'model_load_failed');
    assert.ok(e.message.includes(join(FIXTURES, 'no-such-model', 'config.json')), e.message);
    assert.ok(e.fix.includes(`${FIXTURES}/no-such-model/`), e.fix);
    assert.match(e.fix, /allowRemoteModels: true/);
    return true;
  });
  const root = await tempDir();
  await buildTinyBertFixture(join(root, 'tiny-bert'));
  await rm(join(root, 'tiny-bert', 'onnx'), { recursive: true });
  await assert.rejects(createHuggingFaceEncoder({ model: 'tiny-bert', localModelPath: root }), (e: unknown) => {
    assert.ok(e instanceof RecommenderError);
    assert.equal(e.code, 'model_load_failed');
    assert.ok(e.message.includes(join(root, 'tiny-bert', 'onnx', 'model.onnx')), e.message);
    return true;
  });
  assert.deepEqual(fetched, []);
});
