/**
 * File format of the global model (global.bin + items.json of a model folder).
 *
 * Binary layout of global.bin (little-endian):
 *   magic "ODRG", u32 version=1, u32 rows, u32 k, u32 kt,
 *   u32 neighbours[rows*k], f32 weights[rows*k],
 *   u32 next[rows*kt], f32 nextWeights[rows*kt], f32 popularity[rows]
 * A weight of 0 marks an empty slot. items.json lists the row ids.
 *
 * Optional bought.bin ("bought together", written only when the logs held co-purchases):
 *   magic "ODRB", u32 version=1, u32 rows, u32 k, u32 neighbours[rows*k], f32 weights[rows*k]
 */
import { RecommenderError } from '../errors';

export interface GlobalModel {
  itemIds: string[];
  rows: number;
  /** Neighbours per row (EASE). */
  k: number;
  neighbours: Uint32Array;
  weights: Float32Array;
  /** Next-item transitions per row. */
  kt: number;
  next: Uint32Array;
  nextWeights: Float32Array;
  /** Time-decayed popularity in [0, 1]. */
  popularity: Float32Array;
  /** Co-purchase neighbours per row ("bought together"), when the logs held purchases (bought.bin); same layout as neighbours. */
  bought?: { k: number; neighbours: Uint32Array; weights: Float32Array };
}

const MAGIC = 0x4752444f; // "ODRG" little-endian

export function encodeGlobalModel(m: GlobalModel): Uint8Array {
  const words = 5 + 2 * m.rows * m.k + 2 * m.rows * m.kt + m.rows;
  const buf = new ArrayBuffer(words * 4);
  const u32 = new Uint32Array(buf);
  const f32 = new Float32Array(buf);
  u32.set([MAGIC, 1, m.rows, m.k, m.kt], 0);
  let o = 5;
  u32.set(m.neighbours, o);
  o += m.rows * m.k;
  f32.set(m.weights, o);
  o += m.rows * m.k;
  u32.set(m.next, o);
  o += m.rows * m.kt;
  f32.set(m.nextWeights, o);
  o += m.rows * m.kt;
  f32.set(m.popularity, o);
  return new Uint8Array(buf);
}

const BOUGHT_MAGIC = 0x4252444f; // "ODRB" little-endian

/** bought.bin: the co-purchase neighbours of a model with `rows` rows. */
export function encodeBoughtTogether(rows: number, bought: NonNullable<GlobalModel['bought']>): Uint8Array {
  const buf = new ArrayBuffer((4 + 2 * rows * bought.k) * 4);
  const u32 = new Uint32Array(buf);
  u32.set([BOUGHT_MAGIC, 1, rows, bought.k], 0);
  u32.set(bought.neighbours, 4);
  new Float32Array(buf).set(bought.weights, 4 + rows * bought.k);
  return new Uint8Array(buf);
}

/** Reads bought.bin for a model of `rows` rows (RecommenderError model_load_failed when it does not fit). */
export function decodeBoughtTogether(bin: Uint8Array, rows: number): NonNullable<GlobalModel['bought']> {
  const bad = (why: string): RecommenderError =>
    new RecommenderError('model_load_failed', `The global model's bought.bin is malformed: ${why}.`, 'Rebuild it with npm run build:global.');
  if (bin.byteLength < 16 || bin.byteLength % 4 !== 0) throw bad('truncated file');
  const copy = bin.slice();
  const u32 = new Uint32Array(copy.buffer);
  if (u32[0] !== BOUGHT_MAGIC || u32[1] !== 1) throw bad('unknown header');
  const k = u32[3];
  if (u32[2] !== rows) throw bad(`it has ${u32[2]} rows for a model of ${rows}`);
  if (4 + 2 * rows * k !== u32.length) throw bad('size does not match its header');
  const neighbours = u32.slice(4, 4 + rows * k);
  const weights = new Float32Array(copy.buffer).slice(4 + rows * k);
  for (let i = 0; i < neighbours.length; i++) if (neighbours[i] >= rows) throw bad('a neighbour index is out of range');
  return { k, neighbours, weights };
}

export function decodeGlobalModel(bin: Uint8Array, itemIds: string[]): GlobalModel {
  const bad = (why: string): RecommenderError =>
    new RecommenderError('model_load_failed', `The global model is malformed: ${why}.`, 'Rebuild it with npm run build:global.');
  if (bin.byteLength < 20 || bin.byteLength % 4 !== 0) throw bad('truncated file');
  const copy = bin.slice();
  const u32 = new Uint32Array(copy.buffer);
  const f32 = new Float32Array(copy.buffer);
  if (u32[0] !== MAGIC || u32[1] !== 1) throw bad('unknown header');
  const [rows, k, kt] = [u32[2], u32[3], u32[4]];
  if (5 + 2 * rows * k + 2 * rows * kt + rows !== u32.length) throw bad('size does not match its header');
  if (itemIds.length !== rows) throw bad(`items.json lists ${itemIds.length} ids for ${rows} rows`);
  let o = 5;
  const take = <T extends Uint32Array | Float32Array>(src: T, n: number): T => {
    const out = src.slice(o, o + n) as T;
    o += n;
    return out;
  };
  const neighbours = take(u32, rows * k);
  const weights = take(f32, rows * k);
  const next = take(u32, rows * kt);
  const nextWeights = take(f32, rows * kt);
  const popularity = take(f32, rows);
  for (const idx of [neighbours, next]) for (let i = 0; i < idx.length; i++) if (idx[i] >= rows) throw bad('a neighbour index is out of range');
  return { itemIds, rows, k, neighbours, weights, kt, next, nextWeights, popularity };
}
