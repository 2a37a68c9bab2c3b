/**
 * The visitor's event log: the history in memory (stored events plus those not
 * written yet), the write queue (batched, retried with backoff while storage
 * fails, bounded, losses reported), and retention (by count and age, deleted
 * on the device). track() resolves once its event is in IndexedDB.
 *
 * Every read of the stored log checks each record with track()'s own checks
 * against the loaded catalog (sortStoredEvents): what fails is quarantined, held
 * apart with its reason, counted and exported as such, never used. Each catalog
 * load reads and checks again, so a record held only for an item the catalog
 * lacked comes back when a catalog with the item loads.
 */
import type { EngineEvent, ExportedData, QuarantinedEvent, StoredEvent, TrackEvent } from '../types';
import { RecommenderError } from '../errors';
import { asRecommenderError, errorEvent } from '../store/errors';
import type { EventRecords, RecommenderStore, StoreExport } from '../store';
import { sortStoredEvents, validateEvent } from './event-validation';

const FLUSH_DELAY_MS = 25;
const FLUSH_BATCH = 200;
/** While storage fails, at most this many events wait in memory; older ones are dropped and reported lost. */
const MAX_PENDING = 10_000;
/** Retention runs again after this many written events (and once when the history is first loaded). */
const PRUNE_EVERY = 500;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;

