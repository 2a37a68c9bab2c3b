/**
 * Adapter: any Hugging Face feature-extraction model, through
 * @huggingface/transformers, as the engine's SentenceEncoder (mean pooling,
 * L2-normalised). Models load from the site's own origin (`localModelPath`);
 * the Hugging Face hub is used only when the integrator sets allowRemoteModels.
 * The library is imported dynamically so the default bundle does not carry it.
 */
import type { Backend, EncoderInfo } from '../types';
import { RecommenderError } from '../errors';
import type { EmbedProgress, SentenceEncoder } from './encoder';
import { sha256Hex } from './manifest';

export interface HuggingFaceEncoderOptions {
  /** Model id, e.g. 'Xenova/all-MiniLM-L6-v2'; looked up as <localModelPath>/<model>/. */
  model: string;
  /** Where local models live: a URL path in the browser, a folder in Node. Default '/models/'. */
  localModelPath?: string;
  /** Allow downloading from the Hugging Face hub (off by default: nothing leaves the site's origin). */
  allowRemoteModels?: boolean;
  device?: 'webgpu' | 'wasm' | 'auto';
  /** Weight type to load, e.g. 'fp32' (onnx/model.onnx) or 'q8' (onnx/model_quantized.onnx). */
  dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';
  batchSize?: number;
  /** Where onnxruntime-web's wasm files are served (browser). */
  wasmPaths?: string;
}

type Extractor = (texts: string[], options: { pooling: 'mean'; normalize: boolean }) => Promise<{ data: Float32Array; dims: number[] }>;

export async function createHuggingFaceEncoder(options: HuggingFaceEncoderOptions): Promise<SentenceEncoder> {
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = options.allowRemoteModels ?? false;
  env.allowLocalModels = true;
  env.localModelPath = options.localModelPath ?? '/models/';
  const onnxEnv = env.backends.onnx as { wasm?: { wasmPaths?: unknown } } | undefined;
  if (options.wasmPaths && onnxEnv?.wasm) onnxEnv.wasm.wasmPaths = options.wasmPaths;
  const inBrowser = typeof window !== 'undefined' || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
  const gpu = inBrowser && Boolean((globalThis.navigator as Navigator | undefined)?.gpu);
  const wanted = options.device ?? 'auto';
  const device: 'webgpu' | 'wasm' | 'cpu' = !inBrowser ? 'cpu' : wanted === 'webgpu' || (wanted === 'auto' && gpu) ? 'webgpu' : 'wasm';
  let extractor: Extractor;
  try {
    extractor = (await pipeline('feature-extraction', options.model, { device, dtype: options.dtype ?? 'fp32' })) as unknown as Extractor;
  } catch (e) {
    const where = `${env.localModelPath.replace(/\/?$/, '/')}${options.model}/`;
    throw new RecommenderError(
      'model_load_failed',
      `Could not load the Hugging Face model "${options.model}" from ${where} (${(e as Error).message.slice(0, 200)}).`,
      env.allowRemoteModels
        ? 'Check the model id and that the hub is reachable.'
        : `Put config.json, tokenizer.json and onnx/model${options.dtype === 'q8' ? '_quantized' : ''}.onnx under ${where}, or set allowRemoteModels: true to download it from the Hugging Face hub.`,
    );
  }
  const probe = await extractor(['probe'], { pooling: 'mean', normalize: true });
  const dimensions = probe.dims[probe.dims.length - 1];
  // Node runs onnxruntime-node on the CPU: reported as 'js' (not in the browser), never as WebGPU or WASM.
  const backend: Backend = device === 'webgpu' ? 'webgpu' : device === 'wasm' ? 'wasm' : 'js';
  const info: EncoderInfo = { name: `hf:${options.model}`, dimensions, backend, modelHash: await sha256Hex(`hf:${options.model}:${options.dtype ?? 'fp32'}:${dimensions}`) };
  const batchSize = options.batchSize ?? 32;
  return {
    info,
    backendReason: `@huggingface/transformers on ${device}`,
    async embed(texts: readonly string[], onProgress?: (p: EmbedProgress) => void): Promise<Float32Array[]> {
      const out: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        const batch = texts.slice(start, start + batchSize).map((t) => (typeof t === 'string' ? t : ''));
        const result = await extractor(batch, { pooling: 'mean', normalize: true });
        for (let r = 0; r < batch.length; r++) out.push(result.data.slice(r * dimensions, (r + 1) * dimensions));
        onProgress?.({ done: out.length, total: texts.length });
      }
      return out;
    },
    async dispose(): Promise<void> {
      await (extractor as unknown as { dispose?: () => Promise<void> }).dispose?.();
    },
  };
}
