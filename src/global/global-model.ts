/**
 * The site's global model: a non-personal static asset built from aggregate,
 * anonymous interaction logs (tools/build-global.ts). It holds, per item, its
 * strongest item-to-item neighbours (EASE), its most frequent next items
 * (sequence transitions) and a time-decayed popularity. The engine scores a
 * visitor's own history against it on the device; no personal data is in it.
 *
 * Binary layout of global.bin (little-endian):
 *   magic "ODRG", u32 version=1, u32 rows, u32 k, u32 kt,
 *   u32 neighbours[rows*k], f32 weights[rows*k],
 *   u32 next[rows*kt], f32 nextWeights[rows*kt], f32 popularity[rows]
 * A weight of 0 marks an empty slot. items.json lists the row ids.
 */
import { RecommenderError } from '../errors';
import { openModelFolder, type ModelFileReader } from '../runtime/model-files';

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
  const bad = (why: string): RecommenderError => new RecommenderError('model_load_failed', `The global model is malformed: ${why}.`, 'Rebuild it with npm run build:global.');
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

/** Asset row -> catalog index (-1 when the catalog lacks the item). */
export function mapToCatalog(model: GlobalModel, indexOf: ReadonlyMap<string, number>): Int32Array {
  return Int32Array.from(model.itemIds, (id) => indexOf.get(id) ?? -1);
}

/** A global model placed onto a catalog. */
export interface GlobalContext {
  model: GlobalModel;
  rowToCatalog: Int32Array;
  rowOf: Map<string, number>;
  /** Divide the global scores by these instead of their maxima over this index (a sub-index of candidates passes the whole catalog's). */
  scale?: { neighbour: number; next: number };
}

/** The global model placed onto a catalog (its rows matched to catalog indices). */
export function placeGlobalModel(model: GlobalModel, indexOf: ReadonlyMap<string, number>): GlobalContext {
  return { model, rowToCatalog: mapToCatalog(model, indexOf), rowOf: new Map(model.itemIds.map((id, r) => [id, r] as const)) };
}

export interface SequenceConfig {
  /** Each older position in the history multiplies its weight by this. */
  decay: number;
  /** Lowest position weight, so old history still counts a little. */
  floor: number;
  /** How many of the most recent items feed the next-item transitions. */
  recentForNext: number;
}

export const DEFAULT_SEQUENCE_CONFIG: SequenceConfig = { decay: 0.9, floor: 0.05, recentForNext: 3 };

export interface GlobalScores {
  /** Item-to-item score from the whole (recency-weighted) history. */
  neighbour: Float32Array;
  /** Next-item score from the most recent items. */
  next: Float32Array;
  /** Popularity per catalog item. */
  popularity: Float32Array;
}

/**
 * Scores every catalog item from the visitor's ordered history (oldest first;
 * `weight` = how strong the interaction was). Position decay makes recent items
 * count more: the order of a history carries a lot of signal.
 */
export function globalScores(
  model: GlobalModel,
  rowToCatalog: Int32Array,
  catalogSize: number,
  sequence: readonly { itemId: string; weight: number }[],
  rowOf: Map<string, number>,
  config: SequenceConfig = DEFAULT_SEQUENCE_CONFIG,
): GlobalScores {
  const neighbour = new Float32Array(catalogSize);
  const next = new Float32Array(catalogSize);
  const popularity = new Float32Array(catalogSize);
  for (let r = 0; r < model.rows; r++) {
    const c = rowToCatalog[r];
    if (c >= 0) popularity[c] = model.popularity[r];
  }
  const n = sequence.length;
  for (let p = 0; p < n; p++) {
    const { itemId, weight } = sequence[p];
    const r = rowOf.get(itemId);
    if (r === undefined || weight <= 0) continue;
    const age = n - 1 - p;
    const w = weight * Math.max(config.floor, Math.pow(config.decay, age));
    const base = r * model.k;
    for (let t = 0; t < model.k; t++) {
      const wt = model.weights[base + t];
      if (wt === 0) break;
      const c = rowToCatalog[model.neighbours[base + t]];
      if (c >= 0) neighbour[c] += w * wt;
    }
    if (age < config.recentForNext) {
      const bt = r * model.kt;
      const wr = weight * Math.pow(0.5, age);
      for (let t = 0; t < model.kt; t++) {
        const wt = model.nextWeights[bt + t];
        if (wt === 0) break;
        const c = rowToCatalog[model.next[bt + t]];
        if (c >= 0) next[c] += wr * wt;
      }
    }
  }
  return { neighbour, next, popularity };
}

/** Per-history-item share of a candidate's neighbour score, for "because you watched X" explanations. */
export function neighbourContributions(
  model: GlobalModel,
  rowOf: Map<string, number>,
  candidateId: string,
  sequence: readonly { itemId: string; weight: number }[],
  config: SequenceConfig = DEFAULT_SEQUENCE_CONFIG,
): { itemId: string; weight: number }[] {
  const target = rowOf.get(candidateId);
  if (target === undefined) return [];
  const out: { itemId: string; weight: number }[] = [];
  const n = sequence.length;
  sequence.forEach(({ itemId, weight }, p) => {
    const r = rowOf.get(itemId);
    if (r === undefined || weight <= 0) return;
    const w = weight * Math.max(config.floor, Math.pow(config.decay, n - 1 - p));
    for (let t = 0; t < model.k; t++) {
      const wt = model.weights[r * model.k + t];
      if (wt === 0) break;
      if (model.neighbours[r * model.k + t] === target && wt > 0) out.push({ itemId, weight: w * wt });
    }
  });
  const total = out.reduce((s, x) => s + x.weight, 0);
  return out.sort((a, b) => b.weight - a.weight).map((x) => ({ itemId: x.itemId, weight: total > 0 ? x.weight / total : 0 }));
}

/** Loads a global model folder (manifest.json, global.bin, items.json), checking every file's SHA-256. */
export async function loadGlobalModel(reader: ModelFileReader, where: string): Promise<GlobalModel> {
  const folder = await openModelFolder(reader, where);
  if (folder.manifest.kind !== 'global-model') {
    throw new RecommenderError('model_load_failed', `${where} is a ${folder.manifest.kind}, not a global model.`, 'Point globalModel at a folder written by npm run build:global.');
  }
  const [bin, items] = await Promise.all([folder.read(folder.manifest.model), folder.read('items.json')]);
  let ids: unknown;
  try {
    ids = JSON.parse(new TextDecoder().decode(items));
  } catch {
    ids = null;
  }
  if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) {
    throw new RecommenderError('model_load_failed', `${where}/items.json is not a list of item ids.`, 'Rebuild it with npm run build:global.');
  }
  return decodeGlobalModel(bin, ids);
}