interface Pending {
  event: StoredEvent;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

export interface EventLogDeps {
  store: () => Promise<RecommenderStore>;
  emit: (e: EngineEvent) => void;
  now: () => number;
  /** Prefix of this tab's event ids, so concurrent tabs never collide (default: random). */
  tabId?: string;
  retention: { maxEvents: number; maxEventAgeDays: number };
  /** Tells the other tabs of the site that events were written. */
  announce?: () => void;
  /** Runs when the history changed (the profile must be built again). */
  onChange: () => void;
  /** Whether an id is in the loaded catalog; null while none is loaded (every id passes then). */
  knownItem: () => ((id: string) => boolean) | null;
}

export class EventLog {
  private log: StoredEvent[] = [];
  /** Stored (or queued) records that failed the checks on the last read: kept, never used. */
  private held: QuarantinedEvent[] = [];
  private loaded: Promise<void> | null = null;
  private pending: Pending[] = [];
  /** The batch being written right now. */
  private inflight: Pending[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> | null = null;
  private counter = 0;
  private sinceLastPrune = 0;
  /** The last attempt to write events failed (the queue may then drop its oldest beyond MAX_PENDING). */
  private storageFailing = false;
  private retryDelay = RETRY_FIRST_MS;
  private readonly tabId: string;

  constructor(private readonly deps: EventLogDeps) {
    this.tabId = deps.tabId ?? randomId();
  }

  /** Every event of the visitor, oldest first (stored ones and those still queued). */
  get events(): readonly StoredEvent[] {
    return this.log;
  }

  /** The history, or its last `limit` events, as a copy. */
  history(limit?: number): StoredEvent[] {
    return typeof limit === 'number' && limit >= 0 ? this.log.slice(-limit) : this.log.slice();
  }

  get queued(): number {
    return this.pending.length;
  }

  /** Usable and quarantined events (what history() and the quarantine hold). */
  get counts(): { usable: number; quarantined: number } {
    return { usable: this.log.length, quarantined: this.held.length };
  }

  /**
   * Loads the history (applying retention, then `onFirstLoad`) once; later calls reuse it.
   * With `recheck` (a catalog loaded) a loaded history is read and checked against it again.
   */
  ensureLoaded(onFirstLoad: (store: RecommenderStore) => Promise<void>, recheck = false): Promise<void> {
    if (recheck && this.loaded) return this.recheck();
    this.loaded ??= this.reload(onFirstLoad);
    return this.loaded;
  }

  /** The loaded history read and checked again; a failed read is reported and leaves it as it was. */
  private async recheck(): Promise<void> {
    await this.loaded;
    try {
      await this.reload();
    } catch (e) {
      this.deps.emit(
        errorEvent(e, 'The stored history could not be checked against the new catalog', {
          code: 'storage',
          fix: 'Nothing to do: it is checked again when the next catalog loads or the page reloads.',
        }),
      );
    }
  }

  /** Reads the stored events again (another tab wrote some, a catalog loaded), keeping the ones not written yet. */
  async reload(onFirstLoad?: (store: RecommenderStore) => Promise<void>): Promise<void> {
    const store = await this.deps.store();
    if (onFirstLoad) {
      await this.prune(store);
      await onFirstLoad(store);
    }
    const records = await store.eventRecords();
    const storedIds = new Set(records.events.map((e) => e.eventId));
    const unwritten = [...this.inflight, ...this.pending].map((p) => p.event).filter((e) => !storedIds.has(e.eventId));
    const { usable, quarantined } = this.sort(records, unwritten);
    this.log = usable;
    this.held = quarantined;
    this.deps.onChange();
    this.deps.emit({ type: 'change', what: 'events' });
  }

  /** The log's records, stored ones in seq order then `unwritten`, sorted into usable and quarantined by track()'s checks. */
  private sort({ events, unreadable }: EventRecords, unwritten: StoredEvent[] = []): ReturnType<typeof sortStoredEvents> {
    const stored: unknown[] = unreadable.length ? [...events, ...unreadable.map((u) => u.record)].sort((a, b) => seqOf(a) - seqOf(b)) : events;
    return sortStoredEvents([...stored, ...unwritten], this.deps.now(), this.deps.knownItem());
  }

  /** The visitor's export: the store's records sorted as the history is, the quarantined ones in their own section. */
  exported({ events, unreadable, ...rest }: StoreExport): ExportedData {
    const { usable, quarantined } = this.sort({ events, unreadable });
    return { ...rest, events: usable, quarantined };
  }

  private async prune(store: RecommenderStore): Promise<number> {
    const { maxEvents, maxEventAgeDays } = this.deps.retention;
    this.sinceLastPrune = 0;
    return store.pruneEvents({ maxEvents, maxAgeMs: maxEventAgeDays * 86_400_000, now: this.deps.now() });
  }

  /** Validates and queues an event; the promise resolves once it is stored. Returns the stored form at once. */
  track(input: TrackEvent, knownItem: ((id: string) => boolean) | null, eventId?: string): { event: StoredEvent; stored: Promise<void> } {
    const event = validateEvent(input, eventId ?? `${this.tabId}-${(this.counter++).toString(36)}`, this.deps.now(), knownItem);
    this.log.push(event);
    this.deps.onChange();
    const stored = new Promise<void>((resolve, reject) => this.pending.push({ event, waiters: [{ resolve, reject }] }));
    if (this.pending.length > MAX_PENDING && this.storageFailing) {
      const dropped = this.pending.splice(0, this.pending.length - MAX_PENDING);
      // reported lost: they leave this session's history too, so it matches what a reload will show
      const lost = new Set(dropped.map((p) => p.event.eventId));
      this.log = this.log.filter((e) => !lost.has(e.eventId));
      const err = new RecommenderError(
        'events_lost',
        `${dropped.length} events could not be stored and were dropped (storage keeps failing).`,
        'Free disk space or lower maxEvents.',
      );
      dropped.forEach((p) => p.waiters.forEach((w) => w.reject(err)));
      this.deps.emit({ type: 'error', code: err.code, message: err.message, fix: err.fix });
    }
    this.scheduleFlush(this.pending.length >= FLUSH_BATCH ? 0 : FLUSH_DELAY_MS);
    return { event, stored };
  }

  private scheduleFlush(delay: number): void {
    if (this.flushTimer !== null) {
      if (delay > 0) return;
      clearTimeout(this.flushTimer);
    }
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, delay);
  }

