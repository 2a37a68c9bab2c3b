/**
 * Loading a catalog: fetch (for a URL), validate, then give every item its
 * vector, from the ahead-of-time vector folder, from the IndexedDB cache (keyed
 * by model hash and item content hash) or by embedding it on the device, and
 * build what the rooms after it read (the catalog index, the lexical index, the
 * global model placed onto the catalog).
 */
import type { CatalogReport, EngineEvent, SetCatalogOptions } from '../types';
import { ERROR_FIX, RecommenderError } from '../errors';
import { contentHash, itemText, validateCatalog } from '../catalog/validate';
import { LexicalIndex } from '../catalog/lexical';
import type { SentenceEncoder } from '../encoding/encoder';
import type { ModelFileReader } from '../runtime/model-files';
import { emptyMatrix, matrixFromRows } from '../math/matrix';
import { loadVectorFile } from '../vectors/vector-file';
import { catalogOrderPrior, type CatalogIndex } from '../vectors/catalog-index';
import { placeGlobalModel, type GlobalAsset, type GlobalContext } from '../global/global-model';
import type { RecommenderStore } from '../store';
import { errorEvent } from '../store/errors';
import { truncate } from '../slate/explanations';

/** A catalog ready to rank. */
export interface LoadedCatalog extends CatalogIndex {
  lexical: LexicalIndex;
  global: GlobalContext | null;
}

export interface CatalogSources {
  encoder: SentenceEncoder;
  store: RecommenderStore;
  globalModel: GlobalAsset | null;
  /** Reads files of an ahead-of-time vector folder (null: this engine cannot fetch them). */
  vectorReader: ((folderUrl: string) => ModelFileReader) | null;
  emit: (e: EngineEvent) => void;
}

/** Items embedded per encoder call (and per cache write). */
const EMBED_CHUNK = 512;

/** setCatalog()'s input: the items array as given, or the JSON fetched from a URL. */
export async function catalogInput(
  input: unknown,
  fetchCatalog: ((url: string) => Promise<unknown>) | undefined,
  emit: (e: EngineEvent) => void,
): Promise<unknown> {
  if (typeof input !== 'string') return input;
  if (!fetchCatalog)
    throw new RecommenderError('invalid_options', 'A catalog URL was given but this engine cannot fetch.', 'Pass the items array instead.');
  emit({ type: 'progress', progress: { phase: 'catalog', done: 0, total: 1 } });
  return fetchCatalog(input);
}

/** A JSON catalog is an array of items or `{ "items": [...] }`. */
export function catalogItemsOf(raw: unknown): unknown {
  if (raw && typeof raw === 'object' && !Array.isArray(raw) && Array.isArray((raw as { items?: unknown }).items))
    return (raw as { items: unknown }).items;
  return raw;
}

export async function loadCatalog(
  raw: unknown,
  setOptions: SetCatalogOptions,
  src: CatalogSources,
): Promise<{ catalog: LoadedCatalog; report: CatalogReport }> {
  const { items, problems } = validateCatalog(catalogItemsOf(raw));
  src.emit({ type: 'progress', progress: { phase: 'catalog', done: 1, total: 1 } });
  const { encoder, store, emit } = src;
  const hashes = items.map(contentHash);
  const modelHash = encoder.info.modelHash;
  const dims = encoder.info.dimensions;
  const fromFile = await aheadOfTimeVectors(setOptions, src, modelHash, dims);
  let cached = new Map<string, Float32Array>();
  try {
    cached = await store.getVectors(
      modelHash,
      hashes.filter((h) => !fromFile.has(h)),
    );
  } catch (e) {
    emit(
      errorEvent(e, 'Vector cache unreadable, embedding everything again', {
        code: 'storage',
        fix: 'Nothing to do: the vectors are computed on the device.',
      }),
    );
  }
  const rows: Float32Array[] = hashes.map((h) => fromFile.get(h) ?? cached.get(h) ?? new Float32Array(dims));
  // items with the same text share one embedding
  const missingByHash = new Map<string, number[]>();
  hashes.forEach((h, i) => {
    if (fromFile.has(h) || cached.has(h)) return;
    const list = missingByHash.get(h);
    if (list) list.push(i);
    else missingByHash.set(h, [i]);
  });
  const missing = [...missingByHash.values()];
  const embedded = missing.reduce((n, l) => n + l.length, 0);
  const total = missing.length;
  emit({ type: 'progress', progress: { phase: 'embed', done: 0, total } });
  for (let start = 0; start < missing.length; start += EMBED_CHUNK) {
    const group = missing.slice(start, start + EMBED_CHUNK);
    const vectors = await encoder.embed(group.map((same) => itemText(items[same[0]])));
    group.forEach((same, j) => same.forEach((itemIdx) => (rows[itemIdx] = vectors[j])));
    try {
      await store.putVectors(
        modelHash,
        group.map((same, j) => ({ contentHash: hashes[same[0]], vector: vectors[j] })),
      );
    } catch (e) {
      emit(
        errorEvent(e, 'Could not cache item vectors; they will be computed again next visit', {
          code: 'storage',
          fix: 'Free storage space to keep them.',
        }),
      );
    }
    emit({ type: 'progress', progress: { phase: 'embed', done: Math.min(total, start + EMBED_CHUNK), total } });
  }
  const fileCount = fromFile.size ? hashes.filter((h) => fromFile.has(h)).length : 0;
  const indexOf = new Map(items.map((it, i) => [it.id, i] as const));
  // only search() reads the lexical index: it is built on the first search, not before the first
  // recommendation (3.2 s of a 100,000-item catalog's load in Node here, the largest step after the vectors)
  let lexical: LexicalIndex | null = null;
  const catalog: LoadedCatalog = {
    items,
    indexOf,
    matrix: items.length ? matrixFromRows(rows, dims) : emptyMatrix(dims),
    prior: catalogOrderPrior(items.length),
    get lexical(): LexicalIndex {
      return (lexical ??= new LexicalIndex(items));
    },
    global: src.globalModel ? placeGlobalModel(src.globalModel, indexOf) : null,
  };
  void store.deleteVectorsExcept(modelHash).catch(() => undefined);
  const report: CatalogReport = { loaded: items.length, embedded, fromCache: items.length - embedded - fileCount, problems };
  if (setOptions.vectors !== undefined) report.fromFile = fileCount;
  if (items.length === 0) {
    // it still replaces the loaded catalog (a site may really have nothing to offer now), but never silently
    report.error = { code: 'empty_catalog', message: emptyCatalogMessage(problems.length), fix: ERROR_FIX.empty_catalog };
    emit({ type: 'error', ...report.error });
  }
  return { catalog, report };
}

