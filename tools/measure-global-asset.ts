/**
 * node --import tsx tools/measure-global-asset.ts [--items 100000] [--seed 7] [--settings k20,kt10,b20,l64;k50,kt20,l64] [--json]
 *
 * Sizes of the compact global asset (src/formats/global-model-file.ts, version 2) at a shop's
 * scale, per encoder setting: gzip bytes per item (what a visitor downloads; level 6 as web
 * servers use, and 9), file bytes per item, decoded bytes per item (the typed arrays the worker
 * holds: row records, a u32 offset and an f32 popularity per row, the weight tables; the item id
 * strings not counted), and the decode time.
 *
 * The 100k model is synthesised from the real one (a model with realistic structure, not random
 * lists): the dense model `npm run eval -- ranking` builds from MovieLens latest-small's training
 * interactions (k 100, kt 30; from its .cache/) gives the lists; each synthetic item copies a
 * source movie that has a full neighbour list (the worst case for size: every item holds a full
 * list), popularity follows a power law (exponent 1) over the synthetic items, and each neighbour
 * or next item of the source becomes one of that movie's copies, drawn in proportion to the
 * copies' popularity (so, as on a real site, lists point at popular items more often). A
 * synthetic co-purchase list (the first half of the neighbours, integer counts) is measured too,
 * as sites with purchases have one. Seeded: the same flags print the same sizes.
 */
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import {
  DEFAULT_ASSET_OPTIONS,
  decodeGlobalAsset,
  encodeGlobalAsset,
  encodeGlobalModel,
  globalAssetBytes,
  type GlobalAssetOptions,
  type GlobalModel,
} from '../src/formats/global-model-file';
import { mulberry32 } from '../src/math/random';
import { loadMovieLens, MOVIELENS_DIR } from './data/movielens';
import { splitLeaveLastOut } from './data/split';
import { cachedGlobalModel } from './eval';
import type { LoggedInteraction } from './global/build';
import { parseAssetSettings as parseSettings } from './global/write-asset';

const log = (msg: string): void => void process.stderr.write(`[measure-global-asset] ${msg}\n`);

/** The dense model the ranking evaluation builds (cached under .cache/). */
export async function movieLensModel(): Promise<GlobalModel> {
  const training: LoggedInteraction[] = [];
  for (const s of splitLeaveLastOut(loadMovieLens(MOVIELENS_DIR).ratings))
    for (const r of s.train) training.push({ user: String(s.userId), item: String(r.movieId), timestamp: r.timestamp });
  return cachedGlobalModel(training);
}

/** A synthetic `items`-row model with the source's list structure (see the file comment). */
export function synthesiseModel(src: GlobalModel, items: number, seed: number, withBought: boolean): GlobalModel {
  const random = mulberry32(seed);
  const full = Array.from({ length: src.rows }, (_, r) => r).filter((r) => src.weights[r * src.k + src.k - 1] > 0);
  if (full.length === 0) throw new Error('the source model has no row with a full neighbour list');
  const sourceOf = Uint32Array.from({ length: items }, () => full[Math.floor(random() * full.length)]);
  // power-law popularity over a random order of the items
  const rank = Uint32Array.from({ length: items }, (_, i) => i);
  for (let i = items - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [rank[i], rank[j]] = [rank[j], rank[i]];
  }
  const popularity = Float32Array.from(rank, (r) => 1 / (1 + r));
  // copies of each source row, and a cumulative popularity to draw one in proportion
  const copies = new Map<number, { ids: number[]; cum: number[] }>();
  for (let i = 0; i < items; i++) {
    let c = copies.get(sourceOf[i]);
    if (!c) copies.set(sourceOf[i], (c = { ids: [], cum: [] }));
    c.ids.push(i);
    c.cum.push((c.cum.at(-1) ?? 0) + popularity[i]);
  }
  const copied = [...copies.keys()];
  const copyOf = (sourceRow: number): number => {
    // a neighbour whose movie has no copy is mapped onto a movie that has some
    const c = copies.get(sourceRow) ?? (copies.get(copied[sourceRow % copied.length]) as { ids: number[]; cum: number[] });
    const x = random() * (c.cum.at(-1) as number);
    let lo = 0;
    while (c.cum[lo] < x) lo++;
    return c.ids[lo];
  };
  const lists = (k: number, ids: Uint32Array, ws: Float32Array): { ids: Uint32Array; ws: Float32Array } => {
    const outIds = new Uint32Array(items * k);
    const outWs = new Float32Array(items * k);
    for (let i = 0; i < items; i++) {
      const s = sourceOf[i];
      const taken = new Set<number>([i]);
      let t = 0;
      for (let u = 0; u < k && ws[s * k + u] > 0; u++) {
        const to = copyOf(ids[s * k + u]);
        if (taken.has(to)) continue;
        taken.add(to);
        outIds[i * k + t] = to;
        outWs[i * k + t] = ws[s * k + u];
        t++;
      }
    }
    return { ids: outIds, ws: outWs };
  };
  const n = lists(src.k, src.neighbours, src.weights);
  const t = lists(src.kt, src.next, src.nextWeights);
  const itemIds = Array.from({ length: items }, (_, i) => `item-${i}`);
  const model: GlobalModel = {
    itemIds,
    rows: items,
    k: src.k,
    neighbours: n.ids,
    weights: n.ws,
    kt: src.kt,
    next: t.ids,
    nextWeights: t.ws,
    popularity,
  };
  if (!withBought) return model;
  const bk = Math.floor(src.k / 2);
  const bought = { k: bk, neighbours: new Uint32Array(items * bk), weights: new Float32Array(items * bk) };
  for (let i = 0; i < items; i++)
    for (let u = 0; u < bk; u++) {
      bought.neighbours[i * bk + u] = n.ids[i * src.k + u];
      bought.weights[i * bk + u] = n.ws[i * src.k + u] > 0 ? Math.max(1, Math.round(20 * Math.pow(u + 1, -0.8) * (0.5 + random()))) : 0;
    }
  return { ...model, bought };
}

