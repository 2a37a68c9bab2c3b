/**
 * Errors that reach an integrator. Each names what was wrong and what to do;
 * none of them is thrown after stored data was modified.
 */
export type RecommenderErrorCode =
  | 'invalid_catalog'
  | 'invalid_event'
  | 'unknown_item'
  | 'not_ready'
  | 'model_load_failed'
  | 'model_integrity'
  | 'backend_unavailable'
  /** A storage failure not named more precisely below. */
  | 'storage'
  /** IndexedDB ran out of quota: nothing from that write was stored. */
  | 'quota_exceeded'
  /** Another open tab of the site holds the on-device database (an older version, or a deletion waits for it). */
  | 'blocked'
  /** A record could not be stored or read back as stored data. */
  | 'corrupt_record'
  /** IndexedDB cannot be used here (private browsing, storage settings, the database closed meanwhile). */
  | 'unavailable'
  /** The on-device database has another schema version than this engine expects (or a migration failed). */
  | 'version_error'
  /** IndexedDB failed for a reason it did not name. */
  | 'unknown'
  | 'invalid_options'
  /** The engine's worker stopped (crashed or was killed) while the call ran; it was restarted. */
  | 'engine_restarted'
  /** The loaded catalog has no items (an empty array, or every item was refused): there is nothing to recommend. */
  | 'empty_catalog'
  /** Events tracked on this device were never stored (the page closed or reloaded before their write, or storage kept failing). */
  | 'events_lost';

/** What to do about the codes whose fix does not depend on the call (the others carry a fix written where they are thrown). */
export const ERROR_FIX = {
  empty_catalog:
    "Serve a JSON array of items, each with at least a string id and a title ({ id, title, description?, category?, ... }); the report's problems say why each item was refused.",
  events_lost:
    'Nothing to repair: the history stored on this device is intact, only these events are missing from it. To lose fewer, wait for track() to resolve before the page navigates away (the element does for its links).',
} as const satisfies Partial<Record<RecommenderErrorCode, string>>;

export class RecommenderError extends Error {
  constructor(
    readonly code: RecommenderErrorCode,
    message: string,
    /** What the integrator should do about it. */
    readonly fix: string,
  ) {
    super(`${message} ${fix}`.trim());
    this.name = 'RecommenderError';
  }
}
