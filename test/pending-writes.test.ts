/**
 * The pending-write marker (src/pending-writes.ts) in Node, with an in-memory
 * localStorage and a Web Locks stand-in: what a track() call marks, when the mark
 * goes, what a later page reports, and that no event content is ever written.
 * The browser behaviour (tabs closed, reloaded, crashed mid-burst) is
 * e2e/unload-durability.test.ts.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { PendingWrites } from '../src/pending-writes';
import { RecommenderError } from '../src/errors';
import type { EngineEvent } from '../src/types';

class MemoryStorage {
  private map = new Map<string, string>();
  get length(): number {
    return this.map.size;
  }
  key(i: number): string | null {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k: string): string | null {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.map.set(k, String(v));
  }
  removeItem(k: string): void {
    this.map.delete(k);
  }
  entries(): [string, string][] {
    return [...this.map.entries()];
  }
}

/** Locks held shared by live pages; an exclusive request on one waits until every holder let go. */
class Locks {
  private held = new Map<string, number>();
  private waiting: { name: string; run: () => void }[] = [];
  request(name: string, options: { mode?: string; signal?: AbortSignal }, cb: () => Promise<unknown>): Promise<unknown> {
    if (options.mode === 'shared') {
      this.held.set(name, (this.held.get(name) ?? 0) + 1);
      options.signal?.addEventListener('abort', () => this.release(name));
      return new Promise(() => undefined);
    }
    return new Promise((resolve, reject) => {
      const run = (): void => void cb().then(resolve, reject);
      if (this.held.get(name)) this.waiting.push({ name, run });
      else run();
    });
  }
  release(name: string): void {
    const n = (this.held.get(name) ?? 1) - 1;
    if (n > 0) return void this.held.set(name, n);
    this.held.delete(name);
    for (const w of this.waiting.filter((x) => x.name === name)) {
      this.waiting.splice(this.waiting.indexOf(w), 1);
      w.run();
    }
  }
}

let storage: MemoryStorage;
let locks: Locks;
beforeEach(() => {
  storage = new MemoryStorage();
  locks = new Locks();
  Object.defineProperty(globalThis, 'localStorage', { value: storage, configurable: true });
  Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true });
});
afterEach(() => {
  Reflect.deleteProperty(globalThis, 'localStorage');
  Reflect.deleteProperty(globalThis, 'navigator');
});

const quota = (): RecommenderError =>
  new RecommenderError('quota_exceeded', 'Could not store 1 events; kept in memory and retried.', 'Free disk space.');
const refused = (): RecommenderError => new RecommenderError('invalid_event', 'Unknown event type.', 'Use one of ...');
const marked = (): string[] => storage.entries().map(([k, v]) => `${k.replace(/:[0-9a-f]+$/, ':<token>')} ${v}`);

describe('pending-write marker', () => {
  test('marked synchronously when a call begins, unmarked when it is answered; the key goes when nothing is pending; no event content', () => {
    const page = PendingWrites.start('shop', new AbortController().signal);
    assert.ok(page);
    const ids = Array.from({ length: 5 }, () => page.begin());
    assert.equal(new Set(ids).size, 5);
    assert.deepEqual(marked(), ['on-device-recs:pending:shop:<token> {"v":1,"r":[[0,5]]}'], 'only counters, no event content');
    page.stored(ids[1]);
    page.failed(ids[3], refused()); // refused: the caller was told, nothing to report later
    assert.deepEqual(marked(), ['on-device-recs:pending:shop:<token> {"v":1,"r":[[0,1],[2,3],[4,5]]}']);
    page.failed(ids[0], quota()); // kept and retried by the worker: stays marked until a later write confirms it
    page.stored(ids[2]);
    assert.deepEqual(marked(), ['on-device-recs:pending:shop:<token> {"v":1,"r":[[4,5]]}'], 'a later stored event confirms the retried one');
    page.stored(ids[4]);
    assert.deepEqual(marked(), [], 'nothing pending: nothing in localStorage');
  });

  test('the next page reports what a closed page left unanswered (only the ids IndexedDB lacks), once that page is gone, and removes the mark', async () => {
    const closing = new AbortController();
    const old = PendingWrites.start('shop', closing.signal);
    assert.ok(old);
    const ids = Array.from({ length: 6 }, () => old.begin());
    old.stored(ids[0]);
    const next = PendingWrites.start('shop', new AbortController().signal);
    assert.ok(next);
    const events: EngineEvent[] = [];
    const asked: string[][] = [];
    const storedInDb = new Set([ids[2], ids[5]]); // written, but the page closed before the answer came
    next.recover(
      async (check) => (asked.push(check), check.filter((id) => !storedInDb.has(id))),
      (e) => events.push(e),
      new AbortController().signal,
    );
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(asked, [], 'not while the old page (or its worker) holds its lock');
    closing.abort(); // the old page is gone
    for (let i = 0; i < 10 && events.length === 0; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(asked, [ids.slice(1)]);
    assert.equal(events.length, 1);
    const e = events[0] as Extract<EngineEvent, { type: 'error' }>;
    assert.equal(e.code, 'events_lost');
    assert.match(e.message, /^3 events tracked on this device never reached its storage/);
    assert.ok(e.fix.length > 20);
    assert.deepEqual(marked(), [], 'the mark is removed once reported');
  });

  test('deleteData() removes every mark of the store (and none of another store); a restarted worker hands its retried ids over once', () => {
    const page = PendingWrites.start('shop', new AbortController().signal);
    const other = PendingWrites.start('blog', new AbortController().signal);
    assert.ok(page && other);
    other.begin();
    const [a, b] = [page.begin(), page.begin()];
    page.failed(a, quota());
    page.failed(b, quota());
    assert.deepEqual(page.takeRetrying(), [a, b]);
    assert.deepEqual(page.takeRetrying(), [], 'handed over once');
    assert.equal(marked().length, 2, 'still marked while they are checked');
    page.checked([a, b]);
    page.begin();
    page.clearAll();
    assert.deepEqual(
      marked().map((m) => m.split(' ')[0]),
      ['on-device-recs:pending:blog:<token>'],
    );
  });

  test('without localStorage or Web Locks there is no marker', () => {
    Reflect.deleteProperty(globalThis, 'navigator');
    assert.equal(PendingWrites.start('shop', new AbortController().signal), null);
  });
});
