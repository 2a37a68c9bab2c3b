/**
 * npm run build:heads [-- --movielens <dir>] [--out public/models/ranking-heads]
 *
 * Trains the multi-task ranking heads on MovieLens *training* interactions only
 * (every user's last two interactions, the evaluation's validation and test
 * targets, are never used) and exports them as a quantized ONNX graph.
 *
 * Examples: for each user and each of the last CUTS positions p of their
 * training sequence, the history is the sequence before p and the target is the
 * item at p. The global model used for the features is built from the sequences
 * before the first cut, so no target is ever inside it. Candidates are the top
 * POOL items of the engine's linear score; labels: click = the target,
 * conversion = the target rated >= 4.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { topK } from '../src/math/top-k';
import { FEATURE_COUNT, HEAD_FEATURES, headFeatures } from '../src/ranking/heads';
import { manifestHash, sha256Hex, type ModelManifest } from '../src/formats/manifest';
import { mulberry32 } from '../src/math/random';
import { placeGlobalModel } from '../src/global/global-model';
import { linearRanking } from '../src/ranking/pipeline';
import { DEFAULT_RANKING_CONFIG } from '../src/ranking/score';
import { movieLensIndex, profileFor } from './data/ml-index';
import { loadMovieLens, MOVIELENS_DIR } from './data/movielens';
import { splitLeaveLastOut } from './data/split';
import type { LoggedInteraction } from './global/build';
import { buildFromInteractions, DEFAULT_BUILD_SETTINGS } from './global/duckdb-build';
import { buildHeadsGraph, forwardReference, type HeadWeights } from './models/heads-graph';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const ROOT = resolve(import.meta.dirname, '..');
const DIR = resolve(arg('movielens', MOVIELENS_DIR));
const OUT = resolve(ROOT, arg('out', join('public', 'models', 'ranking-heads')));
const CUTS = 4;
const POOL = 100;
const HIDDEN = 16;
const EPOCHS = 40;
const log = (msg: string): void => void process.stderr.write(`[build:heads] ${msg}\n`);

interface Dataset {
  x: Float32Array;
  click: Uint8Array;
  conversion: Uint8Array;
  rows: number;
}

async function makeDataset(): Promise<Dataset> {
  const ml = loadMovieLens(DIR);
  const index = await movieLensIndex(ml);
  const splits = splitLeaveLastOut(ml.ratings).filter((s) => s.train.length > CUTS + 2);
  const globalTraining: LoggedInteraction[] = [];
  for (const s of splits)
    for (const r of s.train.slice(0, -CUTS)) globalTraining.push({ user: String(s.userId), item: String(r.movieId), timestamp: r.timestamp });
  log(`global model for features from ${globalTraining.length} interactions (before each user's last ${CUTS} training items)`);
  const global = placeGlobalModel(await buildFromInteractions(globalTraining, DEFAULT_BUILD_SETTINGS, { log }), index.indexOf);
  const rows: number[][] = [];
  const click: number[] = [];
  const conversion: number[] = [];
  let examples = 0;
  let inPool = 0;
  splits.forEach((s, n) => {
    for (let cut = CUTS; cut >= 1; cut--) {
      const history = s.train.slice(0, s.train.length - cut);
      const target = s.train[s.train.length - cut];
      const profile = profileFor(history, index);
      const { components: c, scores: base } = linearRanking({ catalog: index, global, profile, config: DEFAULT_RANKING_CONFIG });
      const pool = topK(base, POOL);
      const t = index.indexOf.get(String(target.movieId));
      examples++;
      if (t === undefined || !pool.includes(t)) continue;
      inPool++;
      const f = headFeatures(index, profile, c, base, pool);
      pool.forEach((item, r) => {
        rows.push(Array.from(f.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT)));
        click.push(item === t ? 1 : 0);
        conversion.push(item === t && target.rating >= 4 ? 1 : 0);
      });
    }
    if ((n + 1) % 100 === 0) log(`features: ${n + 1}/${splits.length} users`);
  });
  log(`${examples} examples, target in the top ${POOL} for ${inPool}; ${rows.length} rows`);
  return { x: Float32Array.from(rows.flat()), click: Uint8Array.from(click), conversion: Uint8Array.from(conversion), rows: rows.length };
}

/** Two-task MLP trained with Adam on binary cross-entropy; returns weights folded with standardisation. */
function train(d: Dataset): HeadWeights {
  const F = FEATURE_COUNT;
  const mean = new Float64Array(F);
  const std = new Float64Array(F);
  for (let r = 0; r < d.rows; r++) for (let i = 0; i < F; i++) mean[i] += d.x[r * F + i] / d.rows;
  for (let r = 0; r < d.rows; r++) for (let i = 0; i < F; i++) std[i] += (d.x[r * F + i] - mean[i]) ** 2 / d.rows;
  for (let i = 0; i < F; i++) std[i] = Math.sqrt(std[i]) || 1;
  const rand = mulberry32(7);
  const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const H = HIDDEN;
  const params = {
    w1: Float64Array.from({ length: F * H }, () => gauss() * Math.sqrt(2 / F)),
    b1: new Float64Array(H),
    w2: Float64Array.from({ length: H * 2 }, () => gauss() * Math.sqrt(1 / H)),
    b2: new Float64Array(2).fill(-3),
  };
  const keys = ['w1', 'b1', 'w2', 'b2'] as const;
  const m = Object.fromEntries(keys.map((k) => [k, new Float64Array(params[k].length)])) as Record<(typeof keys)[number], Float64Array>;
  const v = Object.fromEntries(keys.map((k) => [k, new Float64Array(params[k].length)])) as Record<(typeof keys)[number], Float64Array>;
  const order = Array.from({ length: d.rows }, (_, i) => i);
  const batch = 256;
  const lr = 3e-3;
  let step = 0;
  const xs = new Float64Array(F);
  const h = new Float64Array(H);
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let loss = 0;
    for (let start = 0; start < order.length; start += batch) {
      const g = Object.fromEntries(keys.map((k) => [k, new Float64Array(params[k].length)])) as Record<(typeof keys)[number], Float64Array>;
      const end = Math.min(order.length, start + batch);
      for (let b = start; b < end; b++) {
        const r = order[b];
        for (let i = 0; i < F; i++) xs[i] = (d.x[r * F + i] - mean[i]) / std[i];
        for (let j = 0; j < H; j++) {
          let s = params.b1[j];
          for (let i = 0; i < F; i++) s += xs[i] * params.w1[i * H + j];
          h[j] = Math.max(0, s);
        }
        const labels = [d.click[r], d.conversion[r]];
        const dh = new Float64Array(H);
        for (let t = 0; t < 2; t++) {
          let s = params.b2[t];
          for (let j = 0; j < H; j++) s += h[j] * params.w2[j * 2 + t];
          const p = 1 / (1 + Math.exp(-s));
          loss -= labels[t] ? Math.log(p + 1e-12) : Math.log(1 - p + 1e-12);
          const ds = p - labels[t];
          g.b2[t] += ds;
          for (let j = 0; j < H; j++) {
            g.w2[j * 2 + t] += ds * h[j];
            dh[j] += ds * params.w2[j * 2 + t];
          }
        }
        for (let j = 0; j < H; j++) {
          if (h[j] <= 0) continue;
          g.b1[j] += dh[j];
          for (let i = 0; i < F; i++) g.w1[i * H + j] += dh[j] * xs[i];
        }
      }
      step++;
      const n = end - start;
      for (const k of keys) {
        const p = params[k];
        for (let i = 0; i < p.length; i++) {
          const gi = g[k][i] / n;
          m[k][i] = 0.9 * m[k][i] + 0.1 * gi;
          v[k][i] = 0.999 * v[k][i] + 0.001 * gi * gi;
          p[i] -= (lr * (m[k][i] / (1 - 0.9 ** step))) / (Math.sqrt(v[k][i] / (1 - 0.999 ** step)) + 1e-8);
        }
      }
    }
    if (epoch % 10 === 9 || epoch === 0) log(`epoch ${epoch + 1}: mean BCE per row and task ${(loss / d.rows / 2).toFixed(5)}`);
  }
  // fold standardisation into the first layer: ((x - mean) / std) W1 + b1 = x (W1 / std) + (b1 - sum(mean / std * W1))
  const w1 = new Float32Array(F * H);
  const b1 = Float32Array.from(params.b1);
  for (let i = 0; i < F; i++) {
    for (let j = 0; j < H; j++) {
      w1[i * H + j] = params.w1[i * H + j] / std[i];
      b1[j] -= (mean[i] / std[i]) * params.w1[i * H + j];
    }
  }
  return { inputs: F, hidden: H, w1, b1, w2: Float32Array.from(params.w2), b2: Float32Array.from(params.b2) };
}

