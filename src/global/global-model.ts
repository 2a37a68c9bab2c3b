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
import {
  decodeBoughtTogether,
  decodeGlobalAsset,
  decodeGlobalModel,
  globalModelVersion,
  globalRowBuffer,
  readGlobalRow,
  toGlobalAsset,
  type GlobalAsset,
  type GlobalAssetOptions,
  type GlobalModel,
} from '../formats/global-model-file';

export type { GlobalAsset, GlobalModel } from '../formats/global-model-file';
export { globalRowBuffer, readGlobalRow } from '../formats/global-model-file';

/** Asset row -> catalog index (-1 when the catalog lacks the item). */
export function mapToCatalog(model: GlobalAsset, indexOf: ReadonlyMap<string, number>): Int32Array {
  return Int32Array.from(model.itemIds, (id) => indexOf.get(id) ?? -1);
}

/** A global model placed onto a catalog. */
export interface GlobalContext {
  model: GlobalAsset;
  rowToCatalog: Int32Array;
  rowOf: Map<string, number>;
  /** Divide the global scores by these instead of their maxima over this index (a sub-index of candidates passes the whole catalog's). */
  scale?: { neighbour: number; next: number };
}

const isDense = (m: GlobalModel | GlobalAsset): m is GlobalModel => 'neighbours' in m;

/**
 * The global model placed onto a catalog (its rows matched to catalog indices). A dense model
 * (straight from a build) is first encoded and decoded as the asset (`options`, default
 * DEFAULT_ASSET_OPTIONS), so what is scored is what a device would load.
 */
export function placeGlobalModel(
  model: GlobalModel | GlobalAsset,
  indexOf: ReadonlyMap<string, number>,
  options: Partial<GlobalAssetOptions> = {},
): GlobalContext {
  const asset = isDense(model) ? toGlobalAsset(model, options) : model;
  return { model: asset, rowToCatalog: mapToCatalog(asset, indexOf), rowOf: new Map(asset.itemIds.map((id, r) => [id, r] as const)) };
}

/**
 * One row's item-to-item list of `target` (a catalog index): its co-visitation ('viewed', EASE) or
 * co-purchase ('bought') neighbours as (catalog index, weight), best first (ties: the lower row);
 * empty when the model lacks the item or the list.
 */
export function neighboursOf(global: GlobalContext | null, itemId: string, kind: 'viewed' | 'bought'): { item: number; weight: number }[] {
  const r = global?.rowOf.get(itemId);
  if (!global || r === undefined) return [];
  const row = globalRowBuffer(global.model);
  const n = readGlobalRow(global.model, kind === 'viewed' ? 'neighbours' : 'bought', r, row);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => row.weights[b] - row.weights[a] || row.ids[a] - row.ids[b]);
  return order.map((i) => ({ item: global.rowToCatalog[row.ids[i]], weight: row.weights[i] }));
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
  model: GlobalAsset,
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
  const row = globalRowBuffer(model);
  for (let p = 0; p < n; p++) {
    const { itemId, weight } = sequence[p];
    const r = rowOf.get(itemId);
    if (r === undefined || weight <= 0) continue;
    const age = n - 1 - p;
    const w = weight * Math.max(config.floor, Math.pow(config.decay, age));
    for (let t = 0, m = readGlobalRow(model, 'neighbours', r, row); t < m; t++) {
      const c = rowToCatalog[row.ids[t]];
      if (c >= 0) neighbour[c] += w * row.weights[t];
    }
    if (age < config.recentForNext) {
      const wr = weight * Math.pow(0.5, age);
      for (let t = 0, m = readGlobalRow(model, 'next', r, row); t < m; t++) {
        const c = rowToCatalog[row.ids[t]];
        if (c >= 0) next[c] += wr * row.weights[t];
      }
    }
  }
  return { neighbour, next, popularity };
}

/** Per-history-item share of a candidate's neighbour score, for "because you watched X" explanations. */
export function neighbourContributions(
  model: GlobalAsset,
  rowOf: Map<string, number>,
  candidateId: string,
  sequence: readonly { itemId: string; weight: number }[],
  config: SequenceConfig = DEFAULT_SEQUENCE_CONFIG,
): { itemId: string; weight: number }[] {
  const target = rowOf.get(candidateId);
  if (target === undefined) return [];
  const out: { itemId: string; weight: number }[] = [];
  const n = sequence.length;
  const row = globalRowBuffer(model);
  sequence.forEach(({ itemId, weight }, p) => {
    const r = rowOf.get(itemId);
    if (r === undefined || weight <= 0) return;
    const w = weight * Math.max(config.floor, Math.pow(config.decay, n - 1 - p));
    for (let t = 0, m = readGlobalRow(model, 'neighbours', r, row); t < m; t++)
      if (row.ids[t] === target) out.push({ itemId, weight: w * row.weights[t] });
  });
  const total = out.reduce((s, x) => s + x.weight, 0);
  return out.sort((a, b) => b.weight - a.weight).map((x) => ({ itemId: x.itemId, weight: total > 0 ? x.weight / total : 0 }));
}

/** The model file(s) a global model's manifest lists, in their fixed order: `shards` when the asset was split, else `model`. */
function modelFiles(manifest: { model: string; files: Record<string, unknown>; shards?: unknown }, where: string): string[] {
  if (manifest.shards === undefined) return [manifest.model];
  const shards = manifest.shards;
  if (!Array.isArray(shards) || shards.length === 0 || !shards.every((f) => typeof f === 'string' && Object.hasOwn(manifest.files, f)))
    throw new RecommenderError(
      'model_load_failed',
      `${where}/manifest.json lists shards that are not a list of the folder's files.`,
      'Rebuild it with npm run build:global.',
    );
  return shards as string[];
}

/**
 * Loads a global model folder (manifest.json, items.json, global.bin or its shards in the
 * manifest's order, and bought.bin when a version 1 folder lists it), checking every file's
 * SHA-256. Every file is requested, in that fixed order, whoever the visitor is: which
 * shards hold a visitor's items never shows in what the device fetches.
 */
export async function loadGlobalModel(reader: ModelFileReader, where: string): Promise<GlobalAsset> {
  const folder = await openModelFolder(reader, where);
  if (folder.manifest.kind !== 'global-model') {
    throw new RecommenderError(
      'model_load_failed',
      `${where} is a ${folder.manifest.kind}, not a global model.`,
      'Point globalModel at a folder written by npm run build:global.',
    );
  }
  const files = modelFiles(folder.manifest, where);
  const hasBought = Object.hasOwn(folder.manifest.files, 'bought.bin');
  const [items, boughtBin, ...parts] = await Promise.all([
    folder.read('items.json'),
    hasBought ? folder.read('bought.bin') : Promise.resolve(null),
    ...files.map((f) => folder.read(f)),
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
  const bin = parts.length === 1 ? parts[0] : concat(parts);
  const name = files.length === 1 ? `${where}/${files[0]}` : `${where}/${files[0]}...${files[files.length - 1]}`;
  if (globalModelVersion(bin) === 1) {
    // a folder from before the compact asset: decoded, then held as the asset would hold it
    const dense = decodeGlobalModel(bin, ids, name);
    return toGlobalAsset(boughtBin ? { ...dense, bought: decodeBoughtTogether(boughtBin, dense.rows) } : dense);
  }
  return decodeGlobalAsset(bin, ids, name);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
