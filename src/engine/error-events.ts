/** The engine's 'error' events: every one carries a code and a fix, as the page would see the error itself. */
import type { EngineEvent } from '../types';
import type { RecommenderErrorCode } from '../errors';
import { asRecommenderError } from '../store/errors';

/** An error event for `e`: "<what>: <its message>", with its own code and fix when it has them (a StoreError keeps e.g. quota_exceeded). */
export function errorEvent(e: unknown, what: string, fallback: { code: RecommenderErrorCode; fix: string }): EngineEvent {
  const err = asRecommenderError(e);
  const detail = err ? err.message : e instanceof Error ? e.message : String(e);
  return { type: 'error', code: err?.code ?? fallback.code, message: `${what}: ${detail}`, fix: err?.fix || fallback.fix };
}
