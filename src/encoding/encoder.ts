/**
 * Sentence encoders: one interface, `embed(texts) -> vectors`, over
 * interchangeable implementations (the shipped ONNX encoder through
 * onnxruntime-web on WebGPU or WASM, or a Hugging Face model, see hf-encoder.ts).
 */
import type { Backend, EncoderInfo } from '../types';
import { RecommenderError } from '../errors';
import { openModelFolder, type ModelFileReader } from '../runtime/model-files';
import { createSession, runExclusive, type Ort, type Session } from '../runtime/onnx';
import { WordTokenizer } from './tokenizer';

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

export interface OnnxEncoderOptions {
  ort: Ort;
  reader: ModelFileReader;
  /** Where the folder lives, for messages. */
  where?: string;
  backend?: Backend | 'auto';
  batchSize?: number;
  /** Called when the requested backend could not be used and another ran instead. */
  onFallback?: (from: Backend, to: Backend, reason: string) => void;
  /** Why `backend` was chosen when it was decided before the session (a remembered measurement, a software adapter). */
  reason?: string;
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
      throw new RecommenderError(
        'model_load_failed',
        `${where} is a ${manifest.kind}, not a sentence encoder with a word tokenizer.`,
        'Point encoder at a sentence-encoder folder such as glove-sif-100d.',
      );
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
    const created = await runExclusive(() => createSession(options.ort, model, requested, options.onFallback, probe));
    const { session, backend } = created;
    const reason = options.reason && backend === requested ? options.reason : created.reason;
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
