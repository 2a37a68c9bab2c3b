/**
 * node --import tsx tools/convert-global-asset.ts <version-1-folder> [<out-folder>] [--asset k20,kt10,b20,l16] [--shard-mb 8]
 *
 * Re-encodes a global model folder written before the compact asset (version 1: dense
 * global.bin, optional bought.bin) as version 2 without rebuilding it from the logs: the same
 * lists, kept and quantized by the asset's settings (default DEFAULT_ASSET_OPTIONS), the build
 * settings of its manifest kept. Writes over the folder itself when no out-folder is given (staged,
 * so a failure leaves it as it was). The engine also reads version 1 folders as they are.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeBoughtTogether, decodeGlobalModel, globalModelVersion } from '../src/formats/global-model-file';
import { parseManifest } from '../src/formats/manifest';
import { parseAssetSettings, writeGlobalAsset } from './global/write-asset';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { asset: { type: 'string' }, 'shard-mb': { type: 'string' } } });
const [input, output = input] = positionals;
if (!input) {
  process.stderr.write(
    'usage: node --import tsx tools/convert-global-asset.ts <version-1-folder> [<out-folder>] [--asset k20,kt10,b20,l16] [--shard-mb 8]\n',
  );
  process.exit(2);
}
const manifest = parseManifest(JSON.parse(readFileSync(join(input, 'manifest.json'), 'utf8')), join(input, 'manifest.json'));
const bin = new Uint8Array(readFileSync(join(input, manifest.model)));
if (globalModelVersion(bin) !== 1) {
  process.stderr.write(`${join(input, manifest.model)} is not a version 1 global model (version ${globalModelVersion(bin)}); nothing to convert.\n`);
  process.exit(1);
}
const ids = JSON.parse(readFileSync(join(input, 'items.json'), 'utf8')) as string[];
const dense = decodeGlobalModel(bin, ids, join(input, manifest.model));
const model = Object.hasOwn(manifest.files, 'bought.bin')
  ? { ...dense, bought: decodeBoughtTogether(new Uint8Array(readFileSync(join(input, 'bought.bin'))), dense.rows) }
  : dense;
const card = readFileSync(join(input, 'MODEL_CARD.md'), 'utf8');
// the old card's bullets describe what the build put in the rows
const bullets = card
  .split('\n')
  .filter((l) => l.startsWith('- ') || l.startsWith('  '))
  .join('\n');
const source = /interaction(?:s| logs)\s*\(([^)]*)\)/.exec(card.replace(/\n/g, ' '))?.[1] ?? 'aggregate logs';
const sizes = await writeGlobalAsset(output, model, {
  name: manifest.name ?? basename(output),
  build: { ...(manifest.build as Record<string, unknown>), convertedFrom: `version 1 (${manifest.hash.slice(0, 16)})` },
  describe: () => bullets,
  source,
  ...(values.asset ? { asset: parseAssetSettings(values.asset) } : {}),
  ...(values['shard-mb'] ? { shardBytes: Math.round(Number(values['shard-mb']) * 1024 * 1024) } : {}),
});
process.stderr.write(
  `wrote ${output}: ${Object.entries(sizes)
    .map(([f, n]) => `${f} ${n} B`)
    .join(', ')}\n`,
);
