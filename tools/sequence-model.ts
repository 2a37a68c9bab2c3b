/**
 * The Node side of the behaviour model's training (training/sasrec/train.py, PyTorch):
 * writes the trainer's input folder from per-user event sequences and the catalog's
 * text vectors (the shipped encoder's), runs Debian's /usr/bin/python3 on it, and
 * builds the MovieLens sequences on the evaluation's own split (tools/data/split.ts).
 *
 * npm run build:sequence-model [-- --movielens <dir>] [--catalog <catalog.json>] [--out <folder>] [--seed 42]
 *   trains on every user's training interactions (the evaluation's validation target
 *   chooses the epoch; no test target is ever passed) and writes the model folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { itemText } from '../src/catalog/validate';
import type { SentenceEncoder } from '../src/encoding/encoder';
import { matrixFromRows, type ItemMatrix } from '../src/math/matrix';
import type { CatalogItem } from '../src/types';
import type { CatalogIndex } from '../src/vectors/catalog-index';
import type { Interaction } from './data/movielens';
import type { UserSplit } from './data/split';

export const PYTHON = '/usr/bin/python3';
export const TRAINER = resolve(import.meta.dirname, '..', 'training', 'sasrec', 'train.py');
export const INSTALL_HINT = 'apt-get install -y python3-torch python3-onnx libopenblas0-pthread';

/**
 * Trainer settings for MovieLens-sized logs (chosen on the trainer's validation NDCG@10 only, training/sasrec/README.md): windows of
 * 100 events, lr 0.005 (0.0308 at the 8-minute budget against 0.0207 for 0.002), the batch's targets as logQ-corrected negatives
 * (the trainer's default), a validation check every 2 epochs, patience 5 checks, at most 9 minutes.
 */
export const MOVIELENS_TRAINING = ['--max-len', '100', '--lr', '0.005', '--batch', '32', '--check-every', '2', '--max-minutes', '9'];

/** Event types of a MovieLens sequence: a rating of 4 or more is a 'like', anything else a 'view'. */
export const MOVIELENS_TYPES = ['view', 'like'] as const;

export interface TrainerUser {
  /** Rows of the item list, oldest first. */
  items: number[];
  /** 1 + position in typeNames. */
  types: number[];
  validation: { item: number; type: number } | null;
}

export interface TrainerInput {
  items: string[];
  vectors: ItemMatrix;
  encoder: { name: string; modelHash: string };
  typeNames: readonly string[];
  users: TrainerUser[];
  /** Histories (rows, types) the trainer answers in reference.json with its own outputs. */
  check?: [number[], number[]][];
}

/** Fails with the install command when /usr/bin/python3 cannot import torch and onnx. */
export function checkTrainer(): void {
  const r = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `${PYTHON} cannot import torch and onnx (${(r.stderr || String(r.error)).trim().split('\n').pop()}): install them with ${INSTALL_HINT}`,
    );
  }
}

export function writeTrainerInput(dir: string, input: TrainerInput): void {
  mkdirSync(dir, { recursive: true });
  const { vectors } = input;
  writeFileSync(join(dir, 'text.bin'), new Uint8Array(vectors.data.buffer, vectors.data.byteOffset, vectors.count * vectors.dims * 4));
  writeFileSync(
    join(dir, 'input.json'),
    JSON.stringify({
      items: input.items,
      textDims: vectors.dims,
      typeNames: input.typeNames,
      encoder: input.encoder,
      users: input.users,
      check: input.check ?? [],
    }),
  );
}

/** The trainer's input for a catalog: its items' text vectors from `encoder` (the shipped one), event types view / like. */
export async function writeCatalogTrainerInput(
  dir: string,
  catalog: readonly CatalogItem[],
  encoder: SentenceEncoder,
  users: TrainerUser[],
): Promise<void> {
  writeTrainerInput(dir, {
    items: catalog.map((it) => it.id),
    vectors: matrixFromRows(await encoder.embed(catalog.map(itemText)), encoder.info.dimensions),
    encoder: { name: encoder.info.name, modelHash: encoder.info.modelHash },
    typeNames: MOVIELENS_TYPES,
    users,
  });
}

/** Runs the trainer (one torch thread). `verbose`: its log goes to this process's stderr as it trains. Throws with its output when it fails. */
export function runTrainer(inputDir: string, outDir: string, args: string[] = [], verbose = false): void {
  checkTrainer();
  const r = spawnSync(PYTHON, [TRAINER, inputDir, outDir, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', verbose ? 'inherit' : 'pipe', verbose ? 'inherit' : 'pipe'],
  });
  if (r.status !== 0) throw new Error(`training/sasrec/train.py failed (exit ${r.status}):\n${(r.stderr ?? '').slice(-4000)}`);
}

const typeOf = (r: Interaction): number => (r.rating >= 4 ? 2 : 1);

/**
 * Trainer users from the evaluation's split: each user's training interactions (items not in the
 * index and `cold` items left out) and the validation target (null when it is cold or unknown).
 */
export function movieLensUsers(splits: readonly UserSplit[], index: CatalogIndex, cold: ReadonlySet<number> = new Set()): TrainerUser[] {
  const rowOf = (r: Interaction): number | undefined => (cold.has(r.movieId) ? undefined : index.indexOf.get(String(r.movieId)));
  return splits.map((s) => {
    const train = s.train.filter((r) => rowOf(r) !== undefined);
    const v = rowOf(s.validation);
    return {
      items: train.map((r) => rowOf(r) as number),
      types: train.map(typeOf),
      validation: v === undefined ? null : { item: v, type: typeOf(s.validation) },
    };
  });
}

/** The history a MovieLens interaction list gives the model on the device: 'like' for a rating of 4 or more. */
export function movieLensEvents(history: readonly Interaction[]): { itemId: string; type: string }[] {
  return history.map((r) => ({ itemId: String(r.movieId), type: MOVIELENS_TYPES[typeOf(r) - 1] }));
}

async function main(): Promise<void> {
  const arg = (name: string, fallback: string): string => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
  };
  const { loadMovieLens, MOVIELENS_DIR } = await import('./data/movielens');
  const { catalogIndexOf, movieLensIndex } = await import('./data/ml-index');
  const { splitLeaveLastOut } = await import('./data/split');
  const { loadNodeEncoder } = await import('../support/node-models');
  const ml = loadMovieLens(resolve(arg('movielens', MOVIELENS_DIR)));
  const catalogFile = arg('catalog', '');
  const index = catalogFile ? await catalogIndexOf(JSON.parse(readFileSync(catalogFile, 'utf8')) as CatalogItem[]) : await movieLensIndex(ml);
  const encoder = await loadNodeEncoder();
  const info = { name: encoder.info.name, modelHash: encoder.info.modelHash };
  await encoder.dispose();
  const out = resolve(arg('out', join('public', 'models', 'sequence-movielens')));
  const work = join(resolve('.cache'), `sequence-input-${process.pid}`);
  writeTrainerInput(work, {
    items: index.items.map((it) => it.id),
    vectors: index.matrix,
    encoder: info,
    typeNames: MOVIELENS_TYPES,
    users: movieLensUsers(splitLeaveLastOut(ml.ratings), index),
  });
  runTrainer(work, out, ['--name', arg('name', 'sequence-movielens'), '--seed', arg('seed', '42'), ...MOVIELENS_TRAINING], true);
}

if (process.argv[1]?.endsWith('sequence-model.ts')) await main();
