/**
 * The only module that touches IndexedDB. An append-only event log written in
 * batches, an item-vector cache keyed by (model hash, content hash), and a
 * small key-value state area (profile, bandit posteriors, settings).
 *
 * The connection opens lazily and reopens after close(), deleteAll(), or when
 * another tab's upgrade or deletion made this one step aside.
 */
import { wrap, type IDBPDatabase, type IDBPObjectStore, type IDBPTransaction, type StoreNames } from 'idb';
import type { ExportedData, StoredEvent } from '../types';
import { StoreError, toStoreError } from './errors';
import { DEFAULT_DB_NAME, SCHEMA_VERSION, upgrade, type RecsDB, type UpgradeTransaction, type VectorRecord } from './schema';

export interface StoreOptions {
  /** Database name (default 'on-device-recs'). */
  name?: string;
  /**
   * An IDBFactory to use instead of the global one (tests pass a fresh
   * fake-indexeddb factory). idb recognises requests through the global
   * IDBRequest/IDBKeyRange classes, so those must belong to the same
   * implementation (`import 'fake-indexeddb/auto'` in Node).
   */
  indexedDB?: IDBFactory;
}

/** Which events pruneEvents() drops: the oldest beyond maxEvents, and those older than maxAgeMs. */
export interface RetentionPolicy {
  maxEvents?: number;
  maxAgeMs?: number;
  /** Epoch ms the age is measured from (default Date.now()). */
  now?: number;
}

export interface RecommenderStore {
  readonly name: string;
  /** Distinct records skipped on read because they did not look like events. */
  readonly corruptRecords: number;
  /** Writes a batch in one transaction; events whose eventId is already stored are skipped. */
  appendEvents(events: StoredEvent[]): Promise<{ written: number; duplicates: number }>;
  /** Events in insertion (seq) order; with `limit`, the most recent ones, still oldest first. */
  events(options?: { limit?: number; sinceSeq?: number }): Promise<StoredEvent[]>;
  /** Every record of the event log in one read: the events (as events()) and the records that do not look like events. */
  eventRecords(): Promise<EventRecords>;
  /** Which of these event ids are stored (in the order given). */
  storedEventIds(eventIds: readonly string[]): Promise<string[]>;
  countEvents(): Promise<number>;
  /** Returns how many events were deleted. */
  pruneEvents(policy: RetentionPolicy): Promise<number>;
  /** Deletes every event about this item (the visitor's "forget this"), in one transaction; returns how many. */
  deleteItemEvents(itemId: string): Promise<number>;
  /** Cached vectors for the given content hashes under this model; only hits are in the map. */
  getVectors(modelHash: string, contentHashes: string[]): Promise<Map<string, Float32Array>>;
  putVectors(modelHash: string, entries: { contentHash: string; vector: Float32Array }[]): Promise<void>;
  countVectors(): Promise<number>;
  /** Drops vectors cached for every other model; returns how many. */
  deleteVectorsExcept(modelHash: string): Promise<number>;
  getState<T>(key: string): Promise<T | undefined>;
  putState(key: string, value: unknown): Promise<void>;
  deleteState(key: string): Promise<void>;
  /** Every record of the event log plus every state entry, as one structured-cloneable object. */
  exportAll(): Promise<StoreExport>;
  /** Closes the connection and deletes the whole database. The store reopens (empty) if used again. */
  deleteAll(): Promise<void>;
  /** Bytes this origin uses (navigator.storage.estimate), when the browser tells. */
  estimateBytes(): Promise<number | undefined>;
  /** Closes the connection; a later call reopens it. */
  close(): void;
}

/** The event log as read: records that look like events, and the others with their key (the engine quarantines what fails its checks). */
export interface EventRecords {
  events: StoredEvent[];
  unreadable: { seq: number; record: unknown }[];
}

/** What exportAll() reads in one transaction; the engine turns it into ExportedData (usable and quarantined events). */
export type StoreExport = Omit<ExportedData, 'events' | 'quarantined'> & EventRecords;

/** True when a record looks like a stored event (what events() returns). */
export function isStoredEvent(v: unknown): v is StoredEvent {
  if (!v || typeof v !== 'object') return false;
  const e = v as Partial<StoredEvent>;
  return (
    typeof e.type === 'string' &&
    typeof e.eventId === 'string' &&
    typeof e.timestamp === 'number' &&
    Number.isFinite(e.timestamp) &&
    (e.itemId === undefined || typeof e.itemId === 'string') &&
    (e.query === undefined || typeof e.query === 'string') &&
    (e.value === undefined || (typeof e.value === 'number' && Number.isFinite(e.value))) &&
    (e.context === undefined || (typeof e.context === 'object' && e.context !== null && !Array.isArray(e.context)))
  );
}

