/**
 * The behaviour model inside `npm run eval -- ranking <dir> --sequence`: trained from that
 * directory's training interactions only (the split of tools/data/split.ts; the validation
 * target chooses the epoch, no test target is passed), cached under .cache/ by the hash of
 * its input and trainer, and run in Node's onnxruntime (WASM) exactly as the worker runs it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OnnxSequenceModel, sequenceScores } from '../../src/ranking/sequence-model';
import type { SequenceComponents } from '../../src/ranking/score';
import type { CatalogIndex } from '../../src/vectors/catalog-index';
import { fileReader, MODELS_DIR, nodeOrt } from '../../support/node-models';
import type { Interaction } from '../data/movielens';
import type { UserSplit } from '../data/split';
import { MOVIELENS_TRAINING, MOVIELENS_TYPES, movieLensEvents, movieLensUsers, runTrainer, TRAINER, writeTrainerInput } from '../sequence-model';

export async function evaluationSequenceModel(
  splits: readonly UserSplit[],
  index: CatalogIndex,
  cold: ReadonlySet<number>,
  log: (msg: string) => void,
  seed = '42',
): Promise<OnnxSequenceModel> {
  const encoderDir = join(MODELS_DIR, 'glove-sif-100d');
  const encoder = JSON.parse(readFileSync(join(encoderDir, 'manifest.json'), 'utf8')) as { name: string; hash: string; dimensions: number };
  const users = movieLensUsers(splits, index, cold);
  const key = createHash('sha256')
    .update(JSON.stringify(users))
    .update(index.items.map((it) => it.id).join('\n'))
    .update(readFileSync(TRAINER))
    .update(JSON.stringify([MOVIELENS_TRAINING, seed, encoder.hash]))
    .digest('hex')
    .slice(0, 16);
  const dir = join(import.meta.dirname, '..', '..', '.cache', `sequence-${key}`);
  const out = join(dir, 'model');
  if (!existsSync(join(out, 'manifest.json'))) {
    log(`training the behaviour model on ${users.length} users' training interactions (${dir})`);
    writeTrainerInput(join(dir, 'input'), {
      items: index.items.map((it) => it.id),
      vectors: index.matrix,
      encoder: { name: encoder.name, modelHash: encoder.hash },
      typeNames: MOVIELENS_TYPES,
      users,
    });
    runTrainer(join(dir, 'input'), out, ['--name', 'sequence-eval', '--seed', seed, ...MOVIELENS_TRAINING], true);
  } else log(`behaviour model from cache ${out}`);
  return OnnxSequenceModel.create({
    ort: await nodeOrt(),
    reader: fileReader(out),
    where: out,
    backend: 'wasm',
    encoder: { modelHash: encoder.hash, dimensions: encoder.dimensions },
    catalogIds: index.items.map((it) => it.id),
    catalogVectors: index.matrix,
  });
}

/**
 * The model's components for a history at a temperature of its next-item share (null for a history without known
 * items): the model runs once per history and the conversion scan once; each temperature is one more next-item scan.
 */
export async function sequenceComponentsFor(
  model: OnnxSequenceModel,
  history: readonly Interaction[],
): Promise<(temperature: number) => SequenceComponents | null> {
  const state = await model.state(movieLensEvents(history));
  const byTemperature = new Map<number, SequenceComponents>();
  // the conversion scan does not depend on the temperature: the first one computes it
  let conversion: Float32Array | null = null;
  return (temperature) => {
    if (!state) return null;
    let c = byTemperature.get(temperature);
    if (!c) {
      const s = sequenceScores(model, state, conversion === null, temperature);
      conversion ??= s.conversion;
      byTemperature.set(temperature, (c = { next: s.next, conversion }));
    }
    return c;
  };
}
