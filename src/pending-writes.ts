/**
 * The pending-write marker: the page's half of "every track() is either stored or
 * reported lost". A track() call gets its event id here, on the page, and the id is
 * marked in localStorage synchronously, before the call leaves for the worker; the
 * mark is removed once the worker answers (stored, or refused: the caller was told).
 * A page that closes, reloads or crashes with writes unanswered leaves its mark. The
 * next page of the site (any tab) waits until that page and its worker are gone (a
 * Web Lock they hold for their lives), asks IndexedDB which of the marked ids are
 * stored, and reports the others as one `events_lost` error event, then removes the mark.
 *
 * The mark holds no event content: only a random page token and ranges of counters
 * (`{"v":1,"r":[[0,12]]}` under `on-device-recs:pending:<store>:<token>`); the key is
 * removed whenever nothing is pending, and deleteData() removes every mark of the store.
 * Without localStorage or Web Locks there is no mark (and nothing is reported).
 */
import { ERROR_FIX, RecommenderError } from './errors';
import type { EngineEvent } from './types';

const KEY_PREFIX = 'on-device-recs:pending:';
const LOCK_PREFIX = 'on-device-recs:page:';

/** Errors after which the worker keeps the event queued and retries it: the mark stays until a later write confirms it. */
const RETRIED_CODES: ReadonlySet<string> = new Set([
  'storage',
  'quota_exceeded',
  'blocked',
  'unavailable',
  'version_error',
  'corrupt_record',
  'unknown',
]);

/** A set of counters as sorted, disjoint half-open ranges: a burst of calls answered in order stays one or two ranges. */
class CounterRanges {
  private ranges: [number, number][] = [];

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  add(n: number): void {
    // new counters are the largest so far: look from the end
    let i = this.ranges.length;
    while (i > 0 && this.ranges[i - 1][0] > n) i--;
    const before = this.ranges[i - 1];
    if (before && n < before[1]) return; // already in
    const after = this.ranges[i];
    if (before && before[1] === n) {
      before[1] = n + 1;
      if (after && after[0] === n + 1) before[1] = this.ranges.splice(i, 1)[0][1];
    } else if (after && after[0] === n + 1) after[0] = n;
    else this.ranges.splice(i, 0, [n, n + 1]);
  }

  delete(n: number): boolean {
    const i = this.ranges.findIndex(([a, b]) => n >= a && n < b);
    if (i < 0) return false;
    const [a, b] = this.ranges[i];
    const parts: [number, number][] = [];
    if (a < n) parts.push([a, n]);
    if (n + 1 < b) parts.push([n + 1, b]);
    this.ranges.splice(i, 1, ...parts);
    return true;
  }

  /** Removes and returns every counter below `n`. */
  takeBelow(n: number): number[] {
    const out: number[] = [];
    while (this.ranges.length && this.ranges[0][0] < n) {
      const r = this.ranges[0];
      const end = Math.min(r[1], n);
      for (let k = r[0]; k < end; k++) out.push(k);
      if (end === r[1]) this.ranges.shift();
      else r[0] = end;
    }
    return out;
  }

  clear(): void {
    this.ranges = [];
  }

  toJSON(): [number, number][] {
    return this.ranges;
  }

  static from(value: unknown): number[] {
    if (!Array.isArray(value)) return [];
    const out: number[] = [];
    for (const r of value.slice(0, 10_000)) {
      if (!Array.isArray(r) || !Number.isSafeInteger(r[0]) || !Number.isSafeInteger(r[1]) || r[0] < 0 || r[1] <= r[0]) continue;
      for (let k = r[0]; k < Math.min(r[1], r[0] + 100_000); k++) out.push(k);
    }
    return out;
  }
}

