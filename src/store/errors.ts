/** Storage failures, each with what went wrong and what to do. */
import { RecommenderError, type RecommenderErrorCode } from '../errors';
import type { EngineEvent } from '../types';

export type StoreErrorCode = 'quota_exceeded' | 'blocked' | 'corrupt_record' | 'unavailable' | 'version_error' | 'unknown';

/**
 * What to do about each kind of failure, for StoreErrors created without a
 * fix of their own (their message already says what happened).
 */
export const STORE_ERROR_FIX: Readonly<Record<StoreErrorCode, string>> = {
  quota_exceeded: 'Free disk space or lower maxEvents, then retry; nothing from the failed write was stored.',
  blocked: "Close or reload this site's other open tabs, then try again.",
  corrupt_record:
    'Pass plain data of the documented shape (strings, finite numbers, arrays, typed arrays); nothing from the failed write was stored.',
  unavailable: 'Retry the operation; if IndexedDB stays unavailable (private browsing, storage settings), history is kept only for this visit.',
  version_error: "Reload the page so every tab runs the same version; if it keeps failing, delete this site's data to rebuild the database.",
  unknown: 'Retry the operation; stored data is unchanged.',
};

/** "Free disk space" reads as "free disk space" after a colon; "IndexedDB ..." stays as it is. */
const afterColon = (fix: string): string => fix.replace(/^[A-Z](?=[a-z])/, (c) => c.toLowerCase());

export class StoreError extends Error {
  /** What the integrator should do about it. */
  readonly fix: string;

  /**
   * `message` says what was wrong. With `options.fix` (what to do) the error's
   * `message` reads "<what was wrong>: <fix>", as one sentence, the way a
   * RecommenderError's message ends with its fix; without it, `message` is
   * kept as given and `fix` is the generic one for `code`.
   */
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown; fix?: string },
  ) {
    const fix = options?.fix?.trim();
    super(fix ? `${message}: ${afterColon(fix)}` : message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'StoreError';
    this.fix = fix || STORE_ERROR_FIX[code];
  }
}

/**
 * Maps an IndexedDB failure (usually a DOMException) to a StoreError that
 * names the problem and the fix. `doing` completes "while ...", e.g.
 * "writing 50 events".
 */
export function toStoreError(e: unknown, doing: string): StoreError {
  if (e instanceof StoreError) return e;
  const name = (e as { name?: unknown } | null)?.name;
  const errName = typeof name === 'string' ? name : '';
  const raw = (e as { message?: unknown } | null)?.message;
  const detail = typeof raw === 'string' && raw ? raw : String(e);
  const cause = e;
  switch (errName) {
    case 'QuotaExceededError':
      return new StoreError('quota_exceeded', `IndexedDB quota exceeded while ${doing}`, {
        fix: 'Free disk space or lower maxEvents; nothing from this write was stored, so it can be retried as is.',
        cause,
      });
    case 'VersionError':
      return new StoreError('version_error', `The on-device database was created by a newer version of this engine (${detail}) while ${doing}`, {
        fix: 'Reload the page so every tab runs the same version.',
        cause,
      });
    case 'NotFoundError':
      return new StoreError('version_error', `The on-device database lacks an expected object store while ${doing} (${detail})`, {
        fix: "Reload the page; if it persists, delete this site's data to rebuild it.",
        cause,
      });
    case 'InvalidStateError':
    case 'UnknownError':
    case 'SecurityError':
      return new StoreError(
        'unavailable',
        `IndexedDB is unavailable while ${doing} (${errName}: ${detail}); private browsing, storage settings or another tab deleting the data may block it`,
        {
          fix: 'Retry, or keep working in memory for this visit.',
          cause,
        },
      );
    case 'DataError':
    case 'DataCloneError':
      return new StoreError('corrupt_record', `A record could not be stored while ${doing} (${errName}: ${detail})`, {
        fix: 'Pass plain data (strings, numbers, arrays, typed arrays); nothing from this write was stored.',
        cause,
      });
    case 'AbortError':
      return new StoreError('unknown', `An IndexedDB transaction was aborted while ${doing} (${detail}); nothing from it was stored`, {
        fix: 'Retry the operation.',
        cause,
      });
    default:
      return new StoreError('unknown', `IndexedDB failed while ${doing} (${errName ? `${errName}: ` : ''}${detail}); stored data is unchanged`, {
        fix: 'Retry the operation.',
        cause,
      });
  }
}

/**
 * The RecommenderError an integrator sees for `e`: itself, or a StoreError with
 * its own code and fix (every store code is a RecommenderErrorCode); null for
 * anything else.
 */
export function asRecommenderError(e: unknown): RecommenderError | null {
  if (e instanceof RecommenderError) return e;
  if (e instanceof StoreError) {
    // the store's message already ends with its fix: keep it as it is instead of appending the fix again
    const err = new RecommenderError(e.code, '', e.fix);
    err.message = e.message;
    return err;
  }
  return null;
}

/**
 * The engine's 'error' event for `e`: "<what>: <its message>", with its own code and fix when it
 * has them (a StoreError keeps e.g. quota_exceeded), else the fallback's, as the page would see the
 * error itself.
 */
export function errorEvent(e: unknown, what: string, fallback: { code: RecommenderErrorCode; fix: string }): EngineEvent {
  const err = asRecommenderError(e);
  const detail = err ? err.message : e instanceof Error ? e.message : String(e);
  return { type: 'error', code: err?.code ?? fallback.code, message: `${what}: ${detail}`, fix: err?.fix || fallback.fix };
}
