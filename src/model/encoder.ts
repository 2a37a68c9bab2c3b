/**
 * Sentence encoders: one interface, `embed(texts) -> vectors`, over
 * interchangeable implementations (the shipped ONNX encoder through
 * onnxruntime-web on WebGPU or WASM, or a Hugging Face model, see hf-encoder.ts).
 */
import type * as OrtModule from 'onnxruntime-web';
import type { Backend, EncoderInfo } from '../types';
import { RecommenderError } from '../errors';
import { parseManifest, verifyModelFile, type ModelManifest } from './manifest';
import { WordTokenizer } from './tokenizer';

export type Ort = typeof OrtModule;

export interface EmbedProgress {
  done: number;
  total: number;
}

export interface SentenceEncoder {
  readonly info: EncoderInfo;
  /** Unit-length vectors, one per text, in input order. */
  embed(texts: readonly string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** Reads a file of a model folder: `fetch` in the browser, the file system in Node. */
export type ModelFileReader = (file: string) => Promise<Uint8Array>;

export function fetchReader(baseUrl: string, fetchImpl: typeof fetch = fetch): ModelFileReader {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return async (file) => {
    const url = new URL(file, new URL(base, globalThis.location?.href ?? 'http://localhost/')).href;
    let res: Response;
    try {
      res = await fetchImpl(url);
    } catch (e) {
      throw new RecommenderError('model_load_failed', `Could not fetch ${url} (${(e as Error).message}).`, 'Check that the models folder is served from your site (see modelsUrl).');
    }
    if (!res.ok) throw new RecommenderError('model_load_failed', `Fetching ${url} answered HTTP ${res.status}.`, 'Check that the models folder is served from your site and modelsUrl points at it.');
    return new Uint8Array(await res.arrayBuffer());
  };
}

export interface LoadedModelFolder {
  manifest: ModelManifest;
  read(file: string): Promise<Uint8Array>;
}

/** Reads and parses manifest.json; `read` returns files only after their SHA-256 matched. */
export async function openModelFolder(reader: ModelFileReader, where: string): Promise<LoadedModelFolder> {
  let manifestJson: unknown;
  try {
    manifestJson = JSON.parse(new TextDecoder().decode(await reader('manifest.json')));
  } catch (e) {
    if (e instanceof RecommenderError) throw e;
    throw new RecommenderError('model_load_failed', `${where}/manifest.json is not valid JSON.`, 'Rebuild the model folder with npm run build:models.');
  }
  const manifest = parseManifest(manifestJson, `${where}/manifest.json`);
  return {
    manifest,
    async read(file) {
      const bytes = await reader(file);
      await verifyModelFile(manifest, file, bytes);
      return bytes;
    },
  };
}

export interface OnnxEncoderOptions {
  ort: Ort;
  reader: ModelFileReader;
  /** Where the folder lives, for messages. */
  where?: string;
  backend?: Backend | 'auto';
  batchSize?: number;
  /** Called when the requested backend could not be used and another ran instead. */
  onFallback?: (from: Backend, to: Backend, reason: string) => void;
}

/** Creates an inference session, WebGPU first when asked for (or auto) and available, else WASM. */
export async function createSession(
  ort: Ort,
  model: Uint8Array,
  backend: Backend | 'auto',
  onFallback?: (from: Backend, to: Backend, reason: string) => void,
): Promise<{ session: OrtModule.InferenceSession; backend: Backend }> {
  const gpu = (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
  if (backend === 'webgpu' || (backend === 'auto' && gpu)) {
    if (!gpu) {
      onFallback?.('webgpu', 'wasm', 'navigator.gpu is not available in this browser');
    } else {
      try {
        const session = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
        return { session, backend: 'webgpu' };
      } catch (e) {
        onFallback?.('webgpu', 'wasm', `WebGPU session failed: ${(e as Error).message}`);
      }
    }
  }
  try {
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    return { session, backend: 'wasm' };
  } catch (e) {
    throw new RecommenderError('backend_unavailable', `Neither WebGPU nor WASM could run the model (${(e as Error).message}).`, 'Serve onnxruntime-web\'s .wasm files (see wasmUrl) and allow wasm-unsafe-eval in your Content-Security-Policy.');
  }
}

export class OnnxSentenceEncoder implements SentenceEncoder {
  private constructor(
    readonly info: EncoderInfo,
    readonly tokenizer: WordTokenizer,
    private readonly ort: Ort,
    private readonly session: OrtModule.InferenceSession,
    private readonly batchSize: number,
  ) {}

  static async create(options: OnnxEncoderOptions): Promise<OnnxSentenceEncoder> {
    const where = options.where ?? 'model';
    const folder = await openModelFolder(options.reader, where);
    const { manifest } = folder;
    if (manifest.kind !== 'sentence-encoder' || !manifest.tokenizer || !manifest.dimensions) {
      throw new RecommenderError('model_load_failed', `${where} is a ${manifest.kind}, not a sentence encoder with a word tokenizer.`, 'Point encoder at a sentence-encoder folder such as glove-sif-100d.');
    }
    const [model, vocab] = await Promise.all([folder.read(manifest.model), folder.read(manifest.tokenizer.vocab)]);
    const tokenizer = WordTokenizer.fromVocabText(new TextDecoder().decode(vocab), {
      maxTokens: manifest.tokenizer.maxTokens,
      maxChars: manifest.tokenizer.maxChars,
    });
    const { session, backend } = await createSession(options.ort, model, options.backend ?? 'auto', options.onFallback);
    const info: EncoderInfo = { name: manifest.name, dimensions: manifest.dimensions, backend, modelHash: manifest.hash };
    return new OnnxSentenceEncoder(info, tokenizer, options.ort, session, options.batchSize ?? 128);
  }

  async embed(texts: readonly string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    const dims = this.info.dimensions;
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize).map((t) => (typeof t === 'string' ? t : ''));
      const { ids, rows, cols } = this.tokenizer.encodeBatch(batch);
      const input = new this.ort.Tensor('int64', ids, [rows, cols]);
      const result = await this.session.run({ input_ids: input });
      const tensor = result.embeddings;
      const data = (tensor.location === 'gpu-buffer' ? await tensor.getData() : tensor.data) as Float32Array;
      for (let r = 0; r < rows; r++) out.push(data.slice(r * dims, (r + 1) * dims));
      input.dispose();
      tensor.dispose();
      onProgress?.({ done: out.length, total: texts.length });
    }
    if (texts.length === 0) onProgress?.({ done: 0, total: 0 });
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
