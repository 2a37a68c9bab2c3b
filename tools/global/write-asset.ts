/**
 * Writes a global model folder (the static asset the engine loads): the model encoded as the
 * compact version 2 (src/formats/global-model-file.ts) in global.bin, or cut into shards
 * global-000.bin, global-001.bin, ... (listed in that order in the manifest's `shards`) when
 * larger than `shardBytes`; items.json in the asset's row order, manifest.json (SHA-256 and
 * size of each file) and MODEL_CARD.md.
 * The folder is written next to the target and renamed over it only when every file
 * is in place, so a failed build leaves the previous asset untouched.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DEFAULT_ASSET_OPTIONS, encodeGlobalAsset, type GlobalAssetOptions, type GlobalModel } from '../../src/formats/global-model-file';
import { manifestHash, sha256Hex, type ModelManifest } from '../../src/formats/manifest';

export interface GlobalAssetInfo {
  /** The asset's name (manifest and model card); default: the folder's name. */
  name?: string;
  /** Build settings and input counts, recorded in the manifest's `build`. */
  build: Record<string, unknown>;
  /** Markdown lines (bullets) describing what the rows hold, for the model card. */
  describe: (files: Record<string, number>) => string;
  /** Where the logs came from, for the model card. */
  source: string;
  /** The asset's encoding (neighbour counts, weight levels); default DEFAULT_ASSET_OPTIONS. */
  asset?: Partial<GlobalAssetOptions>;
  /** Largest model file in bytes; a larger asset is cut into shards (default DEFAULT_SHARD_BYTES). */
  shardBytes?: number;
}

/**
 * "k100,kt30,mk12,mt6,l16" -> asset options: k, kt, b (boughtK), mk (meanK), mt (meanKt), mb (meanBoughtK),
 * min (minPerRow), l (levels); the syntax of npm run eval -- ranking --asset=... and tools/measure-global-asset.ts.
 */
export function parseAssetSettings(text: string): Partial<GlobalAssetOptions> {
  const keys = { k: 'k', kt: 'kt', b: 'boughtK', l: 'levels', mk: 'meanK', mt: 'meanKt', mb: 'meanBoughtK', min: 'minPerRow' } as const;
  const out: Partial<GlobalAssetOptions> = {};
  for (const part of text.split(',')) {
    const m = /^(min|mk|mt|mb|kt|k|b|l)(\d+)$/.exec(part);
    if (!m) throw new Error(`"${part}" is not k<n>, kt<n>, b<n>, mk<n>, mt<n>, mb<n>, min<n> or l<n> (e.g. k100,kt30,mk12,mt6,l16).`);
    out[keys[m[1] as keyof typeof keys]] = Number(m[2]);
  }
  return out;
}

/** 8 MB: one file up to this size, shards beyond it. */
export const DEFAULT_SHARD_BYTES = 8 * 1024 * 1024;

/** The asset's bytes as files: global.bin, or global-000.bin, ... of at most `shardBytes` each, in order. */
export function shardFiles(bytes: Uint8Array, shardBytes: number): [string, Uint8Array][] {
  if (!Number.isInteger(shardBytes) || shardBytes < 1) throw new RangeError(`shardBytes must be a positive integer, not ${shardBytes}.`);
  if (bytes.length <= shardBytes) return [['global.bin', bytes]];
  const out: [string, Uint8Array][] = [];
  for (let o = 0, i = 0; o < bytes.length; o += shardBytes, i++)
    out.push([`global-${String(i).padStart(3, '0')}.bin`, bytes.subarray(o, o + shardBytes)]);
  return out;
}

/** Encodes `model` and writes its folder at `out` (replacing a previous one only once complete). Returns the bytes per file. */
export async function writeGlobalAsset(out: string, model: GlobalModel, info: GlobalAssetInfo): Promise<Record<string, number>> {
  const dir = resolve(out);
  const name = info.name ?? basename(dir);
  const asset = { ...DEFAULT_ASSET_OPTIONS, ...info.asset };
  const { bytes, itemIds } = encodeGlobalAsset(model, asset);
  const shards = shardFiles(bytes, info.shardBytes ?? DEFAULT_SHARD_BYTES);
  const encoded: Record<string, Uint8Array> = {
    ...Object.fromEntries(shards),
    'items.json': new TextEncoder().encode(`${JSON.stringify(itemIds)}\n`),
  };
  const files: ModelManifest['files'] = {};
  for (const [file, bytes] of Object.entries(encoded)) files[file] = { sha256: await sha256Hex(bytes), bytes: bytes.length };
  const manifest: ModelManifest = {
    format: 'on-device-recs-model/v1',
    name,
    kind: 'global-model',
    model: shards[0][0],
    ...(shards.length > 1 ? { shards: shards.map(([f]) => f) } : {}),
    inputs: {},
    outputs: {},
    rows: model.rows,
    assetVersion: 2,
    neighboursPerItem: Math.min(model.k, asset.k),
    transitionsPerItem: Math.min(model.kt, asset.kt),
    ...(model.bought ? { boughtPerItem: Math.min(model.bought.k, asset.boughtK) } : {}),
    weightLevels: asset.levels,
    assetOptions: asset,
    build: info.build,
    files,
    hash: await manifestHash(files),
  };
  const sizes = Object.fromEntries(Object.entries(encoded).map(([f, b]) => [f, b.length]));
  const staging = join(dirname(dir), `.${basename(dir)}.partial-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  for (const [file, bytes] of Object.entries(encoded)) writeFileSync(join(staging, file), bytes);
  writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(
    join(staging, 'MODEL_CARD.md'),
    `# Global model: ${name}

A non-personal asset the engine loads as static files, built by \`npm run build:global\`
from aggregate, anonymous interaction logs (${info.source}). For ${model.rows} items it holds:

${info.describe(sizes)}

Encoded as the compact asset (version 2, src/formats/global-model-file.ts): per item at most ${Math.min(asset.k, model.k)} item-to-item
neighbours and ${Math.min(asset.kt, model.kt)} next items${model.bought ? ` and ${Math.min(asset.boughtK, model.bought.k)} co-purchases` : ''}, about ${asset.meanK} and ${asset.meanKt}${model.bought ? ` and ${asset.meanBoughtK}` : ''} on average
(the strongest, more for popular items, at least ${asset.minPerRow}), weights in ${asset.levels} log-scale levels${shards.length > 1 ? `; cut into ${shards.length} shards that every device downloads in full, in order` : ''}.

No user id or per-user sequence is stored. Files: ${Object.entries(sizes)
      .map(([f, n]) => `${f} ${(n / 1e6).toFixed(2)} MB`)
      .join(', ')}.
${/movielens/i.test(info.source) ? '\nSource data: MovieLens latest-small (GroupLens Research; research and non-commercial use only, see public/catalog/LICENSE-MovieLens.txt).\n' : ''}
Quality on MovieLens latest-small under docs/evaluation.md: see \`npm run eval -- ranking data/movielens-latest-small\`.
`,
  );
  const old = `${staging}.old`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(staging, dir);
  rmSync(old, { recursive: true, force: true });
  return sizes;
}
