/** Storage failures, each with what went wrong and what to do. */
export type StoreErrorCode = 'quota_exceeded' | 'blocked' | 'corrupt_record' | 'unavailable' | 'version_error' | 'unknown';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
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
  const cause = { cause: e };
  switch (errName) {
    case 'QuotaExceededError':
      return new StoreError(
        'quota_exceeded',
        `IndexedDB quota exceeded while ${doing}: free disk space or lower maxEvents; nothing from this write was stored, so it can be retried as is.`,
        cause,
      );
    case 'VersionError':
      return new StoreError(
        'version_error',
        `The on-device database was created by a newer version of this engine (${detail}) while ${doing}: reload the page so every tab runs the same version.`,
        cause,
      );
    case 'NotFoundError':
      return new StoreError(
        'version_error',
        `The on-device database lacks an expected object store while ${doing} (${detail}): reload the page; if it persists, delete this site's data to rebuild it.`,
        cause,
      );
    case 'InvalidStateError':
    case 'UnknownError':
    case 'SecurityError':
      return new StoreError(
        'unavailable',
        `IndexedDB is unavailable while ${doing} (${errName}: ${detail}): private browsing, storage settings or another tab deleting the data may block it; retry, or keep working in memory for this visit.`,
        cause,
      );
    case 'DataError':
    case 'DataCloneError':
      return new StoreError(
        'corrupt_record',
        `A record could not be stored while ${doing} (${errName}: ${detail}): pass plain data (strings, numbers, arrays, typed arrays); nothing from this write was stored.`,
        cause,
      );
    case 'AbortError':
      return new StoreError('unknown', `An IndexedDB transaction was aborted while ${doing} (${detail}): nothing from it was stored; retry the operation.`, cause);
    default:
      return new StoreError('unknown', `IndexedDB failed while ${doing}: ${errName ? `${errName}: ` : ''}${detail}. Stored data is unchanged; retry the operation.`, cause);
  }
}
