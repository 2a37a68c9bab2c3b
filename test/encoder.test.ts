/**
 * The shipped ONNX encoder (public/models/glove-sif-100d) on onnxruntime-web's
 * WASM backend in Node, held against the plain TypeScript reference of the
 * same math (tools/models/sif.ts) with weights read back from model.onnx.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RecommenderError } from '../src/errors';
import { OnnxSentenceEncoder, type EmbedProgress } from '../src/encoding/encoder';
import { createSession } from '../src/runtime/onnx';
import { manifestHash, sha256Hex, type ModelManifest } from '../src/formats/manifest';
import { DataType, rawToFloat32, readInitializers } from '../src/formats/onnx-proto';
import { cosine, firstPrincipalDirection, sifEmbed, type SifWeights } from '../tools/models/sif';
import { WordTokenizer } from '../src/encoding/tokenizer';
import { fileReader, loadNodeEncoder, MODELS_DIR, nodeOrt } from '../support/node-models';

const DIR = join(MODELS_DIR, 'glove-sif-100d');
const DIMS = 100;
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as ModelManifest;
const VOCAB_TEXT = readFileSync(join(DIR, 'vocab.txt'), 'utf8');

/** A deterministic 5,000-word text drawn from the vocabulary (plus some unknown words). */
function longText(): string {
  const words = VOCAB_TEXT.trimEnd().split('\n');
  let s = 12345;
  const out: string[] = [];
  for (let i = 0; i < 5000; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out.push(i % 50 === 49 ? `zzq${i}x` : words[s % 20_000]);
  }
  return out.join(' ');
}

const TEXTS: string[] = [
  'Toy Story (1995). Adventure. Adventure, Animation, Children, Comedy, Fantasy, pixar, fun',
  'Heat (1995). Action. Action, Crime, Thriller',
  'Shining, The (1980). Horror. Horror, atmospheric, disturbing, jack nicholson',
  'Matrix, The (1999). Action. Action, Sci-Fi, Thriller, virtual reality',
  "Schindler's List (1993). Drama. Drama, War",
  'Amélie (2001). Comedy. Comedy, Romance, paris, quirky',
  'Notting Hill (1999). Comedy. Comedy, Romance, london, love story',
  'space alien invasion sci-fi',
  'heist movie with a clever twist',
  'red running shoes for trail marathon',
  '',
  '   ',
  'zzqxv blorptastic',
  '🎬🍿',
  'ＦＵＬＬ-WIDTH text and ligatures ﬁne',
  '東京物語 Tokyo Story (1953)',
  'مرحبا بالعالم cinema',
  'the of and to in',
  'Sci-Fi Film-Noir IMAX Documentary',
  'comedy',
  longText(),
];

let encoder: OnnxSentenceEncoder;
before(async () => {
  encoder = await loadNodeEncoder();
});
after(async () => {
  await encoder?.dispose();
});

function referenceWeights(): { weights: SifWeights; vocabRows: number } {
  const inits = readInitializers(new Uint8Array(readFileSync(join(DIR, 'model.onnx'))));
  const table = inits.get('word_vectors_int8');
  const scale = inits.get('row_scale');
  const common = inits.get('common_component');
  assert.ok(table && scale && common, 'initializers word_vectors_int8, row_scale and common_component are present');
  const V = table.dims[0];
  assert.deepEqual(table.dims, [V, DIMS]);
  assert.equal(table.dataType, DataType.INT8);
  assert.equal(table.raw.byteLength, V * DIMS);
  assert.deepEqual(scale.dims, [V]);
  assert.equal(scale.dataType, DataType.FLOAT);
  assert.equal(scale.raw.byteLength, V * 4);
  assert.deepEqual(common.dims, [DIMS, 1]);
  assert.equal(common.dataType, DataType.FLOAT);
  const weights: SifWeights = {
    dims: DIMS,
    table: new Int8Array(table.raw.buffer, table.raw.byteOffset, table.raw.byteLength),
    rowScale: rawToFloat32(scale.raw),
    common: rawToFloat32(common.raw),
  };
  return { weights, vocabRows: V };
}

const norm = (v: ArrayLike<number>): number => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

