/** Storage failures, each with what went wrong and what to do. */
export type StoreErrorCode = 'quota_exceeded' | 'blocked' | 'corrupt_record' | 'unavailable' | 'version_error' | 'unknown';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'StoreError';
  }
}

/** Maps an IndexedDB failure to a StoreError that names the problem and the fix. */
export function toStoreError(e: unknown, doing: string): StoreError {
  if (e instanceof StoreError) return e;
  const name = (e as { name?: string } | null)?.name ?? '';
  const detail = (e as { message?: string } | null)?.message ?? String(e);
  switch (name) {
    case 'QuotaExceededError':
      return new StoreError('quota_exceeded', `IndexedDB quota exceeded while ${doing}: free disk space, or lower maxEvents; unsaved events stay in memory and are retried.`);
    case 'VersionError':
      return new StoreError('version_error', `The on-device database is from a newer version of this engine (${detail}) while ${doing}: reload the page so every tab runs the same version.`);
    case 'InvalidStateError':
    case 'UnknownError':
    case 'SecurityError':
      return new StoreError('unavailable', `IndexedDB is unavailable while ${doing} (${name}: ${detail}): private browsing or storage settings may block it; the engine keeps working in memory for this visit.`);
    case 'DataError':
    case 'DataCloneError':
      return new StoreError('corrupt_record', `A record could not be stored while ${doing} (${name}: ${detail}).`);
    default:
      return new StoreError('unknown', `IndexedDB failed while ${doing}: ${name ? `${name}: ` : ''}${detail}`);
  }
}