  /** Writes every queued event; on failure they stay queued and are retried. Never rejects. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.pending.length);
    this.inflight = batch;
    this.flushing = (async () => {
      try {
        const store = await this.deps.store();
        await store.appendEvents(batch.map((p) => p.event));
        this.storageFailing = false;
        batch.forEach((p) => p.waiters.forEach((w) => w.resolve()));
        this.deps.announce?.();
        this.sinceLastPrune += batch.length;
        if (this.sinceLastPrune >= PRUNE_EVERY) {
          const removed = await this.prune(store);
          if (removed > 0) await this.reload();
        }
      } catch (e) {
        this.storageFailing = true;
        this.pending.unshift(...batch);
        // the store's own code (quota_exceeded, blocked, ...) and fix reach the page
        const cause = asRecommenderError(e);
        const err = new RecommenderError(
          cause?.code ?? 'storage',
          `Could not store ${batch.length} events (${(e as Error).message}); they are kept in memory and retried.`,
          cause?.fix || 'Free storage space, or lower maxEvents.',
        );
        batch.forEach((p) => {
          p.waiters.forEach((w) => w.reject(err));
          p.waiters = [];
        });
        this.deps.emit({ type: 'error', code: err.code, message: err.message, fix: err.fix });
        this.scheduleRetry();
      } finally {
        this.inflight = [];
        this.flushing = null;
      }
    })();
    await this.flushing;
  }

  private scheduleRetry(): void {
    setTimeout(() => {
      // flush() keeps failed events queued instead of rejecting: the backoff resets only once they are written
      void this.flush().then(() => {
        if (this.pending.length === 0) this.retryDelay = RETRY_FIRST_MS;
      });
    }, this.retryDelay);
    this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
  }

  /** Which of these event ids are not stored in IndexedDB (those of a page that closed before its writes were acknowledged). */
  async unstored(eventIds: string[]): Promise<string[]> {
    const stored = new Set(await (await this.deps.store()).storedEventIds(eventIds));
    return eventIds.filter((id) => !stored.has(id));
  }

  /** Forgets everything in memory; queued events are rejected (all on-device data is being deleted). */
  discard(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const err = new RecommenderError('storage', 'The event was discarded because all on-device data was deleted.', 'Nothing to do.');
    this.pending.splice(0).forEach((p) => p.waiters.forEach((w) => w.reject(err)));
    this.clear();
  }

  /**
   * Forgets one item (the visitor's "forget this"): its queued events are dropped
   * (their track() resolves: the visitor asked for them to be gone), the stored ones
   * are deleted from IndexedDB, and the history in memory no longer holds any.
   * Returns how many events were removed from the device.
   */
  async forgetItem(itemId: string): Promise<number> {
    await this.flush();
    const dropped = this.pending.filter((p) => p.event.itemId === itemId);
    this.pending = this.pending.filter((p) => p.event.itemId !== itemId);
    dropped.forEach((p) => p.waiters.forEach((w) => w.resolve()));
    const removed = await (await this.deps.store()).deleteItemEvents(itemId);
    this.log = this.log.filter((e) => e.itemId !== itemId);
    this.held = this.held.filter((q) => (q.record as { itemId?: unknown } | null)?.itemId !== itemId);
    this.deps.onChange();
    this.deps.announce?.();
    this.deps.emit({ type: 'change', what: 'events' });
    return removed + dropped.length;
  }

  /** Empties the history in memory (another tab deleted the data). */
  clear(): void {
    this.log = [];
    this.held = [];
    this.loaded = Promise.resolve();
    this.deps.onChange();
  }
}

function seqOf(record: unknown): number {
  const seq = (record as { seq?: unknown } | null)?.seq;
  return typeof seq === 'number' ? seq : 0;
}

function randomId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID().slice(0, 8);
  return Math.floor(Math.random() * 2 ** 32).toString(36);
}
