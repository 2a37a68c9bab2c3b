/**
 * Ahead-of-time catalog vectors: `npm run embed:catalog` embeds a catalog in
 * Node with the same encoder the browser runs and writes a compact folder the
 * engine loads instead of embedding on the device:
 *
 *   manifest.json  { format, encoder: { name, modelHash }, dims, count, files: { name: { sha256, bytes } } }
 *   vectors.bin    int8 [count, dims], round(x * 127) of each unit vector
 *   hashes.bin     8 bytes per row: the item's content hash (fnv1a64 of its text)
 *
 * Rows are matched to catalog items by content hash, so a catalog that changed
 * since the file was built still uses it for every unchanged item (the rest are
 * embedded on the device). Every file is checked against its SHA-256.
 */
import { RecommenderError } from '../errors';
import { sha256Hex } from '../formats/manifest';
import type { ModelFileReader } from '../runtime/model-files';

export const VECTOR_FORMAT = 'on-device-recs-vectors/v1';

export interface VectorManifest {
  format: typeof VECTOR_FORMAT;
  encoder: { name: string; modelHash: string };
  dims: number;
  count: number;
  quantization: 'int8-unit';
  files: Record<'vectors.bin' | 'hashes.bin', { sha256: string; bytes: number }>;
  createdBy?: string;
}

/** 16 hex digits (fnv1a64) -> 8 bytes. */
function hashBytes(hex: string, out: Uint8Array, at: number): void {
  for (let b = 0; b < 8; b++) out[at + b] = parseInt(hex.slice(2 * b, 2 * b + 2), 16);
}

function hashHex(bytes: Uint8Array, at: number): string {
  let s = '';
  for (let b = 0; b < 8; b++) s += bytes[at + b].toString(16).padStart(2, '0');
  return s;
}

export async function encodeVectorFile(
  encoder: { name: string; modelHash: string },
  dims: number,
  rows: { contentHash: string; vector: Float32Array }[],
): Promise<{ manifest: VectorManifest; files: Record<string, Uint8Array> }> {
  const vectors = new Int8Array(rows.length * dims);
  const hashes = new Uint8Array(rows.length * 8);
  rows.forEach((r, i) => {
    if (!/^[0-9a-f]{16}$/.test(r.contentHash)) throw new Error(`content hash ${r.contentHash} is not 16 hex digits`);
    hashBytes(r.contentHash, hashes, i * 8);
    for (let d = 0; d < dims; d++) vectors[i * dims + d] = Math.max(-127, Math.min(127, Math.round(r.vector[d] * 127)));
  });
  const vBytes = new Uint8Array(vectors.buffer);
  const manifest: VectorManifest = {
    format: VECTOR_FORMAT,
    encoder,
    dims,
    count: rows.length,
    quantization: 'int8-unit',
    files: {
      'vectors.bin': { sha256: await sha256Hex(vBytes), bytes: vBytes.length },
      'hashes.bin': { sha256: await sha256Hex(hashes), bytes: hashes.length },
    },
    createdBy: 'npm run embed:catalog',
  };
  return { manifest, files: { 'vectors.bin': vBytes, 'hashes.bin': hashes } };
}

/**
 * Loads a vector folder for `modelHash`: content hash -> unit vector (dequantized
 * and renormalised). Refuses a folder built with another encoder or whose files
 * fail their checks, with an error naming the fix.
 */
export async function loadVectorFile(
  reader: ModelFileReader,
  where: string,
  expected: { modelHash: string; dims: number },
): Promise<Map<string, Float32Array>> {
  let manifest: VectorManifest;
  try {
    manifest = JSON.parse(new TextDecoder().decode(await reader('manifest.json'))) as VectorManifest;
  } catch (e) {
    if (e instanceof RecommenderError) throw e;
    throw new RecommenderError(
      'model_load_failed',
      `${where}manifest.json is not valid JSON.`,
      'Serve the folder written by npm run embed:catalog unchanged.',
    );
  }
  if (!manifest || manifest.format !== VECTOR_FORMAT || !manifest.files?.['vectors.bin'] || !manifest.files?.['hashes.bin']) {
    throw new RecommenderError(
      'model_load_failed',
      `${where} is not a catalog vector folder (format ${VECTOR_FORMAT}).`,
      'Point vectors at a folder written by npm run embed:catalog.',
    );
  }
  if (manifest.encoder?.modelHash !== expected.modelHash || manifest.dims !== expected.dims) {
    throw new RecommenderError(
      'model_load_failed',
      `The catalog vectors at ${where} were built with encoder ${manifest.encoder?.name ?? '?'} (${String(manifest.encoder?.modelHash).slice(0, 12)}), not the one this page runs (${expected.modelHash.slice(0, 12)}).`,
      'Rebuild them with npm run embed:catalog -- <catalog> <out> --encoder <the encoder folder the page uses>.',
    );
  }
  const [vBytes, hBytes] = await Promise.all([reader('vectors.bin'), reader('hashes.bin')]);
  for (const [name, bytes] of [
    ['vectors.bin', vBytes],
    ['hashes.bin', hBytes],
  ] as const) {
    const want = manifest.files[name];
    if (bytes.length !== want.bytes || (await sha256Hex(bytes)) !== want.sha256) {
      throw new RecommenderError(
        'model_integrity',
        `Catalog vector file ${where}${name} failed its integrity check: it was modified, truncated or served stale.`,
        'Serve the folder exactly as npm run embed:catalog wrote it, or rebuild it.',
      );
    }
  }
  const { dims, count } = manifest;
  if (vBytes.length !== dims * count || hBytes.length !== 8 * count) {
    throw new RecommenderError(
      'model_integrity',
      `Catalog vector folder ${where} has inconsistent sizes for ${count} rows of ${dims} dims.`,
      'Rebuild it with npm run embed:catalog.',
    );
  }
  const q = new Int8Array(vBytes.buffer, vBytes.byteOffset, vBytes.length);
  const out = new Map<string, Float32Array>();
  for (let i = 0; i < count; i++) {
    const v = new Float32Array(dims);
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      v[d] = q[i * dims + d] / 127;
      norm += v[d] * v[d];
    }
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let d = 0; d < dims; d++) v[d] *= inv;
    }
    out.set(hashHex(hBytes, i * 8), v);
  }
  return out;
}
