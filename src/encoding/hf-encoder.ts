/**
 * Adapter: any Hugging Face feature-extraction model, through
 * @huggingface/transformers (v4), as the engine's SentenceEncoder (mean pooling,
 * L2-normalised). Models load from the site's own origin (`localModelPath`);
 * the Hugging Face hub is contacted only when the integrator sets allowRemoteModels.
 * The library is imported dynamically so the default bundle does not carry it.
 *
 * Where transformers.js looks (v4.3, src/utils/hub.js `buildResourcePaths`): for a
 * model id that is a valid hub id (`name` or `org/name`), each file is read from
 * `<localModelPath>/<model>/<file>`: config.json, tokenizer.json,
 * tokenizer_config.json and `onnx/model<suffix>.onnx`, where the suffix follows
 * dtype ('' for fp32, '_fp16', '_quantized' for q8, '_int8', '_uint8', '_q4', ...).
 * A model string that is not a valid hub id (e.g. an absolute path) is used as the
 * folder itself. In Node `localModelPath` is a folder on disk, in the browser a
 * URL path. Before the local path, transformers.js consults its cache (Cache API in
 * the browser, `<transformers>/.cache/` in Node), which only ever holds files it
 * fetched earlier; with allowRemoteModels false nothing is fetched from the hub.
 */
import type { DataType, FeatureExtractionPipeline } from '@huggingface/transformers';
import type { Backend, EncoderInfo } from '../types';
import { RecommenderError } from '../errors';
import type { EmbedProgress, SentenceEncoder } from './encoder';
import { serialQueue } from '../runtime/serial';
import { sha256Hex } from '../formats/manifest';

export type HuggingFaceDevice = 'webgpu' | 'wasm' | 'auto';

export interface HuggingFaceEncoderOptions {
  /** Model id, e.g. 'Xenova/all-MiniLM-L6-v2'; its files are looked up under <localModelPath>/<model>/. */
  model: string;
  /** Where local models live: a URL path in the browser, a folder in Node. Default '/models/'. */
  localModelPath?: string;
  /** Allow downloading from the Hugging Face hub (off by default: nothing leaves the site's origin). */
  allowRemoteModels?: boolean;
  /** Hub host to download from when allowRemoteModels is true (default: transformers' https://huggingface.co/). */
  remoteHost?: string;
  /**
   * 'auto' (default): WebGPU when the browser has an adapter, else WASM; WebGPU that fails falls
   * back to WASM (see backendReason). In Node, transformers.js runs onnxruntime-node: 'auto' and
   * 'wasm' run on its native CPU provider, 'webgpu' tries its experimental WebGPU provider first.
   */
  device?: HuggingFaceDevice;
  /** Weight type to load: 'fp32' (default, onnx/model.onnx), 'q8' (onnx/model_quantized.onnx), 'fp16', ... */
  dtype?: DataType;
  /** Texts per inference call (default 32). */
  batchSize?: number;
  /**
   * Browser only: URL folder serving onnxruntime-web's `ort-wasm-simd-threaded.asyncify.wasm`
   * (and `.mjs`) of the onnxruntime-web version @huggingface/transformers depends on. Without it
   * transformers.js would fetch them from cdn.jsdelivr.net, which this adapter allows only
   * with allowRemoteModels.
   */
  wasmPaths?: string;
}

type TransformersModule = typeof import('@huggingface/transformers');
type Candidate = 'webgpu' | 'wasm' | 'cpu';

function isNode(): boolean {
  return (globalThis as { process?: { release?: { name?: string } } }).process?.release?.name === 'node';
}

async function browserHasWebGpu(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

/** Devices to try, in order. */
async function candidates(wanted: HuggingFaceDevice): Promise<Candidate[]> {
  if (isNode()) return wanted === 'webgpu' ? ['webgpu', 'cpu'] : ['cpu'];
  if (wanted === 'wasm') return ['wasm'];
  if (wanted === 'webgpu') return ['webgpu', 'wasm'];
  return (await browserHasWebGpu()) ? ['webgpu', 'wasm'] : ['wasm'];
}

/**
 * The engine's name for what ran. onnxruntime-node's CPU provider is native code, neither
 * WebAssembly nor WebGPU; EncoderInfo has no value for it, so it is reported as 'js' in
 * the sense "CPU outside the browser's accelerated paths" and backendReason says exactly
 * what ran.
 */
function backendOf(device: Candidate): Backend {
  return device === 'cpu' ? 'js' : device;
}

function describe(device: Candidate): string {
  if (device === 'cpu') return 'onnxruntime-node, native CPU provider';
  return isNode() ? `onnxruntime-node, ${device} provider` : `onnxruntime-web, ${device} provider`;
}

const dtypeSuffix: Partial<Record<DataType, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  bnb4: '_bnb4',
  q4f16: '_q4f16',
};

/** transformers.js reads its global `env` while loading; loads run one at a time so concurrent options never mix. */
const oneAtATime = serialQueue();

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).slice(0, 300);

export async function createHuggingFaceEncoder(options: HuggingFaceEncoderOptions): Promise<SentenceEncoder> {
  if (!options.model)
    throw new RecommenderError('invalid_options', 'huggingFaceModel.model is empty.', "Name the model, e.g. 'Xenova/all-MiniLM-L6-v2'.");
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RecommenderError('invalid_options', `batchSize must be a positive integer (got ${batchSize}).`, 'Pass a batchSize of 1 or more.');
  const dtype: DataType = options.dtype ?? 'fp32';
  let transformers: TransformersModule;
  try {
    transformers = await import('@huggingface/transformers');
  } catch (e) {
    throw new RecommenderError(
      'model_load_failed',
      `Could not load @huggingface/transformers (${message(e)}).`,
      'Install it (npm install @huggingface/transformers@4) and let your bundler include its dynamic import.',
    );
  }
  return oneAtATime(() => load(transformers, options, dtype, batchSize));
}

