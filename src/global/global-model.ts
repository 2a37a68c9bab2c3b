/**
 * The site's global model on the device: a non-personal static asset built from
 * aggregate, anonymous interaction logs (tools/build-global.ts; file format in
 * src/formats/global-model-file.ts). It holds, per item, its strongest
 * item-to-item neighbours (EASE), its most frequent next items (sequence
 * transitions), a time-decayed popularity and, when the site's logs held
 * purchases, its co-purchase neighbours ("bought together", bought.bin). The engine scores a visitor's own
 * history against it on the device; no personal data is in it.
 */
import { RecommenderError } from '../errors';
import { openModelFolder, type ModelFileReader } from '../runtime/model-files';
import { decodeBoughtTogether, decodeGlobalModel, type GlobalModel } from '../formats/global-model-file';

export type { GlobalModel } from '../formats/global-model-file';

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

/**
 * One row's item-to-item list of `target` (a catalog index): its co-visitation ('viewed', EASE) or
 * co-purchase ('bought') neighbours as (catalog index, weight) in the model's order, best first;
 * empty when the model lacks the item or the list.
 */
export function neighboursOf(global: GlobalContext | null, itemId: string, kind: 'viewed' | 'bought'): { item: number; weight: number }[] {
  const r = global?.rowOf.get(itemId);
  if (!global || r === undefined) return [];
  const m = global.model;
  const list =
    kind === 'viewed' ? { k: m.k, ids: m.neighbours, ws: m.weights } : m.bought && { k: m.bought.k, ids: m.bought.neighbours, ws: m.bought.weights };
  const out: { item: number; weight: number }[] = [];
  // a weight of 0 marks an empty slot (the rest of the row is empty too)
  for (let t = 0; list && t < list.k && list.ws[r * list.k + t] > 0; t++)
    out.push({ item: global.rowToCatalog[list.ids[r * list.k + t]], weight: list.ws[r * list.k + t] });
  return out;
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

/** Loads a global model folder (manifest.json, global.bin, items.json, and bought.bin when listed), checking every file's SHA-256. */
export async function loadGlobalModel(reader: ModelFileReader, where: string): Promise<GlobalModel> {
  const folder = await openModelFolder(reader, where);
  if (folder.manifest.kind !== 'global-model') {
    throw new RecommenderError(
      'model_load_failed',
      `${where} is a ${folder.manifest.kind}, not a global model.`,
      'Point globalModel at a folder written by npm run build:global.',
    );
  }
  const hasBought = Object.hasOwn(folder.manifest.files, 'bought.bin');
  const [bin, items, boughtBin] = await Promise.all([
    folder.read(folder.manifest.model),
    folder.read('items.json'),
    hasBought ? folder.read('bought.bin') : Promise.resolve(null),
  ]);
  let ids: unknown;
  try {
    ids = JSON.parse(new TextDecoder().decode(items));
  } catch {
    ids = null;
  }
  if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) {
    throw new RecommenderError('model_load_failed', `${where}/items.json is not a list of item ids.`, 'Rebuild it with npm run build:global.');
  }
  const model = decodeGlobalModel(bin, ids);
  return boughtBin ? { ...model, bought: decodeBoughtTogether(boughtBin, model.rows) } : model;
}
