/** What crosses the page <-> worker boundary besides the public types. */
import { RecommenderError, type RecommenderErrorCode } from '../errors';
import type { ResolvedOptions } from '../options';

/** What the worker's init() receives: the createRecommender() options resolved on the page (defaults applied, checked, absolute URLs). */
export type WorkerInit = ResolvedOptions;

/** A RecommenderError flattened so it survives structured cloning (comlink drops custom fields of Error objects). */
export interface WireError {
  __recommenderError: true;
  code: RecommenderErrorCode;
  message: string;
  fix: string;
}

export function toWireError(e: unknown): WireError | Error {
  if (e instanceof RecommenderError) return { __recommenderError: true, code: e.code, message: e.message, fix: e.fix };
  if (e instanceof Error && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return { __recommenderError: true, code: 'storage', message: e.message, fix: '' };
  }
  return e instanceof Error ? e : new Error(String(e));
}

export function fromWireError(e: unknown): unknown {
  if (e && typeof e === 'object' && (e as WireError).__recommenderError) {
    const w = e as WireError;
    const err = new RecommenderError(w.code, '', w.fix);
    err.message = w.message;
    return err;
  }
  return e;
}