const data = await makeDataset();
const weights = train(data);
// quantization error on the training rows: int8 graph vs float network
const float = forwardReference({ ...weights }, data.x, Math.min(data.rows, 20_000));
const onnx = buildHeadsGraph(weights, { name: 'ranking-heads', features: HEAD_FEATURES.join(',') });
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, 'model.onnx'), onnx);
const files: ModelManifest['files'] = { 'model.onnx': { sha256: await sha256Hex(onnx), bytes: onnx.length } };
const manifest: ModelManifest = {
  format: 'on-device-recs-model/v1',
  name: 'ranking-heads',
  kind: 'ranking-heads',
  model: 'model.onnx',
  inputs: { features: `float32 [candidates, ${FEATURE_COUNT}]` },
  outputs: { click: 'float32 [candidates]: p(next interaction)', conversion: 'float32 [candidates]: p(like, rating >= 4)' },
  features: [...HEAD_FEATURES],
  quantization: 'int8 per-tensor symmetric weights (Cast + Mul by scale), float32 biases',
  training: {
    data: "MovieLens latest-small training interactions (each user's last two excluded)",
    cuts: CUTS,
    pool: POOL,
    hidden: HIDDEN,
    epochs: EPOCHS,
    rows: data.rows,
    positives: data.click.reduce((a, b) => a + b, 0),
  },
  files,
  hash: await manifestHash(files),
};
writeFileSync(join(OUT, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(
  join(OUT, 'MODEL_CARD.md'),
  `# Model card: ranking-heads

Multi-task ranking heads of the on-device engine: one shared ReLU layer (${HIDDEN} units)
over ${FEATURE_COUNT} features of (visitor profile, candidate), and two logistic outputs:

- **click**: p(this candidate is the visitor's next interaction);
- **conversion**: p(the next interaction is a like; MovieLens proxy: rating >= 4).

The engine re-ranks its top candidates by \`click + 0.3 * conversion\` (task weights are
configurable), then applies MMR diversity.

Features (in order): ${HEAD_FEATURES.join(', ')}. Standardisation is folded into the first layer.

## Training
\`npm run build:heads\`: MovieLens latest-small (GroupLens; research and non-commercial use),
training interactions only — each user's last two interactions (the evaluation's
validation and test targets) are never seen. ${data.rows} candidate rows from the
top ${POOL} of the engine's linear score at the last ${CUTS} positions of each training
sequence; the global model behind the features was built from the interactions before
those positions. Adam, ${EPOCHS} epochs, binary cross-entropy on both tasks.

## Size and quantization
int8 per-tensor weights (Cast + Mul by scale), float32 biases; model.onnx ${onnx.length} bytes.

## Quality
See the ablation of \`npm run eval -- ranking data/movielens-latest-small\` (row "+ heads").
`,
);
log(
  `wrote ${OUT} (${onnx.length} bytes); reference click p[0..3] = ${Array.from(float.click.slice(0, 3))
    .map((x) => x.toFixed(4))
    .join(', ')}`,
);
