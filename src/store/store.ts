/**
 * The only module that touches IndexedDB. An append-only event log written in
 * batches, an item-vector cache keyed by (model hash, content hash), and a
 * small key-value state area (profile, bandit posteriors, settings).
 */
import { openDB, type IDBPDatabase } from 'idb';
import type { ExportedData, StoredEvent } from '../types';
import { StoreError, toStoreError } from './errors';
import { DEFAULT_DB_NAME, SCHEMA_VERSION, upgrade, type RecsDB } from './schema';

export interface StoreOptions {
  name?: string;
  /** An IDBFactory to use instead of the global one (tests pass fake-indexeddb). */
  indexedDB?: IDBFactory;
}

export interface RetentionPolicy {
  maxEvents?: number;
  maxAgeMs?: number;
  now?: number;
}

export interface RecommenderStore {
  readonly name: string;
  /** Records skipped on read because they did not look like events. */
  readonly corruptRecords: number;
  appendEvents(events: StoredEvent[]): Promise<{ written: number; duplicates: number }>;
  events(options?: { limit?: number; sinceSeq?: number }): Promise<StoredEvent[]>;
  countEvents(): Promise<number>;
  pruneEvents(policy: RetentionPolicy): Promise<number>;
  getVectors(modelHash: string, contentHashes: string[]): Promise<Map<string, Float32Array>>;
  putVectors(modelHash: string, entries: { contentHash: string; vector: Float32Array }[]): Promise<void>;
  countVectors(): Promise<number>;
  deleteVectorsExcept(modelHash: string): Promise<number>;
  getState<T>(key: string): Promise<T | undefined>;
  putState(key: string, value: unknown): Promise<void>;
  deleteState(key: string): Promise<void>;
  exportAll(): Promise<ExportedData>;
  /** Deletes the whole database. The store reopens (empty) if used again. */
  deleteAll(): Promise<void>;
  estimateBytes(): Promise<number | undefined>;
  close(): void;
}

export function isStoredEvent(v: unknown): v is StoredEvent {
  if (!v || typeof v !== 'object') return false;
  const e = v as Partial<StoredEvent>;
  return typeof e.type === 'string' && typeof e.eventId === 'string' && typeof e.timestamp === 'number' && Number.isFinite(e.timestamp);
}

class IdbRecommenderStore implements RecommenderStore {
  private dbPromise: Promise<IDBPDatabase<RecsDB>> | null = null;
  private corrupt = 0;

  constructor(
    readonly name: string,
    private readonly factory: IDBFactory | undefined,
  ) {}

  get corruptRecords(): number {
    return this.corrupt;
  }

  private db(): Promise<IDBPDatabase<RecsDB>> {
    if (this.dbPromise) return this.dbPromise;
    const previous = this.factory ? (globalThis as { indexedDB?: IDBFactory }).indexedDB : undefined;
    let rejectBlocked: ((e: StoreError) => void) | null = null;
    const opening = new Promise<IDBPDatabase<RecsDB>>((resolve, reject) => {
      rejectBlocked = reject;
      // idb's openDB uses the global indexedDB; swap in the injected factory for the call.
      if (this.factory) (globalThis as { indexedDB?: IDBFactory }).indexedDB = this.factory;
      try {
        openDB<RecsDB>(this.name, SCHEMA_VERSION, {
          upgrade,
          blocked: () =>
            rejectBlocked?.(new StoreError('blocked', 'The on-device database upgrade is blocked by another open tab of this site running an older version: close the other tabs (or reload them) and try again.')),
          blocking: () => this.close(),
          terminated: () => (this.dbPromise = null),
        }).then(resolve, (e) => reject(toStoreError(e, 'opening the database')));
      } finally {
        if (this.factory) (globalThis as { indexedDB?: IDBFactory }).indexedDB = previous;
      }
    });
    this.dbPromise = opening;
    opening.catch(() => {
      if (this.dbPromise === opening) this.dbPromise = null;
    });
    return opening;
  }

  private async run<T>(doing: string, fn: (db: IDBPDatabase<RecsDB>) => Promise<T>): Promise<T> {
    const db = await this.db();
    try {
      return await fn(db);
    } catch (e) {
      throw toStoreError(e, doing);
    }
  }

  appendEvents(events: StoredEvent[]): Promise<{ written: number; duplicates: number }> {
    if (events.length === 0) return Promise.resolve({ written: 0, duplicates: 0 });
    return this.run(`writing ${events.length} events`, async (db) => {
      const tx = db.transaction('events', 'readwrite');
      const ids = tx.store.index('eventId');
      let written = 0;
      let duplicates = 0;
      for (const e of events) {
        if ((await ids.getKey(e.eventId)) !== undefined) {
          duplicates++;
          continue;
        }
        const { seq: _seq, ...record } = e;
        void _seq;
        await tx.store.add(record as StoredEvent);
        written++;
      }
      await tx.done;
      return { written, duplicates };
    });
  }

