import { RecommenderError } from '../errors';

/** The manifest the engine reads beside each shipped model folder. */
/** Limits of the word tokenizer, stored in an encoder's manifest. */
export interface TokenizerSettings {
  maxTokens: number;
  maxChars: number;
}

export interface ModelManifest {
  format: 'on-device-recs-model/v1';
  name: string;
  kind: 'sentence-encoder' | 'ranking-heads' | 'global-model';
  dimensions?: number;
  /** Graph file (relative to the folder). */
  model: string;
  inputs: Record<string, string>;
  outputs: Record<string, string>;
  tokenizer?: TokenizerSettings & { type: 'glove-words'; vocab: string; lowercase: true; normalization: 'NFKC'; padId: 0 };
  /** File name -> SHA-256 (hex) and size; every file is checked before use. */
  files: Record<string, { sha256: string; bytes: number }>;
  /** SHA-256 over the sorted "name:sha256" lines: one id for the whole model. */
  hash: string;
  quantization?: string;
  [extra: string]: unknown;
}

export function toHex(buf: ArrayBuffer | Uint8Array): string {
  const b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

/** SHA-256 with WebCrypto (browsers, workers and Node 20 all have crypto.subtle). */
export async function sha256Hex(data: Uint8Array | ArrayBuffer | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data instanceof Uint8Array ? data : new Uint8Array(data);
  return toHex(await crypto.subtle.digest('SHA-256', bytes as BufferSource));
}

export async function manifestHash(files: ModelManifest['files']): Promise<string> {
  const lines = Object.keys(files)
    .sort()
    .map((k) => `${k}:${files[k].sha256}`)
    .join('\n');
  return sha256Hex(lines);
}

/** Refuses a file whose bytes do not match the manifest (tampered, truncated or stale cache). */
export async function verifyModelFile(manifest: ModelManifest, file: string, bytes: Uint8Array): Promise<void> {
  const expected = manifest.files[file];
  if (!expected) {
    throw new RecommenderError(
      'model_integrity',
      `Model "${manifest.name}" has no manifest entry for ${file}.`,
      'Rebuild the model folder with npm run build:models so the manifest lists every file.',
    );
  }
  if (typeof expected.bytes === 'number' && bytes.length !== expected.bytes) {
    throw new RecommenderError(
      'model_integrity',
      `Model file ${manifest.name}/${file} is ${bytes.length} bytes, the manifest says ${expected.bytes}: it was truncated, modified or served stale.`,
      'Serve the files exactly as built (no re-compression or transformation), or rebuild with npm run build:models.',
    );
  }
  const actual = await sha256Hex(bytes);
  if (actual !== expected.sha256) {
    throw new RecommenderError(
      'model_integrity',
      `Model file ${manifest.name}/${file} failed its integrity check (SHA-256 ${actual.slice(0, 16)}..., manifest says ${expected.sha256.slice(0, 16)}...): it was modified, truncated or served stale.`,
      'Serve the files exactly as built (no re-compression or transformation), or rebuild with npm run build:models.',
    );
  }
}

export function parseManifest(json: unknown, where: string): ModelManifest {
  const m = json as Partial<ModelManifest> | null;
  if (!m || m.format !== 'on-device-recs-model/v1' || typeof m.model !== 'string' || typeof m.files !== 'object' || !m.files) {
    throw new RecommenderError(
      'model_load_failed',
      `${where} is not a model manifest of this engine (format on-device-recs-model/v1).`,
      'Point modelsUrl at a folder produced by npm run build:models.',
    );
  }
  return m as ModelManifest;
}
