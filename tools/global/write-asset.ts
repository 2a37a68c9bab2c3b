/**
 * Writes a global model folder (the static asset the engine loads): the encoded model
 * files, items.json, manifest.json (SHA-256 and size of each file) and MODEL_CARD.md.
 * The folder is written next to the target and renamed over it only when every file
 * is in place, so a failed build leaves the previous asset untouched.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { encodeBoughtTogether, encodeGlobalModel, type GlobalModel } from '../../src/formats/global-model-file';
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
}

/** Encodes `model` and writes its folder at `out` (replacing a previous one only once complete). Returns the bytes per file. */
export async function writeGlobalAsset(out: string, model: GlobalModel, info: GlobalAssetInfo): Promise<Record<string, number>> {
  const dir = resolve(out);
  const name = info.name ?? basename(dir);
  const encoded: Record<string, Uint8Array> = {
    'global.bin': encodeGlobalModel(model),
    'items.json': new TextEncoder().encode(`${JSON.stringify(model.itemIds)}\n`),
  };
  if (model.bought) encoded['bought.bin'] = encodeBoughtTogether(model.rows, model.bought);
  const files: ModelManifest['files'] = {};
  for (const [file, bytes] of Object.entries(encoded)) files[file] = { sha256: await sha256Hex(bytes), bytes: bytes.length };
  const manifest: ModelManifest = {
    format: 'on-device-recs-model/v1',
    name,
    kind: 'global-model',
    model: 'global.bin',
    inputs: {},
    outputs: {},
    rows: model.rows,
    neighboursPerItem: model.k,
    transitionsPerItem: model.kt,
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
