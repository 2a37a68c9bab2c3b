/**
 * Sentence encoders: one interface, `embed(texts) -> vectors`, over
 * interchangeable implementations (the shipped ONNX encoder through
 * onnxruntime-web on WebGPU or WASM, or a Hugging Face model, see hf-encoder.ts).
 */
import type * as OrtModule from 'onnxruntime-web';
import type { Backend, EncoderInfo } from '../types';
import { RecommenderError } from '../errors';
import { parseManifest, verifyModelFile, type ModelManifest } from '../formats/manifest';
import { WordTokenizer } from './tokenizer';

export type Ort = typeof OrtModule;

export interface EmbedProgress {
  done: number;
  total: number;
}

export interface SentenceEncoder {
  readonly info: EncoderInfo;
  /** Why this backend runs: requested, a fallback, or the measurement that chose it. */
  readonly backendReason?: string;
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
  /** With backend 'auto': a measurement made earlier on this device, used instead of measuring again. */
  cachedChoice?: { backend: Backend; reason: string };
}

type Session = OrtModule.InferenceSession;

let inferenceQueue: Promise<unknown> = Promise.resolve();
/**
 * Runs onnxruntime-web work one call at a time. Its WebGPU backend hung when two
 * sessions (encoder and heads) ran at once in one worker, so every session
 * creation and run in this engine goes through this queue.
 */
export function runExclusive<T>(fn: () => Promise<T>): Promise<T> {
  const result = inferenceQueue.then(fn, fn);
  inferenceQueue = result.catch(() => undefined);
  return result;
}
type FallbackListener = (from: Backend, to: Backend, reason: string) => void;

function hasWebGpu(): boolean {
  return Boolean((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu);
}

async function sessionOn(ort: Ort, model: Uint8Array, backend: 'webgpu' | 'wasm'): Promise<Session> {
  return ort.InferenceSession.create(model, { executionProviders: [backend], graphOptimizationLevel: 'all' });
}

/**
 * Creates an inference session on the requested backend. 'webgpu' falls back to
 * WASM (reported through onFallback) when WebGPU is missing or fails. 'auto'
 * measures: with WebGPU available it times `probe` on both providers and keeps
 * the faster one (a software adapter such as SwiftShader usually loses to WASM).
 */
export async function createSession(
  ort: Ort,
  model: Uint8Array,
  backend: Backend | 'auto',
  onFallback?: FallbackListener,
  probe?: (session: Session) => Promise<void>,
): Promise<{ session: Session; backend: Backend; reason: string }> {
  const wasm = async (reason: string) => {
    try {
      return { session: await sessionOn(ort, model, 'wasm'), backend: 'wasm' as const, reason };
    } catch (e) {
      throw new RecommenderError('backend_unavailable', `Neither WebGPU nor WASM could run the model (${(e as Error).message}).`, "Serve onnxruntime-web's .wasm files (see wasmUrl) and allow 'wasm-unsafe-eval' in your Content-Security-Policy.");
    }
  };
  if (backend === 'wasm' || backend === 'js') return wasm(`${backend} requested`);
  if (!hasWebGpu()) {
    if (backend === 'webgpu') onFallback?.('webgpu', 'wasm', 'navigator.gpu is not available in this browser');
    return wasm('no WebGPU in this browser');
  }
  let gpu: Session;
  try {
    gpu = await sessionOn(ort, model, 'webgpu');
  } catch (e) {
    const reason = `WebGPU session failed: ${(e as Error).message}`;
    if (backend === 'webgpu') onFallback?.('webgpu', 'wasm', reason);
    return wasm(reason);
  }
  if (backend === 'webgpu' || !probe) return { session: gpu, backend: 'webgpu', reason: backend === 'webgpu' ? 'webgpu requested' : 'WebGPU available' };
  const cpu = await wasm('measured');
  const time = async (s: Session): Promise<number> => {
    await probe(s); // warm-up: shader compilation, buffer allocation
    const t0 = performance.now();
    await probe(s);
    await probe(s);
    return (performance.now() - t0) / 2;
  };
  let gpuMs = Infinity;
  try {
    gpuMs = await time(gpu);
  } catch {
    /* a failing GPU run loses the measurement */
  }
  const cpuMs = await time(cpu.session);
  const reason = `measured ${gpuMs.toFixed(1)} ms on WebGPU vs ${cpuMs.toFixed(1)} ms on WASM per probe batch`;
  if (gpuMs <= cpuMs) {
    await cpu.session.release();
    return { session: gpu, backend: 'webgpu', reason };
  }
  await gpu.release();
  return { session: cpu.session, backend: 'wasm', reason };
}

export class OnnxSentenceEncoder implements SentenceEncoder {
  private constructor(
    readonly info: EncoderInfo,
    readonly tokenizer: WordTokenizer,
    private readonly ort: Ort,
    private readonly session: Session,
    private readonly batchSize: number,
    /** Why this backend runs (requested, fallback, or the measurement that chose it). */
    readonly backendReason: string,
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
    const batchSize = options.batchSize ?? 128;
    const probeIds = new BigInt64Array(batchSize * 16).map((_, i) => BigInt(1 + ((i * 7919) % (tokenizer.vocabSize - 1))));
    const probe = async (s: Session): Promise<void> => {
      const input = new options.ort.Tensor('int64', probeIds, [batchSize, 16]);
      const out = await s.run({ input_ids: input });
      await out.embeddings.getData();
      input.dispose();
      out.embeddings.dispose();
    };
    const requested = options.backend ?? 'auto';
    const cached = requested === 'auto' ? options.cachedChoice : undefined;
    const created = await runExclusive(() => createSession(options.ort, model, cached ? cached.backend : requested, options.onFallback, probe));
    const { session, backend } = created;
    const reason = cached && backend === cached.backend ? `${cached.reason} (measured earlier on this device)` : created.reason;
    const info: EncoderInfo = { name: manifest.name, dimensions: manifest.dimensions, backend, modelHash: manifest.hash };
    return new OnnxSentenceEncoder(info, tokenizer, options.ort, session, batchSize, reason);
  }

  async embed(texts: readonly string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
    const dims = this.info.dimensions;
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize).map((t) => (typeof t === 'string' ? t : ''));
      const { ids, rows, cols } = this.tokenizer.encodeBatch(batch);
      const input = new this.ort.Tensor('int64', ids, [rows, cols]);
      const data = await runExclusive(async () => {
        const result = await this.session.run({ input_ids: input });
        const tensor = result.embeddings;
        const values = (await tensor.getData()) as Float32Array;
        tensor.dispose();
        return values;
      });
      for (let r = 0; r < rows; r++) out.push(data.slice(r * dims, (r + 1) * dims));
      input.dispose();
      onProgress?.({ done: out.length, total: texts.length });
    }
    if (texts.length === 0) onProgress?.({ done: 0, total: 0 });
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