/** What an empty catalog was: an empty array, or items that were all refused. */
function emptyCatalogMessage(refused: number): string {
  return refused === 0
    ? 'The catalog is empty (no items): there is nothing to recommend.'
    : `None of the catalog's ${refused} item${refused === 1 ? ' was' : 's were'} loaded (every one was refused, see the report's problems): there is nothing to recommend.`;
}

/** Ahead-of-time vectors (npm run embed:catalog) by content hash; a failure is reported and the items are embedded on the device. */
async function aheadOfTimeVectors(
  setOptions: SetCatalogOptions,
  src: CatalogSources,
  modelHash: string,
  dims: number,
): Promise<Map<string, Float32Array>> {
  if (setOptions.vectors === undefined) return new Map();
  try {
    if (typeof setOptions.vectors !== 'string')
      throw new RecommenderError(
        'invalid_options',
        'setCatalog options.vectors must be a URL string.',
        'Pass the URL of the folder written by npm run embed:catalog.',
      );
    if (!src.vectorReader) throw new RecommenderError('invalid_options', 'This engine cannot fetch catalog vectors.', 'Leave options.vectors out.');
    const where = setOptions.vectors.endsWith('/') ? setOptions.vectors : `${setOptions.vectors}/`;
    return await loadVectorFile(src.vectorReader(where), where, { modelHash, dims });
  } catch (e) {
    src.emit(
      errorEvent(e, 'Catalog vectors not used, embedding on the device instead', {
        code: 'model_integrity',
        fix: 'Rebuild the folder with npm run embed:catalog for this catalog and encoder.',
      }),
    );
    return new Map();
  }
}

/** The engine's catalog: the loaded one, and the setCatalog() in progress that read calls wait for instead of failing with not_ready. */
export class CatalogSlot {
  private current: LoadedCatalog | null = null;
  private loading: Promise<unknown> | null = null;

  /** The loaded catalog now (null before the first load). */
  get loaded(): LoadedCatalog | null {
    return this.current;
  }

  /** Runs `load` as the catalog in progress; what it resolves to becomes the catalog (a failed load keeps the old one). */
  async replace<R>(load: () => Promise<{ catalog: LoadedCatalog; result: R }>, onLoaded: (catalog: LoadedCatalog) => Promise<void>): Promise<R> {
    const run = (async () => {
      const { catalog, result } = await load();
      this.current = catalog;
      await onLoaded(catalog);
      return result;
    })();
    this.loading = run;
    try {
      return await run;
    } finally {
      if (this.loading === run) this.loading = null;
    }
  }

  /**
   * The catalog once a load in progress has settled; not_ready only when none was ever asked for (or every
   * attempt failed), empty_catalog when the loaded one has no items.
   */
  async ready(): Promise<LoadedCatalog> {
    while (this.loading) await this.loading.catch(() => undefined);
    if (!this.current)
      throw new RecommenderError('not_ready', 'No catalog is loaded yet.', 'Call setCatalog(items or url) before asking for recommendations.');
    if (this.current.items.length === 0)
      throw new RecommenderError('empty_catalog', 'The loaded catalog has no items: there is nothing to recommend.', ERROR_FIX.empty_catalog);
    return this.current;
  }
}

/** Whether an id is in the catalog; null when none is loaded (track() and the stored history accept every id then). */
export function knownItemOf(catalog: LoadedCatalog | null): ((id: string) => boolean) | null {
  return catalog ? (id: string) => catalog.indexOf.has(id) : null;
}

/** The index of `itemId` in the catalog, or an unknown_item error naming it. */
export function requireItem(catalog: LoadedCatalog, itemId: unknown, what: string): number {
  if (typeof itemId !== 'string')
    throw new RecommenderError('unknown_item', `${what} needs an item id string, got ${typeof itemId}.`, 'Pass the catalog id of an item.');
  const i = catalog.indexOf.get(itemId);
  if (i === undefined) {
    throw new RecommenderError(
      'unknown_item',
      `No item with id "${truncate(itemId)}" in the catalog.`,
      'Use an id from the loaded catalog (check setCatalog problems for skipped items).',
    );
  }
  return i;
}
