/**
 * The on-device database: versioned schema and ordered migrations. A new
 * version bumps SCHEMA_VERSION and adds MIGRATIONS[version]; existing data is
 * carried forward by the upgrade transaction.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { StoredEvent } from '../types';

export const DEFAULT_DB_NAME = 'on-device-recs';
export const SCHEMA_VERSION = 2;

/**
 * One cached item vector, keyed by (modelHash, contentHash); or a chunk of them (store.ts, CHUNK_MIN_ROWS):
 * contentHash "~chunk:<id>:<rows>", `hashes` the rows' content hashes joined by spaces, `vector` the rows one after another.
 */
export interface VectorRecord {
  modelHash: string;
  contentHash: string;
  dims: number;
  /** Written as a compact Float32Array; an ArrayBuffer is accepted on read. */
  vector: Float32Array | ArrayBuffer;
  /** A chunk's content hashes, space-separated, in row order. */
  hashes?: string;
}

export interface RecsDB extends DBSchema {
  /** Append-only event log; `seq` is the auto-increment key (insertion order). */
  events: { key: number; value: StoredEvent; indexes: { eventId: string; timestamp: number; itemId: string } };
  vectors: { key: [string, string]; value: VectorRecord; indexes: { modelHash: string } };
  /** Out-of-line keys: 'profile', 'bandit', 'settings', 'meta', ... */
  state: { key: string; value: unknown };
}

export type UpgradeTransaction = IDBPTransaction<RecsDB, StoreNames<RecsDB>[], 'versionchange'>;
export type Migration = (db: IDBPDatabase<RecsDB>, tx: UpgradeTransaction) => void;

/** MIGRATIONS[v] upgrades a database from version v - 1 to v. */
export const MIGRATIONS: Record<number, Migration> = {
  1: (db) => {
    const events = db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
    events.createIndex('eventId', 'eventId', { unique: true });
    events.createIndex('timestamp', 'timestamp');
    const vectors = db.createObjectStore('vectors', { keyPath: ['modelHash', 'contentHash'] });
    vectors.createIndex('modelHash', 'modelHash');
    db.createObjectStore('state');
  },
  // v2: events by item id, so one item's history is found without scanning the
  // whole log; the upgrade indexes every event already stored.
  2: (_db, tx) => {
    tx.objectStore('events').createIndex('itemId', 'itemId');
  },
};

/** Runs every migration after oldVersion, in order, inside the upgrade transaction. */
export function upgrade(db: IDBPDatabase<RecsDB>, oldVersion: number, newVersion: number | null, tx: UpgradeTransaction): void {
  const target = newVersion ?? SCHEMA_VERSION;
  for (let v = oldVersion + 1; v <= target; v++) {
    const step = MIGRATIONS[v];
    if (!step) throw new Error(`no migration to schema version ${v}`);
    step(db, tx);
  }
}
