/**
 * The onnxruntime-web files the engine's worker fetches, per build (see loadOrt in
 * onnx.ts): the site serves them from its own origin (`wasmUrl`, default `<base>/ort/`).
 * The Vite build, the npm package and the tests read this list.
 */
export const ORT_FILES = {
  /** `onnxruntime-web/wasm`: every WASM session (the default). */
  wasm: ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs'],
  /** `onnxruntime-web/webgpu`: only when a model runs on WebGPU (it serves WASM sessions too). */
  webgpu: ['ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.asyncify.mjs'],
} as const;

export const ALL_ORT_FILES: readonly string[] = [...ORT_FILES.wasm, ...ORT_FILES.webgpu];