type Db = IDBPDatabase<RecsDB>;

/**
 * Opens that another tab blocks, per factory and database name. A blocked open
 * request stays queued until the other tab lets go, and every later open waits
 * behind it without any event; so while one is blocked, later opens fail at
 * once with the same "blocked" error instead of hanging.
 */
const blockedOpens = new WeakMap<IDBFactory, Map<string, StoreError>>();

/**
 * getVectors() for this many content hashes or more reads the model's vectors in key order, this many
 * records a request, instead of one get() per hash.
 */
export const BULK_VECTOR_READ = 4096;

/**
 * A batch of this many vectors or more is cached as one record (a chunk): its content hashes
 * joined by spaces and its vectors in one Float32Array, under the key [modelHash, "~chunk:<id>:<rows>"]
 * ("~" sorts after every hex content hash, so a model's chunks follow its one-item records).
 */
export const CHUNK_MIN_ROWS = 64;
const CHUNK_PREFIX = '~chunk:';
/** Just after every key that starts with CHUNK_PREFIX (';' follows ':'). */
const CHUNK_END = '~chunk;';
/** Chunk records read per request. */
const CHUNK_READ = 32;

/** Vectors a key of the vectors store holds: a chunk's row count, else 1. */
function vectorsInKey(key: [string, string]): number {
  const id = key[1];
  if (!id.startsWith(CHUNK_PREFIX)) return 1;
  const rows = Number(id.slice(id.lastIndexOf(':') + 1));
  return Number.isInteger(rows) && rows > 0 ? rows : 1;
}

/** How long deleteAll() waits on a blocked deletion before saying another tab holds the database (see deleteAll). */
export const DELETE_BLOCKED_GRACE_MS = 2000;

function globalFactory(): IDBFactory | undefined {
  return (globalThis as { indexedDB?: IDBFactory }).indexedDB;
}

/** A Float32Array that owns exactly its bytes, so cloning a view does not store the whole batch buffer. */
function compact(v: Float32Array): Float32Array {
  return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength ? v : v.slice();
}

/**
 * Waits for a write transaction's requests and its commit. When the transaction
 * aborts, its requests fail with a bare AbortError while the reason (e.g. a
 * QuotaExceededError when the commit went over quota) is the transaction's own
 * error: that reason is what the caller gets, so quota_exceeded keeps its code.
 */
async function committed(tx: { done: Promise<void>; error: DOMException | null }, requests: Promise<unknown>[]): Promise<void> {
  try {
    await Promise.all([...requests, tx.done]);
  } catch (e) {
    throw (e as { name?: unknown } | null)?.name === 'AbortError' && tx.error ? tx.error : e;
  }
}

type EventsStore = IDBPObjectStore<RecsDB, ArrayLike<StoreNames<RecsDB>>, 'events', IDBTransactionMode>;

/** Reads events in seq order from an open transaction, reporting every record that is not an event (its seq and value). */
async function readEvents(
  store: EventsStore,
  options: { limit?: number; sinceSeq?: number },
  onCorrupt: (seq: number, record: unknown) => void,
): Promise<StoredEvent[]> {
  const range = options.sinceSeq !== undefined ? IDBKeyRange.lowerBound(options.sinceSeq, true) : undefined;
  const out: StoredEvent[] = [];
  if (options.limit === undefined) {
    const [keys, values] = await Promise.all([store.getAllKeys(range), store.getAll(range)]);
    values.forEach((v, i) => (isStoredEvent(v) ? out.push(v) : onCorrupt(keys[i] as number, v)));
    return out;
  }
  const limit = Math.max(0, Math.floor(options.limit));
  let cursor = limit > 0 ? await store.openCursor(range, 'prev') : null;
  while (cursor && out.length < limit) {
    if (isStoredEvent(cursor.value)) out.push(cursor.value);
    else onCorrupt(cursor.primaryKey as number, cursor.value);
    cursor = await cursor.continue();
  }
  return out.reverse();
}

class IdbRecommenderStore implements RecommenderStore {
  private conn: Db | null = null;
  private opening: Promise<Db> | null = null;
  private readonly corruptSeqs = new Set<number>();