describe('ONNX sentence encoder (WASM) vs TypeScript reference', () => {
  test('loads on WASM with the manifest settings', () => {
    assert.equal(encoder.info.backend, 'wasm');
    assert.equal(encoder.info.dimensions, DIMS);
    assert.equal(encoder.info.modelHash, manifest.hash);
    assert.equal(encoder.info.name, 'glove-sif-100d');
    assert.equal(encoder.tokenizer.settings.maxTokens, manifest.tokenizer?.maxTokens);
    assert.equal(encoder.tokenizer.settings.maxChars, manifest.tokenizer?.maxChars);
  });

  test('matches sifEmbed with weights read back from model.onnx (max abs diff < 1e-4)', async (t) => {
    const { weights, vocabRows } = referenceWeights();
    const tokenizer = WordTokenizer.fromVocabText(VOCAB_TEXT, { maxTokens: manifest.tokenizer!.maxTokens, maxChars: manifest.tokenizer!.maxChars });
    assert.equal(vocabRows, tokenizer.vocabSize, 'one table row per vocabulary word plus padding');
    assert.equal(weights.rowScale[0], 0, 'padding row has weight 0');
    assert.ok(Math.abs(norm(weights.common) - 1) < 1e-5, 'common component is unit length');

    const got = await encoder.embed(TEXTS);
    assert.equal(got.length, TEXTS.length);
    let maxDiff = 0;
    TEXTS.forEach((t, i) => {
      assert.equal(got[i].length, DIMS);
      const tokens = tokenizer.encode(t);
      assert.deepEqual(tokens.ids, encoder.tokenizer.encode(t).ids);
      const want = sifEmbed(tokens.ids, weights);
      let diff = 0;
      for (let d = 0; d < DIMS; d++) diff = Math.max(diff, Math.abs(want[d] - got[i][d]));
      assert.ok(diff < 1e-4, `text ${i} (${JSON.stringify(t.slice(0, 40))}): max abs diff ${diff}`);
      maxDiff = Math.max(maxDiff, diff);
    });
    assert.ok(maxDiff < 1e-4, `max abs diff ${maxDiff}`);
    t.diagnostic(`ONNX (WASM) vs TypeScript reference over ${TEXTS.length} texts: max abs diff ${maxDiff.toExponential(2)}`);
    const long = tokenizer.encode(TEXTS[TEXTS.length - 1]);
    assert.equal(long.ids.length, 256, 'the 5,000-word text is truncated at maxTokens');
    assert.equal(long.truncated, true);
  });

  test('outputs are unit length, or all zeros for texts without a known word', async () => {
    const vectors = await encoder.embed(TEXTS);
    let zeros = 0;
    vectors.forEach((v, i) => {
      assert.ok(v.every(Number.isFinite), `text ${i}: finite`);
      const n = norm(v);
      const known = encoder.tokenizer.encode(TEXTS[i]).ids.length > 0;
      if (known) assert.ok(Math.abs(n - 1) < 1e-5, `text ${i}: norm ${n}`);
      else {
        assert.ok(
          v.every((x) => x === 0),
          `text ${i}: all zeros`,
        );
        zeros++;
      }
    });
    assert.equal(zeros, 4, "'', whitespace, unknown-only and emoji-only texts");
    const [a, b] = await encoder.embed([]);
    assert.equal(a, undefined);
    assert.equal(b, undefined);
  });

  test('a batch of 300 in one call equals embedding them one by one', async (t) => {
    const texts = Array.from({ length: 300 }, (_, i) => `${TEXTS[i % TEXTS.length]} ${['comedy', 'drama', 'zzqx', ''][i % 4]}`);
    const batch = await encoder.embed(texts);
    assert.equal(batch.length, 300);
    let maxDiff = 0;
    for (let i = 0; i < texts.length; i++) {
      const [single] = await encoder.embed([texts[i]]);
      for (let d = 0; d < DIMS; d++) maxDiff = Math.max(maxDiff, Math.abs(single[d] - batch[i][d]));
    }
    assert.ok(maxDiff < 1e-6, `batch vs single max abs diff ${maxDiff}`);
    t.diagnostic(`batch of 300 vs one by one: max abs diff ${maxDiff.toExponential(2)}`);
    // order is kept
    const reversed = await encoder.embed([...texts].reverse());
    for (const i of [0, 1, 150, 299]) assert.deepEqual(reversed[299 - i], batch[i]);
  });

  test('progress callbacks grow monotonically and reach done == total', async () => {
    const texts = Array.from({ length: 300 }, (_, i) => `movie ${i} comedy`);
    const progress: EmbedProgress[] = [];
    const out = await encoder.embed(texts, (p) => progress.push({ ...p }));
    assert.equal(out.length, 300);
    assert.ok(progress.length >= 3, `reported per batch (${progress.length} reports)`);
    assert.deepEqual(progress[progress.length - 1], { done: 300, total: 300 });
    for (let i = 0; i < progress.length; i++) {
      assert.equal(progress[i].total, 300);
      assert.ok(progress[i].done > (i ? progress[i - 1].done : 0) && progress[i].done <= 300);
    }
    const one: EmbedProgress[] = [];
    await encoder.embed(['comedy'], (p) => one.push(p));
    assert.deepEqual(one, [{ done: 1, total: 1 }]);
    const none: EmbedProgress[] = [];
    await encoder.embed([], (p) => none.push(p));
    assert.deepEqual(none, [{ done: 0, total: 0 }]);
  });

  test('non-string texts embed as empty texts instead of throwing', async () => {
    const out = await encoder.embed([null, 'comedy', undefined, 42] as unknown as string[]);
    assert.equal(out.length, 4);
    for (const i of [0, 2, 3]) assert.ok(out[i].every((x) => x === 0));
    assert.ok(Math.abs(norm(out[1]) - 1) < 1e-5);
  });

  test('semantic sanity: a sci-fi query is closer to a sci-fi movie than to a romance', async () => {
    const [q, scifi, romance] = await encoder.embed([
      'space alien invasion sci-fi',
      'Alien (1979). Horror. Horror, Sci-Fi, aliens, space',
      'Notting Hill (1999). Comedy. Comedy, Romance, london, love story',
    ]);
    const s = cosine(q, scifi);
    const r = cosine(q, romance);
    assert.ok(s > r + 0.1, `sci-fi ${s.toFixed(3)} vs romance ${r.toFixed(3)}`);
  });
});

