/**
 * npm run embed:catalog -- <catalog.json> <out-dir> [--encoder <model folder>]
 *
 * Ahead-of-time embedding for large catalogs: embeds every item with the same
 * encoder graph and tokenizer the browser runs (onnxruntime-web WASM in Node)
 * and writes a compact int8 vector folder (manifest.json with SHA-256s,
 * vectors.bin, hashes.bin; see src/vectors/vector-file.ts). Serve it beside the
 * catalog and call setCatalog(catalogUrl, { vectors: '<folder url>' }).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { contentHash, itemText, validateCatalog } from '../src/catalog/validate';
import { encodeVectorFile } from '../src/vectors/vector-file';
import { OnnxSentenceEncoder } from '../src/encoding/encoder';
import { fileReader, MODELS_DIR, nodeOrt } from '../support/node-models';

export async function embedCatalog(
  catalogPath: string,
  outDir: string,
  encoderDir = join(MODELS_DIR, 'glove-sif-100d'),
  log = (m: string): void => void process.stderr.write(`[embed:catalog] ${m}\n`),
): Promise<{ items: number; unique: number; seconds: number; bytes: number }> {
  const t0 = performance.now();
  let raw = JSON.parse(readFileSync(catalogPath, 'utf8')) as unknown;
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && Array.isArray((raw as { items?: unknown }).items))
    raw = (raw as { items: unknown }).items;
  const { items, problems } = validateCatalog(raw);
  if (problems.length) log(`${problems.length} items skipped (${problems[0].message})`);
  const encoder = await OnnxSentenceEncoder.create({ ort: await nodeOrt(), reader: fileReader(encoderDir), where: encoderDir, backend: 'wasm' });
  const unique = new Map<string, string>();
  for (const it of items) {
    const h = contentHash(it);
    if (!unique.has(h)) unique.set(h, itemText(it));
  }
  const hashes = [...unique.keys()];
  const rows: { contentHash: string; vector: Float32Array }[] = [];
  const CHUNK = 2048;
  for (let s = 0; s < hashes.length; s += CHUNK) {
    const part = hashes.slice(s, s + CHUNK);
    const vectors = await encoder.embed(part.map((h) => unique.get(h) as string));
    part.forEach((h, j) => rows.push({ contentHash: h, vector: vectors[j] }));
    if ((s / CHUNK) % 20 === 0) log(`${Math.min(hashes.length, s + CHUNK)} / ${hashes.length}`);
  }
  const { manifest, files } = await encodeVectorFile({ name: encoder.info.name, modelHash: encoder.info.modelHash }, encoder.info.dimensions, rows);
  await encoder.dispose();
  mkdirSync(outDir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(outDir, name), bytes);
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const seconds = (performance.now() - t0) / 1000;
  const bytes = Object.values(files).reduce((n, b) => n + b.length, 0);
  log(`${items.length} items (${hashes.length} distinct texts) -> ${outDir} (${(bytes / 2 ** 20).toFixed(1)} MB) in ${seconds.toFixed(1)} s`);
  return { items: items.length, unique: hashes.length, seconds, bytes };
}

if (process.argv[1] && basename(process.argv[1]).startsWith('embed-catalog')) {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const encoderDir = flag('--encoder');
  const [catalogPath, outDir] = args;
  if (!catalogPath || !outDir) {
    process.stderr.write('usage: npm run embed:catalog -- <catalog.json> <out-dir> [--encoder <model folder>]\n');
    process.exit(2);
  }
  await embedCatalog(resolve(catalogPath), resolve(outDir), encoderDir ? resolve(encoderDir) : undefined);
}