  constructor(
    readonly name: string,
    private readonly factory: IDBFactory,
  ) {}

  get corruptRecords(): number {
    return this.corruptSeqs.size;
  }

  // ------------------------------------------------------------ connection

  private db(): Promise<Db> {
    if (this.conn) return Promise.resolve(this.conn);
    if (!this.opening) {
      const attempt = this.open();
      this.opening = attempt;
      // a failed open (even one that failed synchronously) is not cached: the next call tries again
      attempt.catch(() => {
        if (this.opening === attempt) this.opening = null;
      });
    }
    return this.opening;
  }

  private open(): Promise<Db> {
    // declared before the executor runs: fail() may be called synchronously inside it (a const would be in its dead zone)
    let opening: Promise<Db> | undefined;
    // eslint-disable-next-line prefer-const -- assigned after its declaration on purpose (see above)
    opening = new Promise<Db>((resolve, reject) => {
      let settled = false;
      const fail = (e: StoreError): void => {
        settled = true;
        if (opening && this.opening === opening) this.opening = null;
        reject(e);
      };
      const blocked = blockedOpens.get(this.factory)?.get(this.name);
      if (blocked) {
        fail(new StoreError('blocked', blocked.message));
        return;
      }
      let request: IDBOpenDBRequest;
      const unblocked = (): void => {
        blockedOpens.get(this.factory)?.delete(this.name);
      };
      try {
        request = this.factory.open(this.name, SCHEMA_VERSION);
      } catch (e) {
        fail(toStoreError(e, 'opening the on-device database'));
        return;
      }
      let migrationError: StoreError | null = null;
      request.onupgradeneeded = (event) => {
        const tx = request.transaction as IDBTransaction;
        const upgradeTx = wrap(tx) as unknown as UpgradeTransaction;
        upgradeTx.done.catch(() => undefined); // an aborted upgrade is reported through the open request
        try {
          upgrade(wrap(request.result) as Db, event.oldVersion, event.newVersion, upgradeTx);
        } catch (e) {
          migrationError = new StoreError(
            'version_error',
            `Migrating the on-device database from version ${event.oldVersion} to ${event.newVersion} failed (${(e as Error)?.message ?? e}): the stored data was left as it was; reload the page, and if it keeps failing delete this site's data.`,
            { cause: e },
          );
          tx.abort();
        }
      };
      request.onblocked = () => {
        const error = new StoreError(
          'blocked',
          'Opening the on-device database is blocked by another open tab of this site that still uses an older version: close or reload the other tabs, then try again.',
        );
        if (!blockedOpens.has(this.factory)) blockedOpens.set(this.factory, new Map());
        blockedOpens.get(this.factory)?.set(this.name, error);
        fail(error);
      };
      request.onerror = (event) => {
        event.preventDefault();
        unblocked();
        if (!settled) fail(migrationError ?? toStoreError(request.error, 'opening the on-device database'));
      };
      request.onsuccess = () => {
        unblocked();
        const raw = request.result;
        // Rejected as blocked meanwhile, or close()/deleteAll() was called: step aside.
        if (settled || this.opening !== opening) {
          raw.close();
          if (!settled)
            fail(
              new StoreError('unavailable', 'The on-device database was closed while it was opening: call the operation again; the store reopens.'),
            );
          return;
        }
        const db = wrap(raw) as Db;
        // Another tab upgrades or deletes the database: close now so it is not blocked; reopen on next use.
        raw.onversionchange = () => {
          if (this.conn === db) this.conn = null;
          raw.close();
        };
        // The browser closed it (storage cleared, disk error): reopen on next use.
        raw.onclose = () => {
          if (this.conn === db) this.conn = null;
        };
        this.conn = db;
        this.opening = null;
        settled = true;
        resolve(db);
      };
    });
    return opening;
  }

