/** What crosses the page <-> worker boundary besides the public types. */
import { RecommenderError, type RecommenderErrorCode } from '../errors';
import { STORE_ERROR_FIX, StoreError, type StoreErrorCode } from '../store/errors';
import type { ResolvedOptions } from '../options';

/** What the worker's init() receives: the createRecommender() options resolved on the page (defaults applied, checked, absolute URLs). */
export type WorkerInit = ResolvedOptions;

/**
 * A RecommenderError or StoreError flattened so it survives structured cloning
 * (comlink drops custom fields of Error objects): only strings and a marker.
 */
export interface WireError {
  __recommenderError: true;
  code: RecommenderErrorCode;
  message: string;
  fix: string;
}

/** Every store code is a RecommenderErrorCode too, so a StoreError keeps its code on the page. */
const STORE_CODES: Record<StoreErrorCode, RecommenderErrorCode> = {
  quota_exceeded: 'quota_exceeded',
  blocked: 'blocked',
  corrupt_record: 'corrupt_record',
  unavailable: 'unavailable',
  version_error: 'version_error',
  unknown: 'unknown',
};

const isStoreCode = (code: unknown): code is StoreErrorCode => typeof code === 'string' && Object.hasOwn(STORE_CODES, code);

/** Worker side: what a rejected call sends to the page. */
export function toWireError(e: unknown): WireError | Error {
  if (e instanceof RecommenderError) return { __recommenderError: true, code: e.code, message: e.message, fix: e.fix };
  // a StoreError, also one from another copy of the store module (matched by name and code)
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof StoreError || (e instanceof Error && e.name === 'StoreError' && isStoreCode(code))) {
    const storeCode = (e as StoreError).code;
    const fix = (e as { fix?: unknown }).fix;
    return {
      __recommenderError: true,
      code: STORE_CODES[storeCode],
      message: e.message,
      fix: typeof fix === 'string' && fix ? fix : STORE_ERROR_FIX[storeCode],
    };
  }
  return e instanceof Error ? e : new Error(String(e));
}

/** Page side: a WireError becomes a RecommenderError again (same code, message and fix); anything else is returned as is. */
export function fromWireError(e: unknown): unknown {
  if (e && typeof e === 'object' && (e as WireError).__recommenderError === true) {
    const w = e as WireError;
    const err = new RecommenderError(w.code, '', String(w.fix ?? ''));
    err.message = String(w.message ?? '');
    return err;
  }
  return e;
}
