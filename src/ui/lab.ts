/**
 * The lab page's script: exposes the engine's compute paths to tests and
 * benchmarks as `window.lab`. Same modules as the worker, on the page thread.
 */
import * as ort from 'onnxruntime-web';
import { OnnxSentenceEncoder, fetchReader } from '../model/encoder';
import type { Backend } from '../types';
import { OnnxRankingHeads } from '../model/heads';

ort.env.wasm.wasmPaths = new URL('ort/', document.baseURI).href;
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const encoders = new Map<string, Promise<OnnxSentenceEncoder>>();

function encoder(backend: 'webgpu' | 'wasm', name = 'glove-sif-100d'): Promise<OnnxSentenceEncoder> {
  const key = `${backend}:${name}`;
  let e = encoders.get(key);
  if (!e) {
    const folder = new URL(`models/${name}/`, document.baseURI).href;
    e = OnnxSentenceEncoder.create({ ort, reader: fetchReader(folder), where: folder, backend });
    encoders.set(key, e);
  }
  return e;
}

const headsByBackend = new Map<string, Promise<OnnxRankingHeads>>();
function heads(backend: 'webgpu' | 'wasm'): Promise<OnnxRankingHeads> {
  let h = headsByBackend.get(backend);
  if (!h) {
    const folder = new URL('models/ranking-heads/', document.baseURI).href;
    h = OnnxRankingHeads.create({ ort, reader: fetchReader(folder), where: folder, backend });
    headsByBackend.set(backend, h);
  }
  return h;
}

export interface Lab {
  heads(features: number[], rows: number, backend: 'webgpu' | 'wasm'): Promise<{ backend: Backend; click: number[]; conversion: number[] }>;
  gpuAdapter(): Promise<{ vendor: string; architecture: string; features: string[] } | null>;
  embed(texts: string[], backend: 'webgpu' | 'wasm'): Promise<{ backend: Backend; vectors: number[][] }>;
  benchEncoder(texts: string[], backend: 'webgpu' | 'wasm', batchSize?: number): Promise<{ backend: Backend; items: number; seconds: number; itemsPerSecond: number }>;
}

const lab: Lab = {
  async heads(features, rows, backend) {
    const h = await heads(backend);
    const out = await h.predict(Float32Array.from(features), rows);
    return { backend: h.backend, click: Array.from(out.click), conversion: Array.from(out.conversion) };
  },
  async gpuAdapter() {
    const gpu = navigator.gpu;
    if (!gpu) return null;
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    return { vendor: adapter.info.vendor, architecture: adapter.info.architecture, features: [...adapter.features] };
  },
  async embed(texts, backend) {
    const enc = await encoder(backend);
    const vectors = await enc.embed(texts);
    return { backend: enc.info.backend, vectors: vectors.map((v) => Array.from(v)) };
  },
  async benchEncoder(texts, backend) {
    const enc = await encoder(backend);
    await enc.embed(texts.slice(0, 256)); // warm-up: shader compilation, allocations
    const t0 = performance.now();
    await enc.embed(texts);
    const seconds = (performance.now() - t0) / 1000;
    return { backend: enc.info.backend, items: texts.length, seconds, itemsPerSecond: texts.length / seconds };
  },
};

declare global {
  interface Window {
    lab: Lab;
  }
}
window.lab = lab;
const status = document.getElementById('lab-status');
if (status) status.textContent = 'ready';
document.body.dataset.labReady = 'true';