describe('model folder integrity', () => {
  test('every file matches its manifest SHA-256 and size, and the manifest hash covers them', async () => {
    assert.equal(manifest.format, 'on-device-recs-model/v1');
    assert.equal(manifest.kind, 'sentence-encoder');
    assert.equal(manifest.dimensions, DIMS);
    const listed = Object.keys(manifest.files).sort();
    assert.ok(listed.includes(manifest.model), 'the graph is listed');
    assert.ok(listed.includes(manifest.tokenizer!.vocab), 'the vocabulary is listed');
    for (const [file, meta] of Object.entries(manifest.files)) {
      const bytes = readFileSync(join(DIR, file));
      assert.equal(bytes.length, meta.bytes, `${file} size`);
      assert.equal(await sha256Hex(new Uint8Array(bytes)), meta.sha256, `${file} SHA-256`);
    }
    assert.equal(await manifestHash(manifest.files), manifest.hash);
    for (const f of readdirSync(DIR)) assert.ok(listed.includes(f) || f === 'manifest.json' || f === 'MODEL_CARD.md', `unlisted file ${f}`);
  });

  test('the model folder is under 15 MB', () => {
    let total = 0;
    for (const f of readdirSync(DIR)) total += statSync(join(DIR, f)).size;
    assert.ok(total < 15 * 1024 * 1024 && total < 15e6, `${total} bytes`);
  });

  for (const file of ['model.onnx', 'vocab.txt']) {
    test(`a copy with one flipped byte in ${file} is refused with model_integrity`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'recs-tamper-'));
      try {
        cpSync(DIR, dir, { recursive: true });
        const bytes = readFileSync(join(dir, file));
        bytes[Math.floor(bytes.length / 2)] ^= 0x01;
        writeFileSync(join(dir, file), bytes);
        await assert.rejects(
          OnnxSentenceEncoder.create({ ort: await nodeOrt(), reader: fileReader(dir), where: dir, backend: 'wasm' }),
          (e: unknown) => {
            assert.ok(e instanceof RecommenderError, `a RecommenderError, got ${String(e)}`);
            assert.equal(e.code, 'model_integrity');
            assert.match(e.message, new RegExp(file.replace('.', '\\.')));
            assert.ok(e.fix.length > 10, 'says what to do');
            return true;
          },
        );
        // the untouched copy still loads
        writeFileSync(join(dir, file), readFileSync(join(DIR, file)));
        const ok = await OnnxSentenceEncoder.create({ ort: await nodeOrt(), reader: fileReader(dir), where: dir, backend: 'wasm' });
        await ok.dispose();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  test('a manifest that does not list the graph is refused with model_integrity', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'recs-tamper-'));
    try {
      cpSync(DIR, dir, { recursive: true });
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ModelManifest;
      delete m.files[m.model];
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
      await assert.rejects(
        OnnxSentenceEncoder.create({ ort: await nodeOrt(), reader: fileReader(dir), where: dir, backend: 'wasm' }),
        (e: unknown) => e instanceof RecommenderError && e.code === 'model_integrity',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SIF reference math edge cases', () => {
  test('firstPrincipalDirection of all-zero rows is a finite unit vector (no NaN)', () => {
    const v = firstPrincipalDirection([new Float32Array(4), new Float32Array(4)], 4);
    assert.ok(v.every(Number.isFinite), `got ${Array.from(v)}`);
    assert.ok(Math.abs(norm(v) - 1) < 1e-6);
    const w = firstPrincipalDirection([], 3);
    assert.ok(w.every(Number.isFinite));
  });

  test('sifEmbed of no ids is all zeros', () => {
    const { weights } = referenceWeights();
    assert.ok(sifEmbed([], weights).every((x) => x === 0));
    assert.ok(
      sifEmbed([0, 0, 0], weights).every((x) => x === 0),
      'padding only',
    );
  });
});

describe('backend choice without WebGPU', () => {
  /** An onnxruntime stand-in that records which provider each session asked for; WebGPU sessions fail when told to. */
  const fakeOrt = (webgpuFails: boolean) =>
    ({
      InferenceSession: {
        create: async (_model: Uint8Array, opts: { executionProviders: string[] }) => {
          if (opts.executionProviders[0] === 'webgpu' && webgpuFails) throw new Error('adapter lost');
          return { provider: opts.executionProviders[0] };
        },
      },
    }) as unknown as Parameters<typeof createSession>[0];
  const withNavigator = async <T>(nav: object | undefined, fn: () => Promise<T>): Promise<T> => {
    const before = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
    try {
      return await fn();
    } finally {
      if (before) Object.defineProperty(globalThis, 'navigator', before);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
  };

  test('no navigator.gpu: auto and a forced webgpu both run on WASM, and the forced one reports the fallback', async () => {
    for (const nav of [undefined, { userAgent: 'no-webgpu' }]) {
      const auto = await withNavigator(nav, () => createSession(fakeOrt(false), new Uint8Array(1), 'auto'));
      assert.equal(auto.backend, 'wasm');
      assert.equal(auto.reason, 'no WebGPU in this browser');
      assert.equal((auto.session as unknown as { provider: string }).provider, 'wasm');
      const fallbacks: string[] = [];
      const forced = await withNavigator(nav, () =>
        createSession(fakeOrt(false), new Uint8Array(1), 'webgpu', (from, to, why) => fallbacks.push(`${from}->${to}: ${why}`)),
      );
      assert.equal(forced.backend, 'wasm');
      assert.deepEqual(fallbacks, ['webgpu->wasm: navigator.gpu is not available in this browser']);
    }
  });

  test('WebGPU present but its session fails: WASM, with the reason', async () => {
    const fallbacks: string[] = [];
    const r = await withNavigator({ gpu: {} }, () =>
      createSession(fakeOrt(true), new Uint8Array(1), 'webgpu', (from, to, why) => fallbacks.push(`${from}->${to}: ${why}`)),
    );
    assert.equal(r.backend, 'wasm');
    assert.match(r.reason, /WebGPU session failed: adapter lost/);
    assert.equal(fallbacks.length, 1);
  });
});
