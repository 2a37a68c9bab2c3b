export {
  openStore,
  isStoredEvent,
  type EventRecords,
  type RecommenderStore,
  type RetentionPolicy,
  type StoreExport,
  type StoreOptions,
} from './store';
export { StoreError, type StoreErrorCode } from './errors';
export { DEFAULT_DB_NAME, SCHEMA_VERSION, MIGRATIONS, type Migration, type VectorRecord } from './schema';