async function load(
  transformers: TransformersModule,
  options: HuggingFaceEncoderOptions,
  dtype: DataType,
  batchSize: number,
): Promise<SentenceEncoder> {
  const { pipeline, env, ModelFileNotFoundError } = transformers;
  env.allowRemoteModels = options.allowRemoteModels ?? false;
  env.allowLocalModels = true;
  env.localModelPath = options.localModelPath ?? '/models/';
  if (options.remoteHost) env.remoteHost = options.remoteHost;
  const wasm = env.backends.onnx.wasm;
  if (options.wasmPaths && wasm) wasm.wasmPaths = options.wasmPaths;
  if (!isNode() && !env.allowRemoteModels && JSON.stringify(wasm?.wasmPaths ?? '').includes('cdn.jsdelivr.net')) {
    throw new RecommenderError(
      'invalid_options',
      "Without wasmPaths, @huggingface/transformers would download onnxruntime-web's WebAssembly from cdn.jsdelivr.net, and remote downloads are not allowed.",
      "Serve ort-wasm-simd-threaded.asyncify.wasm and .mjs from @huggingface/transformers' own onnxruntime-web (node_modules/@huggingface/transformers/node_modules/onnxruntime-web/dist/) on your site and pass their folder as wasmPaths, or set allowRemoteModels: true.",
    );
  }
  const folder = `${env.localModelPath.replace(/\/?$/, '/')}${options.model}/`;
  const modelFile = `onnx/model${dtypeSuffix[dtype] ?? `<suffix of ${dtype}>`}.onnx`;
  const tried: string[] = [];
  let lastError: unknown;
  for (const device of await candidates(options.device ?? 'auto')) {
    let extractor: FeatureExtractionPipeline | undefined;
    try {
      extractor = await pipeline('feature-extraction', options.model, { device, dtype });
      const probe = await extractor(['probe'], { pooling: 'mean', normalize: true });
      const dimensions = probe.dims[probe.dims.length - 1];
      if (probe.dims.length !== 2 || !(probe.data instanceof Float32Array) || !(dimensions > 0)) {
        throw new Error(`expected float32 [1, hidden] after mean pooling, got ${probe.type} [${probe.dims.join(', ')}]`);
      }
      const reason = `@huggingface/transformers on ${describe(device)}${tried.length ? ` (after ${tried.join('; ')})` : ''}`;
      return await encoderFor(extractor, options.model, dtype, dimensions, backendOf(device), reason, batchSize);
    } catch (e) {
      await extractor?.dispose().catch(() => undefined);
      if (e instanceof ModelFileNotFoundError) {
        const missing = /"([^"]+)"/.exec(e.message)?.[1] ?? folder;
        throw new RecommenderError(
          'model_load_failed',
          `The Hugging Face model "${options.model}" was not found: no file at ${missing} (looked under ${folder}).`,
          env.allowRemoteModels
            ? `Check the model id and that ${env.remoteHost} is reachable, or put the files under ${folder}.`
            : `Put config.json, tokenizer.json, tokenizer_config.json and ${modelFile} under ${folder} (localModelPath/<model>/), or set allowRemoteModels: true to download it from the Hugging Face hub.`,
        );
      }
      tried.push(`${device} failed: ${message(e)}`);
      lastError = e;
    }
  }
  throw new RecommenderError(
    'model_load_failed',
    `Could not run the Hugging Face model "${options.model}" from ${folder} (${tried.join('; ') || message(lastError)}).`,
    `Check that it is a feature-extraction ONNX export (${modelFile}, output last_hidden_state) and, in the browser, that wasmPaths serves the onnxruntime-web files @huggingface/transformers needs.`,
  );
}

async function encoderFor(
  extractor: FeatureExtractionPipeline,
  model: string,
  dtype: DataType,
  dimensions: number,
  backend: Backend,
  backendReason: string,
  batchSize: number,
): Promise<SentenceEncoder> {
  // Vector caches are keyed by this: it changes with the model id, the weight type and the model's config.
  const modelHash = await sha256Hex(JSON.stringify({ adapter: 'hf-encoder/1', model, dtype, config: extractor.model.config }));
  const info: EncoderInfo = { name: `hf:${model}`, dimensions, backend, modelHash };
  return {
    info,
    backendReason,
    async embed(texts: readonly string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
      const out: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        const batch = texts.slice(start, start + batchSize).map((t) => (typeof t === 'string' ? t : ''));
        const result = await extractor(batch, { pooling: 'mean', normalize: true });
        const data = result.data;
        if (!(data instanceof Float32Array) || result.dims[0] !== batch.length || result.dims[1] !== dimensions) {
          throw new RecommenderError(
            'model_load_failed',
            `The Hugging Face model "${model}" returned ${result.type} [${result.dims.join(', ')}] for ${batch.length} texts.`,
            'Use a feature-extraction model whose output is [batch, sequence, hidden].',
          );
        }
        for (let r = 0; r < batch.length; r++) out.push(data.slice(r * dimensions, (r + 1) * dimensions));
        onProgress?.({ done: out.length, total: texts.length });
      }
      return out;
    },
    async dispose(): Promise<void> {
      await extractor.dispose();
    },
  };
}
