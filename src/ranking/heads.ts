/**
 * Multi-task ranking heads: a small network over features of (profile,
 * candidate, context) predicting p(click: the visitor's next interaction) and
 * p(conversion: a like/purchase). Shipped as a quantized ONNX graph
 * (public/models/ranking-heads), run through onnxruntime-web on WebGPU or WASM.
 * Feature building is pure and shared by the worker, training and evaluation.
 */
import type { Backend } from '../types';
import { RecommenderError } from '../errors';
import { dot, rowOf } from '../math/matrix';
import { topK } from '../math/top-k';
import { openModelFolder, type ModelFileReader } from '../runtime/model-files';
import { createSession, runExclusive, runFloatOutputs, type Ort, type Session } from '../runtime/onnx';
import type { Profile } from '../profile/profile';
import type { CatalogIndex } from '../vectors/catalog-index';
import type { ScoreComponents } from './score';

/** Feature order of the heads' input (documented in the model card). */
export const HEAD_FEATURES = [
  'content', // best interest similarity (content vectors)
  'neighbour', // global item-to-item score over the recency-weighted history, scaled to [0, 1]
  'next', // global next-item score from the most recent items, [0, 1]
  'popularity', // time-decayed popularity, [0, 1]
  'last_item_similarity', // content similarity to the most recent item
  'category_affinity', // share of the history in the candidate's category
  'history_length', // log1p(history items) / 5
  'base_score', // the engine's linear relevance score
] as const;
export const FEATURE_COUNT = HEAD_FEATURES.length;

/** Builds the [candidates, FEATURE_COUNT] row-major feature matrix. */
export function headFeatures(
  index: CatalogIndex,
  profile: Profile,
  c: ScoreComponents,
  base: Float32Array,
  candidates: readonly number[],
): Float32Array {
  const out = new Float32Array(candidates.length * FEATURE_COUNT);
  const lastId = profile.sequence[profile.sequence.length - 1]?.itemId;
  const lastIndex = lastId === undefined ? undefined : index.indexOf.get(lastId);
  const last = lastIndex === undefined ? null : rowOf(index.matrix, lastIndex);
  const categories = new Map<string, number>();
  let known = 0;
  for (const s of profile.sequence) {
    const i = index.indexOf.get(s.itemId);
    const cat = i === undefined ? undefined : index.items[i].category;
    if (cat !== undefined) {
      categories.set(cat, (categories.get(cat) ?? 0) + 1);
      known++;
    }
  }
  const historyLength = Math.log1p(profile.sequence.length) / 5;
  candidates.forEach((item, r) => {
    const o = r * FEATURE_COUNT;
    const cat = index.items[item].category;
    out[o] = c.content[item];
    out[o + 1] = c.neighbour?.[item] ?? 0;
    out[o + 2] = c.next?.[item] ?? 0;
    out[o + 3] = c.popularity?.[item] ?? 0;
    out[o + 4] = last ? dot(rowOf(index.matrix, item), last, index.matrix.dims) : 0;
    out[o + 5] = known > 0 && cat !== undefined ? (categories.get(cat) ?? 0) / known : 0;
    out[o + 6] = historyLength;
    out[o + 7] = base[item];
  });
  return out;
}

export interface HeadOutputs {
  click: Float32Array;
  conversion: Float32Array;
}

export interface RankingHeads {
  readonly backend: Backend;
  readonly modelHash: string;
  predict(features: Float32Array, rows: number): Promise<HeadOutputs>;
  dispose(): Promise<void>;
}

export class OnnxRankingHeads implements RankingHeads {
  private constructor(
    readonly backend: Backend,
    readonly modelHash: string,
    readonly backendReason: string,
    private readonly ort: Ort,
    private readonly session: Session,
  ) {}

