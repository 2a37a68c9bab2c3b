/** Types of the bench peers' files that ship without declarations (demo/bench-peers.ts). */
declare module 'voy-search/voy_search_bg.js' {
  export function __wbg_set_wasm(exports: unknown): void;
  export class Voy {
    constructor(resource: { embeddings: { id: string; title: string; url: string; embeddings: number[] }[] });
    search(query: Float32Array, k: number): { neighbors: { id: string; title: string; url: string }[] };
  }
}
declare module '*.wasm?url' {
  const url: string;
  export default url;
}