function randomToken(): string {
  const c = globalThis.crypto;
  const raw = c?.randomUUID ? c.randomUUID().replaceAll('-', '') : `${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  return raw.slice(0, 16);
}

/** The page's marks for one database, and the reports of pages that left theirs. */
export class PendingWrites {
  /** Held (shared) by this page and each of its engine workers for their lives. */
  readonly lockName: string;
  private readonly key: string;
  private readonly prefix: string;
  private next = 0;
  /** Sent to the worker, no answer yet. */
  private readonly unanswered = new CounterRanges();
  /** Refused for a storage failure: the worker keeps them queued and retries. */
  private readonly retrying = new CounterRanges();
  /** Retried by a worker that died: being looked up in IndexedDB. */
  private readonly checking = new CounterRanges();

  private constructor(
    private readonly storage: Storage,
    private readonly locks: LockManager,
    storeName: string,
    private readonly token: string,
  ) {
    this.prefix = `${KEY_PREFIX}${storeName}:`;
    this.key = `${this.prefix}${token}`;
    this.lockName = `${LOCK_PREFIX}${token}`;
  }

  /** The marks of this page, or null where localStorage or Web Locks are missing (or refused). */
  static start(storeName: string, signal: AbortSignal): PendingWrites | null {
    try {
      const storage = globalThis.localStorage;
      const locks = (globalThis.navigator as (Navigator & { locks?: LockManager }) | undefined)?.locks;
      if (!storage || !locks) return null;
      const marks = new PendingWrites(storage, locks, storeName, randomToken());
      locks.request(marks.lockName, { mode: 'shared', signal }, () => new Promise<never>(() => undefined)).catch(() => undefined);
      return marks;
    } catch {
      return null; // localStorage access refused (sandboxed frame, storage settings)
    }
  }

  private idOf(n: number): string {
    return `${this.token}-${n.toString(36)}`;
  }

  private counterOf(id: string): number {
    return id.startsWith(`${this.token}-`) ? parseInt(id.slice(this.token.length + 1), 36) : -1;
  }

  /** Writes the mark as it is now (or removes it when nothing is pending). Synchronous, so it is there before the call leaves. */
  private save(): void {
    try {
      const ranges = [...this.unanswered.toJSON(), ...this.retrying.toJSON(), ...this.checking.toJSON()];
      if (ranges.length === 0) this.storage.removeItem(this.key);
      else this.storage.setItem(this.key, JSON.stringify({ v: 1, r: ranges }));
    } catch {
      // localStorage full or refused: this write goes unmarked
    }
  }

  /** A new event id for a track() call, marked pending. */
  begin(): string {
    const n = this.next++;
    this.unanswered.add(n);
    this.save();
    return this.idOf(n);
  }

  /** The worker stored the event: it, and every retried event sent before it (the worker writes its queue in order), are done. */
  stored(id: string): void {
    const n = this.counterOf(id);
    this.unanswered.delete(n);
    this.retrying.takeBelow(n + 1);
    this.save();
  }

  /** The worker refused it: done, unless it said the event is kept and retried. */
  failed(id: string, error: unknown): void {
    const n = this.counterOf(id);
    if (!this.unanswered.delete(n)) return;
    const code = error instanceof RecommenderError ? error.code : '';
    if (RETRIED_CODES.has(code)) this.retrying.add(n);
    this.save();
  }

  /**
   * The worker died: the events it kept for retrying went with it unless it wrote them. Returns
   * their ids to check against IndexedDB (they stay marked until checked: keep() puts them back).
   */
  takeRetrying(): string[] {
    const taken = this.retrying.takeBelow(Number.MAX_SAFE_INTEGER);
    for (const n of taken) this.checking.add(n);
    return taken.map((n) => this.idOf(n));
  }

  /** Ids returned by takeRetrying() were checked (and the lost ones reported). */
  checked(ids: string[]): void {
    for (const id of ids) this.checking.delete(this.counterOf(id));
    this.save();
  }

  /** deleteData(): every mark of this database goes (the events they named were deleted with it). */
  clearAll(): void {
    this.unanswered.clear();
    this.retrying.clear();
    this.checking.clear();
    try {
      for (const k of this.markKeys()) this.storage.removeItem(k);
    } catch {
      // nothing to remove
    }
  }

  private markKeys(): string[] {
    const keys: string[] = [];
    for (let i = 0; i < this.storage.length; i++) {
      const k = this.storage.key(i);
      if (k?.startsWith(this.prefix)) keys.push(k);
    }
    return keys;
  }

  /**
   * Reports what other pages of this database left marked: for each, once that page and its
   * workers are gone, `unstored` says which marked ids IndexedDB lacks; they are reported as
   * one events_lost error event and the mark is removed (a failed check keeps it for next time).
   */
  recover(unstored: (ids: string[]) => Promise<string[]>, emit: (e: EngineEvent) => void, signal: AbortSignal): void {
    let keys: string[];
    try {
      keys = this.markKeys().filter((k) => k !== this.key);
    } catch {
      return;
    }
    for (const key of keys) {
      const token = key.slice(this.prefix.length);
      if (!/^[a-z0-9]{1,40}$/.test(token)) continue;
      void this.locks
        .request(`${LOCK_PREFIX}${token}`, { signal }, async () => {
          const ids = readMark(this.storage, key).map((n) => `${token}-${n.toString(36)}`);
          if (ids.length > 0) {
            const lost = await unstored(ids);
            if (lost.length > 0) emit(eventsLost(lost.length));
          }
          this.storage.removeItem(key);
        })
        .catch(() => undefined);
    }
  }
}

function readMark(storage: Storage, key: string): number[] {
  try {
    const raw = storage.getItem(key);
    const mark = raw ? (JSON.parse(raw) as { v?: unknown; r?: unknown }) : null;
    return mark?.v === 1 ? CounterRanges.from(mark.r) : [];
  } catch {
    return [];
  }
}

/** The error event for `count` tracked events that never reached IndexedDB. */
export function eventsLost(count: number): EngineEvent {
  return {
    type: 'error',
    code: 'events_lost',
    message: `${count} event${count === 1 ? '' : 's'} tracked on this device never reached its storage: the page was closed, reloaded or crashed (or its engine stopped) before ${count === 1 ? 'it was' : 'they were'} written.`,
    fix: ERROR_FIX.events_lost,
  };
}