  events(options: { limit?: number; sinceSeq?: number } = {}): Promise<StoredEvent[]> {
    return this.run('reading events', async (db) => {
      const range = options.sinceSeq !== undefined ? IDBKeyRange.lowerBound(options.sinceSeq, true) : undefined;
      const out: StoredEvent[] = [];
      let bad = 0;
      if (options.limit !== undefined) {
        let cursor = await db.transaction('events').store.openCursor(range, 'prev');
        while (cursor && out.length < options.limit) {
          if (isStoredEvent(cursor.value)) out.push(cursor.value);
          else bad++;
          cursor = await cursor.continue();
        }
        out.reverse();
      } else {
        for (const v of await db.getAll('events', range)) {
          if (isStoredEvent(v)) out.push(v);
          else bad++;
        }
      }
      this.corrupt = Math.max(this.corrupt, bad);
      return out;
    });
  }

  countEvents(): Promise<number> {
    return this.run('counting events', (db) => db.count('events'));
  }

  pruneEvents(policy: RetentionPolicy): Promise<number> {
    return this.run('applying the retention policy', async (db) => {
      const tx = db.transaction('events', 'readwrite');
      let removed = 0;
      if (policy.maxAgeMs !== undefined && Number.isFinite(policy.maxAgeMs)) {
        const cutoff = (policy.now ?? Date.now()) - policy.maxAgeMs;
        let cursor = await tx.store.index('timestamp').openCursor(IDBKeyRange.upperBound(cutoff, true));
        while (cursor) {
          await cursor.delete();
          removed++;
          cursor = await cursor.continue();
        }
      }
      if (policy.maxEvents !== undefined && Number.isFinite(policy.maxEvents)) {
        let excess = (await tx.store.count()) - Math.max(0, policy.maxEvents);
        let cursor = excess > 0 ? await tx.store.openCursor() : null;
        while (cursor && excess > 0) {
          await cursor.delete();
          removed++;
          excess--;
          cursor = await cursor.continue();
        }
      }
      await tx.done;
      return removed;
    });
  }

  getVectors(modelHash: string, contentHashes: string[]): Promise<Map<string, Float32Array>> {
    return this.run('reading cached vectors', async (db) => {
      const tx = db.transaction('vectors');
      const out = new Map<string, Float32Array>();
      const records = await Promise.all(contentHashes.map((h) => tx.store.get([modelHash, h])));
      records.forEach((r, i) => {
        if (r && r.vector instanceof Float32Array && r.vector.length === r.dims) out.set(contentHashes[i], r.vector);
      });
      await tx.done;
      return out;
    });
  }

  putVectors(modelHash: string, entries: { contentHash: string; vector: Float32Array }[]): Promise<void> {
    return this.run(`caching ${entries.length} item vectors`, async (db) => {
      const tx = db.transaction('vectors', 'readwrite');
      await Promise.all(entries.map((e) => tx.store.put({ modelHash, contentHash: e.contentHash, dims: e.vector.length, vector: e.vector })));
      await tx.done;
    });
  }

  countVectors(): Promise<number> {
    return this.run('counting cached vectors', (db) => db.count('vectors'));
  }

  deleteVectorsExcept(modelHash: string): Promise<number> {
    return this.run('dropping stale vectors', async (db) => {
      const tx = db.transaction('vectors', 'readwrite');
      let removed = 0;
      let cursor = await tx.store.index('modelHash').openCursor();
      while (cursor) {
        if (cursor.value.modelHash !== modelHash) {
          await cursor.delete();
          removed++;
        }
        cursor = await cursor.continue();
      }
      await tx.done;
      return removed;
    });
  }

  getState<T>(key: string): Promise<T | undefined> {
    return this.run(`reading ${key}`, async (db) => (await db.get('state', key)) as T | undefined);
  }

  putState(key: string, value: unknown): Promise<void> {
    return this.run(`writing ${key}`, async (db) => {
      await db.put('state', value, key);
    });
  }

  deleteState(key: string): Promise<void> {
    return this.run(`deleting ${key}`, (db) => db.delete('state', key));
  }

  exportAll(): Promise<ExportedData> {
    return this.run('exporting', async (db) => {
      const events = await this.events();
      const tx = db.transaction('state');
      const settings: Record<string, unknown> = {};
      let cursor = await tx.store.openCursor();
      while (cursor) {
        settings[String(cursor.key)] = cursor.value;
        cursor = await cursor.continue();
      }
      return { format: 'on-device-recs/v1', exportedAt: Date.now(), events, settings };
    });
  }

  async deleteAll(): Promise<void> {
    this.close();
    const factory = this.factory ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) throw new StoreError('unavailable', 'IndexedDB is not available, so there is nothing stored to delete.');
    await new Promise<void>((resolve, reject) => {
      const req = factory.deleteDatabase(this.name);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(toStoreError(req.error, 'deleting the database'));
      req.onblocked = () => {
        /* other tabs close their connections on versionchange; deletion completes then */
      };
    });
    this.corrupt = 0;
  }

  async estimateBytes(): Promise<number | undefined> {
    const storage = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<{ usage?: number }> } } }).navigator?.storage;
    if (!storage?.estimate) return undefined;
    return (await storage.estimate()).usage;
  }

  close(): void {
    const p = this.dbPromise;
    this.dbPromise = null;
    void p?.then((db) => db.close()).catch(() => undefined);
  }
}

export async function openStore(options: StoreOptions = {}): Promise<RecommenderStore> {
  const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) throw new StoreError('unavailable', 'IndexedDB is not available in this environment: the engine needs it to keep history on the device.');
  const store = new IdbRecommenderStore(options.name ?? DEFAULT_DB_NAME, options.indexedDB);
  await store.countEvents(); // opens (and migrates) now, so failures surface here
  return store;
}