  static async create(options: { ort: Ort; reader: ModelFileReader; where?: string; backend?: Backend | 'auto' }): Promise<OnnxRankingHeads> {
    const where = options.where ?? 'ranking-heads';
    const folder = await openModelFolder(options.reader, where);
    if (folder.manifest.kind !== 'ranking-heads') {
      throw new RecommenderError(
        'model_load_failed',
        `${where} is a ${folder.manifest.kind}, not ranking heads.`,
        'Point rankingHeads at a folder written by npm run build:heads.',
      );
    }
    const features = (folder.manifest as { features?: string[] }).features;
    if (!Array.isArray(features) || features.join() !== HEAD_FEATURES.join()) {
      throw new RecommenderError(
        'model_load_failed',
        `${where} expects features [${String(features)}], this engine builds [${HEAD_FEATURES.join(', ')}].`,
        'Rebuild the heads with npm run build:heads for this engine version.',
      );
    }
    const model = await folder.read(folder.manifest.model);
    const probeFeatures = Float32Array.from({ length: 200 * FEATURE_COUNT }, (_, i) => ((i * 7919) % 1000) / 1000);
    const probe = async (s: Session): Promise<void> => {
      const input = new options.ort.Tensor('float32', probeFeatures, [200, FEATURE_COUNT]);
      const out = await s.run({ features: input });
      await out.click.getData();
      input.dispose();
    };
    const { session, backend, reason } = await runExclusive(() => createSession(options.ort, model, options.backend ?? 'auto', undefined, probe));
    return new OnnxRankingHeads(backend, folder.manifest.hash, reason, options.ort, session);
  }

  async predict(features: Float32Array, rows: number): Promise<HeadOutputs> {
    if (rows === 0) return { click: new Float32Array(0), conversion: new Float32Array(0) };
    const input = new this.ort.Tensor('float32', features, [rows, FEATURE_COUNT]);
    const outputs = await runFloatOutputs(this.session, { features: input }, ['click', 'conversion']);
    input.dispose();
    return outputs;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Task weights of the final multi-objective score. */
export interface TaskWeights {
  click: number;
  conversion: number;
}

export const DEFAULT_TASK_WEIGHTS: TaskWeights = { click: 1, conversion: 0.3 };

/** Combines the heads' task predictions into one score per candidate. */
export function combineTasks(outputs: HeadOutputs, weights: TaskWeights = DEFAULT_TASK_WEIGHTS): Float32Array {
  return Float32Array.from(outputs.click, (c, i) => weights.click * c + weights.conversion * outputs.conversion[i]);
}

/**
 * Re-ranks the best `pool` candidates of the linear score with the heads.
 * Returns a full-catalog score array: the multi-objective score inside the pool
 * (plus a tiny share of the linear score to break ties), -Infinity outside it.
 */
export async function rerankWithHeads(
  heads: RankingHeads,
  index: CatalogIndex,
  profile: Profile,
  components: ScoreComponents,
  base: Float32Array,
  pool = 200,
  weights: TaskWeights = DEFAULT_TASK_WEIGHTS,
): Promise<Float32Array> {
  const candidates = topK(base, pool);
  const out = new Float32Array(base.length).fill(-Infinity);
  if (candidates.length === 0) return out;
  const outputs = await heads.predict(headFeatures(index, profile, components, base, candidates), candidates.length);
  const combined = combineTasks(outputs, weights);
  // Items the global model has never seen (cold start) have no behavioural features, so the heads,
  // trained on known items, cannot judge them: they keep their slot from the linear ranking and the
  // known items are re-ordered by the heads around them.
  const cold = components.known ? candidates.map((item) => !components.known?.[item]) : candidates.map(() => false);
  const known = candidates.map((item, r) => ({ item, score: combined[r] + 1e-3 * base[item] })).filter((_, r) => !cold[r]);
  known.sort((a, b) => b.score - a.score || a.item - b.item);
  if (known.length === 0) {
    for (const item of candidates) out[item] = base[item];
    return out;
  }
  let next = 0;
  let previous = Infinity;
  candidates.forEach((item, slot) => {
    if (cold[slot]) {
      const following = known[next]?.score ?? previous - 1e-3;
      out[item] = Number.isFinite(previous) ? (previous + following) / 2 : following + 1e-3;
      previous = out[item];
    } else {
      const k = known[next++];
      out[k.item] = k.score;
      previous = k.score;
    }
  });
  return out;
}
