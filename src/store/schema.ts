/**
 * The on-device database: versioned schema and ordered migrations. A new
 * version adds a function to MIGRATIONS; existing data is carried forward.
 */
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { StoredEvent } from '../types';

export const DEFAULT_DB_NAME = 'on-device-recs';
export const SCHEMA_VERSION = 1;

export interface VectorRecord {
  modelHash: string;
  contentHash: string;
  dims: number;
  vector: Float32Array;
}

export interface RecsDB extends DBSchema {
  events: { key: number; value: StoredEvent; indexes: { eventId: string; timestamp: number } };
  vectors: { key: [string, string]; value: VectorRecord; indexes: { modelHash: string } };
  state: { key: string; value: unknown };
}

type UpgradeTx = IDBPTransaction<RecsDB, StoreNames<RecsDB>[], 'versionchange'>;

/** MIGRATIONS[v] upgrades a database from version v - 1 to v. */
export const MIGRATIONS: Record<number, (db: IDBPDatabase<RecsDB>, tx: UpgradeTx) => void> = {
  1: (db) => {
    const events = db.createObjectStore('events', { keyPath: 'seq', autoIncrement: true });
    events.createIndex('eventId', 'eventId', { unique: true });
    events.createIndex('timestamp', 'timestamp');
    const vectors = db.createObjectStore('vectors', { keyPath: ['modelHash', 'contentHash'] });
    vectors.createIndex('modelHash', 'modelHash');
    db.createObjectStore('state');
  },
};

export function upgrade(db: IDBPDatabase<RecsDB>, oldVersion: number, newVersion: number | null, tx: UpgradeTx): void {
  for (let v = oldVersion + 1; v <= (newVersion ?? SCHEMA_VERSION); v++) {
    const step = MIGRATIONS[v];
    if (!step) throw new Error(`no migration to schema version ${v}`);
    step(db, tx);
  }
}
