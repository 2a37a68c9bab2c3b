/** The Hugging Face adapter on the generated tiny BERT fixture, fully offline. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { RecommenderError } from '../src/errors';
import type { SentenceEncoder } from '../src/model/encoder';
import { createHuggingFaceEncoder } from '../src/model/hf-encoder';
import { buildTinyBertFixture, TINY_BERT_HIDDEN } from '../tools/models/tiny-bert';

const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'models');
let enc: SentenceEncoder;
before(async () => {
  enc = await createHuggingFaceEncoder({ model: 'tiny-bert', localModelPath: FIXTURES });
});
after(async () => {
  await enc.dispose();
});

const files = (dir: string): string[] => readdirSync(dir, { recursive: true }).map(String).filter((f) => statSync(join(dir, f)).isFile()).sort();

test('the fixture build is deterministic and matches the committed fixture', () => {
  const a = mkdtempSync(join(tmpdir(), 'tiny-bert-'));
  try {
    buildTinyBertFixture(a);
    const committed = join(FIXTURES, 'tiny-bert');
    assert.deepEqual(files(a), files(committed));
    for (const f of files(a)) assert.ok(readFileSync(join(a, f)).equals(readFileSync(join(committed, f))), f);
  } finally {
    rmSync(a, { recursive: true, force: true });
  }
});

test('loads offline, returns unit vectors of the hidden size, deterministic and batch-independent', async () => {
  assert.equal(enc.info.dimensions, TINY_BERT_HIDDEN);
  assert.match(enc.info.modelHash, /^[0-9a-f]{64}$/);
  const texts = ['space alien movie', 'a love story', 'running shoes', 'space alien movie', 'zzz unknown words'];
  const progress: number[] = [];
  const batch = await enc.embed(texts, (p) => progress.push(p.done));
  assert.equal(progress[progress.length - 1], texts.length);
  for (const v of batch) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  assert.deepEqual(Array.from(batch[0]), Array.from(batch[3]), 'same text, same vector');
  assert.ok(batch[0].some((x, i) => Math.abs(x - batch[1][i]) > 1e-3), 'different texts differ');
  for (const [i, t] of texts.entries()) {
    const [single] = await enc.embed([t]);
    for (let d = 0; d < single.length; d++) assert.ok(Math.abs(single[d] - batch[i][d]) < 1e-5);
  }
});

test('a missing model gives a clear error naming the path, and no download is attempted', async () => {
  await assert.rejects(
    createHuggingFaceEncoder({ model: 'no-such-model', localModelPath: FIXTURES }),
    (e: RecommenderError) => e instanceof RecommenderError && e.code === 'model_load_failed' && e.message.includes('no-such-model/') && /allowRemoteModels/.test(e.message),
  );
});
