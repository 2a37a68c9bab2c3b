/** Test helper: one shipped encoder (WASM) shared by every engine of a test file. */
import { after, before } from 'node:test';
import type { SentenceEncoder } from '../src/encoding/encoder';
import { loadNodeEncoder } from './node-models';

/**
 * Registers before/after hooks that load and dispose the encoder; returns a getter
 * of a non-owning view (engines dispose their encoder on close, the file's tests share one).
 */
export function useSharedEncoder(): () => SentenceEncoder {
  let shared: SentenceEncoder | undefined;
  let view: SentenceEncoder | undefined;
  before(async () => {
    const s = await loadNodeEncoder();
    shared = s;
    view = { info: s.info, embed: (texts, onProgress) => s.embed(texts, onProgress), dispose: async () => undefined };
  });
  after(async () => shared?.dispose());
  return () => {
    if (!view) throw new Error('useSharedEncoder: used before its before() hook ran');
    return view;
  };
}
