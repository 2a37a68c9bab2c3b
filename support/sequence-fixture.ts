/**
 * Test helper: the behaviour model's tiny fixture (40 items with 8-dim text vectors; 60 users walk
 * items 0-29 in order, so item i is followed by i + 1; items 30-39 never occur), trained with
 * Debian's PyTorch in a few seconds (full softmax, 16 dims, windows of 12) with PyTorch's own
 * outputs for CHECK in reference.json. Shared by test/sequence-model.test.ts and the Chromium test.
 */
import { join } from 'node:path';
import { matrixFromRows, type ItemMatrix } from '../src/math/matrix';
import { mulberry32 } from '../src/math/random';
import type { SequenceEvent } from '../src/ranking/sequence-model';
import { runTrainer, writeTrainerInput, type TrainerUser } from '../tools/sequence-model';

export const ITEMS = 40;
export const TEXT_DIMS = 8;
export const MAX_LEN = 12;
export const TYPES = ['view', 'like'];
export const ENCODER = { name: 'fixture-encoder', modelHash: 'f'.repeat(64) };
export const ids = Array.from({ length: ITEMS }, (_, i) => `m${i}`);

function unitVectors(): ItemMatrix {
  const rand = mulberry32(7);
  const rows = ids.map(() => {
    const v = Float32Array.from({ length: TEXT_DIMS }, () => rand() * 2 - 1);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  return matrixFromRows(rows, TEXT_DIMS);
}
export const vectors = unitVectors();

function fixtureUsers(): TrainerUser[] {
  const rand = mulberry32(11);
  return Array.from({ length: 60 }, () => {
    const start = Math.floor(rand() * 30);
    const length = 4 + Math.floor(rand() * 11);
    const items = Array.from({ length }, (_, k) => (start + k) % 30);
    const types = items.map(() => 1 + Math.floor(rand() * 2));
    return { items: items.slice(0, -1), types: types.slice(0, -1), validation: { item: items[length - 1], type: types[length - 1] } };
  });
}

/** Histories PyTorch answers in reference.json: short, with a never-seen item (35), and longer than MAX_LEN. */
export const CHECK: [number[], number[]][] = [
  [
    [1, 2, 3],
    [1, 2, 1],
  ],
  [
    [35, 5, 6, 7],
    [1, 1, 2, 2],
  ],
  [Array.from({ length: 20 }, (_, k) => k % 30), Array.from({ length: 20 }, (_, k) => 1 + (k % 2))],
];

/** What reference.json holds per CHECK history. */
export interface Reference {
  userState: number[];
  conversionState: number[];
  top10: number[];
  scores: number[];
}

export const eventsOf = ([rows, types]: [number[], number[]]): SequenceEvent[] => rows.map((r, i) => ({ itemId: ids[r], type: TYPES[types[i] - 1] }));

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Trains the fixture model into `<dir>/model` (its input in `<dir>/input`); returns the model folder. */
export function trainFixtureModel(dir: string): string {
  const input = join(dir, 'input');
  const model = join(dir, 'model');
  writeTrainerInput(input, { items: ids, vectors, encoder: ENCODER, typeNames: TYPES, users: fixtureUsers(), check: CHECK });
  runTrainer(input, model, [
    ...['--dims', '16', '--max-len', String(MAX_LEN), '--epochs', '80', '--patience', '8', '--lr', '0.01'],
    // int8 weights forced (the default, auto, ships them only within 1e-3 of float weights): the parity tests cover the int8 graph
    ...['--negatives', '0', '--batch', '16', '--heads', '2', '--weights', 'int8', '--reference'],
  ]);
  return model;
}
