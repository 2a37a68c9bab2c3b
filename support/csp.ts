/**
 * The Content-Security-Policy the demo is served with (`npm run demo`) and the
 * e2e tests run it under: no `unsafe-eval`, no `unsafe-inline`; `wasm-unsafe-eval`
 * for onnxruntime's WebAssembly.
 */
export const STRICT_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";
