/**
 * File format of the global model (global.bin + items.json of a model folder).
 *
 * Binary layout of global.bin (little-endian):
 *   magic "ODRG", u32 version=1, u32 rows, u32 k, u32 kt,
 *   u32 neighbours[rows*k], f32 weights[rows*k],
 *   u32 next[rows*kt], f32 nextWeights[rows*kt], f32 popularity[rows]
 * A weight of 0 marks an empty slot. items.json lists the row ids.
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