  /** Runs fn on an open connection; retries once if the connection was closed under it by another tab. */
  private async run<T>(doing: string, fn: (db: Db) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const db = await this.db();
      try {
        return await fn(db);
      } catch (e) {
        const closedUnderUs = (e as { name?: string } | null)?.name === 'InvalidStateError' && this.conn !== db;
        if (closedUnderUs && attempt === 0) continue;
        throw toStoreError(e, doing);
      }
    }
  }

  /** A transaction whose `done` never surfaces as an unhandled rejection (callers still await it). */
  private tx<Name extends StoreNames<RecsDB>, Mode extends IDBTransactionMode>(
    db: Db,
    names: Name | Name[],
    mode: Mode,
  ): IDBPTransaction<RecsDB, Name[], Mode> {
    const tx = db.transaction(Array.isArray(names) ? names : [names], mode);
    tx.done.catch(() => undefined);
    return tx;
  }

  // ------------------------------------------------------------ events

  appendEvents(events: StoredEvent[]): Promise<{ written: number; duplicates: number }> {
    if (events.length === 0) return Promise.resolve({ written: 0, duplicates: 0 });
    const bad = events.findIndex((e) => !isStoredEvent(e));
    if (bad >= 0) {
      return Promise.reject(
        new StoreError(
          'corrupt_record',
          `appendEvents(): event ${bad} of ${events.length} is not storable (it needs a string type and eventId and a finite timestamp); nothing was written.`,
        ),
      );
    }
    return this.run(`writing ${events.length} events`, async (db) => {
      // Readwrite transactions over 'events' never overlap, even across tabs,
      // so checking eventIds and adding inside one transaction is atomic.
      const tx = this.tx(db, 'events', 'readwrite');
      const store = tx.objectStore('events');
      const existing = await Promise.all(events.map((e) => store.index('eventId').getKey(e.eventId)));
      const seen = new Set<string>();
      const adds: Promise<number>[] = [];
      let duplicates = 0;
      events.forEach((e, i) => {
        if (existing[i] !== undefined || seen.has(e.eventId)) {
          duplicates++;
          return;
        }
        seen.add(e.eventId);
        const record: StoredEvent = { ...e };
        delete record.seq; // IndexedDB assigns it
        adds.push(store.add(record));
      });
      await committed(tx, adds);
      return { written: adds.length, duplicates };
    });
  }

  events(options: { limit?: number; sinceSeq?: number } = {}): Promise<StoredEvent[]> {
    return this.run('reading events', (db) =>
      readEvents(this.tx(db, 'events', 'readonly').objectStore('events'), options, (seq) => this.corruptSeqs.add(seq)),
    );
  }

  eventRecords(): Promise<EventRecords> {
    return this.run('reading events', (db) => this.readRecords(this.tx(db, 'events', 'readonly').objectStore('events')));
  }

  private async readRecords(store: EventsStore): Promise<EventRecords> {
    const unreadable: EventRecords['unreadable'] = [];
    const events = await readEvents(store, {}, (seq, record) => {
      this.corruptSeqs.add(seq);
      unreadable.push({ seq, record });
    });
    return { events, unreadable };
  }

  storedEventIds(eventIds: readonly string[]): Promise<string[]> {
    if (eventIds.length === 0) return Promise.resolve([]);
    return this.run(`looking up ${eventIds.length} event ids`, async (db) => {
      const index = this.tx(db, 'events', 'readonly').objectStore('events').index('eventId');
      const keys = await Promise.all(eventIds.map((id) => index.getKey(id)));
      return eventIds.filter((_, i) => keys[i] !== undefined);
    });
  }

  countEvents(): Promise<number> {
    return this.run('counting events', (db) => db.count('events'));
  }

  pruneEvents(policy: RetentionPolicy): Promise<number> {
    return this.run('applying the retention policy to events', async (db) => {
      const tx = this.tx(db, 'events', 'readwrite');
      const store = tx.objectStore('events');
      let removed = 0;
      if (policy.maxAgeMs !== undefined && Number.isFinite(policy.maxAgeMs)) {
        const cutoff = (policy.now ?? Date.now()) - policy.maxAgeMs;
        const stale = await store.index('timestamp').getAllKeys(IDBKeyRange.upperBound(cutoff, true));
        await Promise.all(stale.map((seq) => store.delete(seq)));
        removed += stale.length;
      }
      if (policy.maxEvents !== undefined && Number.isFinite(policy.maxEvents)) {
        const excess = (await store.count()) - Math.max(0, Math.floor(policy.maxEvents));
        if (excess > 0) {
          const oldest = await store.getAllKeys(undefined, excess);
          await store.delete(IDBKeyRange.bound(oldest[0], oldest[oldest.length - 1]));
          removed += oldest.length;
        }
      }
      await committed(tx, []);
      return removed;
    });
  }

  deleteItemEvents(itemId: string): Promise<number> {
    return this.run('deleting the events of one item', async (db) => {
      const tx = this.tx(db, 'events', 'readwrite');
      const store = tx.objectStore('events');
      const keys = await store.index('itemId').getAllKeys(itemId);
      await committed(
        tx,
        keys.map((seq) => store.delete(seq)),
      );
      return keys.length;
    });
  }

  // ------------------------------------------------------------ vectors

  getVectors(modelHash: string, contentHashes: string[]): Promise<Map<string, Float32Array>> {
    if (contentHashes.length === 0) return Promise.resolve(new Map());
    return this.run(`reading ${contentHashes.length} cached vectors`, async (db) => {
      const store = this.tx(db, 'vectors', 'readonly').objectStore('vectors');
      const hits = new Map<string, Float32Array>();
      const wanted = new Set(contentHashes);
      const keep = (r: VectorRecord | undefined, contentHash: string): void => {
        if (!r) return;
        const vector = r.vector instanceof ArrayBuffer ? new Float32Array(r.vector) : r.vector;
        if (vector instanceof Float32Array && vector.length === r.dims) hits.set(contentHash, vector);
      };
      // one record per item (small batches, and caches written before chunks)
      if (contentHashes.length < BULK_VECTOR_READ) {
        const records = await Promise.all(contentHashes.map((h) => store.get([modelHash, h])));
        records.forEach((r, i) => keep(r, contentHashes[i]));
      } else {
        // one request per BULK_VECTOR_READ records in key order instead of one get() per item
        let from = IDBKeyRange.bound([modelHash], [modelHash, CHUNK_PREFIX], false, true);
        for (;;) {
          const batch = await store.getAll(from, BULK_VECTOR_READ);
          for (const r of batch) if (wanted.has(r.contentHash)) keep(r, r.contentHash);
          if (batch.length < BULK_VECTOR_READ) break;
          from = IDBKeyRange.bound([modelHash, batch[batch.length - 1].contentHash], [modelHash, CHUNK_PREFIX], true, true);
        }
      }
      // chunk records (what putVectors writes for a batch of CHUNK_MIN_ROWS or more), oldest first
      let from = IDBKeyRange.bound([modelHash, CHUNK_PREFIX], [modelHash, CHUNK_END]);
      for (;;) {
        const batch = await store.getAll(from, CHUNK_READ);
        for (const r of batch) {
          const hashes = typeof r.hashes === 'string' ? r.hashes.split(' ') : [];
          const vector = r.vector instanceof ArrayBuffer ? new Float32Array(r.vector) : r.vector;
          if (!(vector instanceof Float32Array) || vector.length !== hashes.length * r.dims) continue; // not a chunk this code wrote
          hashes.forEach((h, i) => {
            if (wanted.has(h)) hits.set(h, vector.subarray(i * r.dims, (i + 1) * r.dims));
          });
        }
        if (batch.length < CHUNK_READ) break;
        from = IDBKeyRange.bound([modelHash, batch[batch.length - 1].contentHash], [modelHash, CHUNK_END], true);
      }
      return hits;
    });
  }

  putVectors(modelHash: string, entries: { contentHash: string; vector: Float32Array }[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return this.run(`caching ${entries.length} item vectors`, async (db) => {
      const tx = this.tx(db, 'vectors', 'readwrite');
      const store = tx.objectStore('vectors');
      const dims = entries[0].vector.length;
      if (entries.length >= CHUNK_MIN_ROWS && entries.every((e) => e.vector.length === dims && !e.contentHash.includes(' '))) {
        // one record for the whole batch: at 100,000 items, one record per item took 16 s to write and
        // 7-9 s to read back in Chromium (load 12), 512-row records 0.7 s and 0.5 s
        const vector = new Float32Array(entries.length * dims);
        entries.forEach((e, i) => vector.set(e.vector, i * dims));
        const id = `${CHUNK_PREFIX}${Date.now().toString(36).padStart(9, '0')}${Math.random().toString(36).slice(2, 8)}:${entries.length}`;
        await committed(tx, [store.put({ modelHash, contentHash: id, dims, vector, hashes: entries.map((e) => e.contentHash).join(' ') })]);
        return;
      }
      await committed(
        tx,
        entries.map((e) => store.put({ modelHash, contentHash: e.contentHash, dims: e.vector.length, vector: compact(e.vector) })),
      );
    });
  }

  countVectors(): Promise<number> {
    return this.run('counting cached vectors', async (db) => {
      const keys = await db.getAllKeys('vectors');
      return keys.reduce((n, k) => n + vectorsInKey(k), 0);
    });
  }

  deleteVectorsExcept(modelHash: string): Promise<number> {
    return this.run('dropping vectors of other models', async (db) => {
      const tx = this.tx(db, 'vectors', 'readwrite');
      const store = tx.objectStore('vectors');
      // Keys are [modelHash, contentHash]. In key order [m] sorts before every
      // [m, string] and [m, []] after every one (arrays sort after strings), so
      // these two ranges hold exactly the other models' vectors.
      const others = [IDBKeyRange.upperBound([modelHash], true), IDBKeyRange.lowerBound([modelHash, []], true)];
      const keys = await Promise.all(others.map((r) => store.getAllKeys(r)));
      await committed(
        tx,
        others.map((r) => store.delete(r)),
      );
      return keys.flat().reduce((n, k) => n + vectorsInKey(k), 0);
    });
  }

  // ------------------------------------------------------------ state

  getState<T>(key: string): Promise<T | undefined> {
    return this.run(`reading state "${key}"`, async (db) => (await db.get('state', key)) as T | undefined);
  }

  putState(key: string, value: unknown): Promise<void> {
    return this.run(`writing state "${key}"`, async (db) => {
      const tx = this.tx(db, 'state', 'readwrite');
      await committed(tx, [tx.objectStore('state').put(value, key)]);
    });
  }

  deleteState(key: string): Promise<void> {
    return this.run(`deleting state "${key}"`, async (db) => {
      const tx = this.tx(db, 'state', 'readwrite');
      await committed(tx, [tx.objectStore('state').delete(key)]);
    });
  }

  // ------------------------------------------------------------ whole database

  exportAll(): Promise<StoreExport> {
    return this.run('exporting the on-device data', async (db) => {
      const tx = this.tx(db, ['events', 'state'], 'readonly');
      const state = tx.objectStore('state');
      const [records, keys, values] = await Promise.all([this.readRecords(tx.objectStore('events')), state.getAllKeys(), state.getAll()]);
      const settings: Record<string, unknown> = {};
      keys.forEach((k, i) => (settings[String(k)] = values[i]));
      return { format: 'on-device-recs/v1', exportedAt: Date.now(), ...records, settings };
    });
  }

  async deleteAll(): Promise<void> {
    this.close();
    await new Promise<void>((resolve, reject) => {
      let request: IDBOpenDBRequest;
      try {
        request = this.factory.deleteDatabase(this.name);
      } catch (e) {
        reject(toStoreError(e, 'deleting the on-device database'));
        return;
      }
      // 'blocked' is not the end: the deletion goes on once the other connections close. WebKit fires it
      // for this store's own connection while that is still closing (a write in flight), and the deletion
      // completes a moment later; so it is an error only if the deletion is still waiting after a grace period.
      let waiting: ReturnType<typeof setTimeout> | undefined;
      request.onsuccess = () => {
        clearTimeout(waiting);
        resolve();
      };
      request.onerror = (event) => {
        clearTimeout(waiting);
        event.preventDefault();
        reject(toStoreError(request.error, 'deleting the on-device database'));
      };
      request.onblocked = () => {
        waiting ??= setTimeout(
          () =>
            reject(
              new StoreError(
                'blocked',
                'Deleting the on-device data waits for another open tab of this site that keeps the database open: close or reload the other tabs; the deletion completes as soon as they let go.',
              ),
            ),
          DELETE_BLOCKED_GRACE_MS,
        );
      };
    });
    this.corruptSeqs.clear();
  }

  async estimateBytes(): Promise<number | undefined> {
    const storage = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<{ usage?: number }> } } }).navigator?.storage;
    if (typeof storage?.estimate !== 'function') return undefined;
    try {
      return (await storage.estimate()).usage;
    } catch {
      return undefined;
    }
  }

  close(): void {
    const db = this.conn;
    this.conn = null;
    this.opening = null; // a pending open closes itself when it succeeds
    db?.close();
  }
}

/** Opens (creating or migrating) the on-device database; failures surface here as StoreError. */
export async function openStore(options: StoreOptions = {}): Promise<RecommenderStore> {
  const factory = options.indexedDB ?? globalFactory();
  if (!factory) {
    throw new StoreError(
      'unavailable',
      'IndexedDB is not available in this environment: run the engine in a browser (or pass an IDBFactory); without it history cannot be kept on the device.',
    );
  }
  const store = new IdbRecommenderStore(options.name ?? DEFAULT_DB_NAME, factory);
  await store.countEvents();
  return store;
}
