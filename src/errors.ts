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
  | 'storage'
  | 'invalid_options'
  /** The engine's worker stopped (crashed or was killed) while the call ran; it was restarted. */
  | 'engine_restarted';

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
