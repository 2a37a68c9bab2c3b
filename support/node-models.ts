/** Node-side access to the shipped models: the same ONNX graphs and tokenizer the browser runs, on onnxruntime-web's WASM backend. */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { OnnxSentenceEncoder } from '../src/encoding/encoder';
import type { ModelFileReader } from '../src/runtime/model-files';
import { loadOrt, type Ort } from '../src/runtime/onnx';

export const MODELS_DIR = resolve(import.meta.dirname, '..', 'public', 'models');

export function fileReader(dir: string): ModelFileReader {
  return async (file) => new Uint8Array(await readFile(join(dir, file)));
}

/** onnxruntime's plain WASM build, as the browser loads it; single-threaded (the runtime's Node default) keeps results reproducible. */
export function nodeOrt(): Promise<Ort> {
  return loadOrt('wasm');
}

export async function loadNodeEncoder(name = 'glove-sif-100d', dir = MODELS_DIR): Promise<OnnxSentenceEncoder> {
  const folder = join(dir, name);
  return OnnxSentenceEncoder.create({ ort: await nodeOrt(), reader: fileReader(folder), where: folder, backend: 'wasm' });
}