export interface AssetSizes {
  settings: string;
  fileBytesPerItem: number;
  gzip6BytesPerItem: number;
  gzip9BytesPerItem: number;
  decodedBytesPerItem: number;
  decodeMs: number;
}

export function measure(model: GlobalModel, options: Partial<GlobalAssetOptions>, settings: string): AssetSizes {
  const { bytes, itemIds } = encodeGlobalAsset(model, options);
  const t0 = performance.now();
  const asset = decodeGlobalAsset(bytes, itemIds);
  const decodeMs = performance.now() - t0;
  const per = (n: number): number => Math.round((n / model.rows) * 10) / 10;
  return {
    settings,
    fileBytesPerItem: per(bytes.length),
    gzip6BytesPerItem: per(gzipSync(bytes, { level: 6 }).length),
    gzip9BytesPerItem: per(gzipSync(bytes, { level: 9 }).length),
    decodedBytesPerItem: per(globalAssetBytes(asset)),
    decodeMs: Math.round(decodeMs),
  };
}

const DEFAULT_SETTINGS =
  'k100,kt30,b50,l256;k50,kt20,b25,l64;k30,kt15,b15,l64;k20,kt10,b20,l256;k20,kt10,b20,l64;k20,kt10,b20,l16;k16,kt8,b16,l64;k12,kt6,b12,l64;k10,kt5,b10,l64';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      items: { type: 'string', default: '100000' },
      seed: { type: 'string', default: '7' },
      settings: { type: 'string', default: DEFAULT_SETTINGS },
      json: { type: 'boolean', default: false },
    },
  });
  const items = Number(values.items);
  if (!Number.isInteger(items) || items < 1) throw new Error(`--items must be a positive integer, not ${values.items}.`);
  const src = await movieLensModel();
  log(`source: MovieLens latest-small's dense model, ${src.rows} rows, k ${src.k}, kt ${src.kt}`);
  const rows: (AssetSizes & { bought: boolean })[] = [];
  for (const withBought of [false, true]) {
    const model = synthesiseModel(src, items, Number(values.seed), withBought);
    const v1 = encodeGlobalModel(model).length + (model.bought ? 16 + 8 * model.rows * model.bought.k : 0);
    log(`synthetic ${items}-item model${withBought ? ' with a co-purchase list' : ''}: version 1 would be ${(v1 / items).toFixed(0)} B/item`);
    for (const s of (values.settings as string).split(';')) {
      const r = { ...measure(model, parseSettings(s), s), bought: withBought };
      rows.push(r);
      log(JSON.stringify(r));
    }
  }
  const d = DEFAULT_ASSET_OPTIONS;
  console.log(`\nGlobal asset at ${items} synthetic items (default: k${d.k},kt${d.kt},b${d.boughtK},l${d.levels})`);
  console.log('| settings | co-purchase list | file B/item | gzip -6 B/item | gzip -9 B/item | decoded B/item | decode ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.settings} | ${r.bought ? 'yes' : 'no'} | ${r.fileBytesPerItem} | ${r.gzip6BytesPerItem} | ${r.gzip9BytesPerItem} | ${r.decodedBytesPerItem} | ${r.decodeMs} |`,
    );
  if (values.json) console.log(JSON.stringify({ items, seed: Number(values.seed), rows }));
}

if (process.argv[1]?.endsWith('measure-global-asset.ts')) await main();
