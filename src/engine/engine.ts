/**
 * The engine: owns the catalog index, the encoder, the on-device store and the
 * visitor's profile. It runs inside the Web Worker (engine.worker.ts) and, for
 * tests and tools, directly in Node with injected dependencies.
 */
import type {
  Backend,
  CatalogItem,
  CatalogReport,
  EngineEvent,
  EngineStats,
  ExportedData,
  Reason,
  Recommendation,
  RecommendOptions,
  RecommenderOptions,
  SetCatalogOptions,
  StoredEvent,
  TrackEvent,
  EventType,
} from '../types';
import { RecommenderError } from '../errors';
import { contentHash, itemText, validateCatalog } from '../catalog/validate';
import { validateRecommendOptions } from '../options';
import { emptyMatrix, matrixFromRows, rowOf, similarities } from '../math/matrix';
import { topK } from '../math/top-k';
import type { ModelFileReader, SentenceEncoder } from '../encoding/encoder';
import { loadVectorFile } from '../vectors/vector-file';
import { contextFeatures, DEFAULT_EXPLORATION, SlateMixer, sourceLists, type ExplorationConfig, type MixerState, type ShownItem, type Source } from '../exploration/mixer';
import { mulberry32 } from '../math/random';
import { buildProfile, DEFAULT_PROFILE_CONFIG, type Profile } from '../profile/profile';
import {
  applyExclusions,
  catalogOrderPrior,
  DEFAULT_RANKING_CONFIG,
  explainRecommendation,
  historyContributions,
  mmrSelect,
  linearScore,
  personalScores,
  scoreComponents,
  type GlobalContext,
  type CatalogIndex,
  type RankingConfig,
} from '../ranking/score';
import { LexicalIndex } from '../catalog/lexical';
import { mapToCatalog, type GlobalModel } from '../global/global-model';
import { DEFAULT_TASK_WEIGHTS, rerankWithHeads, type RankingHeads, type TaskWeights } from '../ranking/heads';
import type { RecommenderStore } from '../store';
import { createCatalogScorer, type CatalogScorer, type ScoringPath } from '../candidates/scorer';
import { quantizeItems, quantizeQueries, type QuantizedItems } from '../candidates/quantized-scoring';
import { GPU_MAX_K } from '../candidates/webgpu-scoring';
import { buildRetrievalIndex, DEFAULT_RETRIEVAL, exclusionMask, interestQueries, retrieveCandidates, subIndex, type RetrievalIndex, type SubIndex } from '../candidates/retrieval';

export const EVENT_TYPES: readonly EventType[] = ['view', 'click', 'like', 'add_to_cart', 'purchase', 'dwell', 'dismiss', 'search'];
const MAX_QUERY_LENGTH = 1_000;
const MAX_CONTEXT_KEYS = 32;
const MAX_K = 500;
const FLUSH_DELAY_MS = 25;
const FLUSH_BATCH = 200;
const MAX_PENDING = 10_000;
/** Below this many items recommend() scores every item exactly; above, two-stage retrieval. */
export const DEFAULT_RETRIEVAL_MIN_ITEMS = 20_000;

export interface EngineDeps {
  store: () => Promise<RecommenderStore>;
  encoder: () => Promise<SentenceEncoder>;
  /** The site's non-personal global model, if it ships one (null: content only). */
  globalModel?: () => Promise<GlobalModel | null>;
  /** Multi-task ranking heads (null: rank by the linear score). */
  rankingHeads?: () => Promise<RankingHeads | null>;
  fetchCatalog?: (url: string) => Promise<unknown>;
  /** Reads files of an ahead-of-time catalog vector folder (setCatalog options.vectors). */
  vectorReader?: (folderUrl: string) => ModelFileReader;
  /** Builds the catalog scorer for a path (default: the TypeScript twin only). */
  scorer?: (items: QuantizedItems, path: ScoringPath | 'auto', onFallback: (from: ScoringPath, to: ScoringPath, reason: string) => void) => Promise<CatalogScorer>;
  /** Cross-tab notifications (BroadcastChannel in browsers). */
  channel?: { post(msg: unknown): void; onMessage(cb: (msg: unknown) => void): void; close(): void };
  now?: () => number;
  tabId?: string;
}

interface Pending {
  event: StoredEvent;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
}

interface LoadedCatalog extends CatalogIndex {
  lexical: LexicalIndex;
  global: GlobalContext | null;
  /** Two-stage retrieval for large catalogs (null: exact scoring of every item). */
  retrieval: RetrievalIndex | null;
}

export class Engine {
  private listeners = new Set<(e: EngineEvent) => void>();
  private store: RecommenderStore | null = null;
  private storePromise: Promise<RecommenderStore> | null = null;
  private encoderPromise: Promise<SentenceEncoder> | null = null;
  private encoder: SentenceEncoder | null = null;
  private catalog: LoadedCatalog | null = null;
  private log: StoredEvent[] = [];
  private historyLoaded: Promise<void> | null = null;
  private profile: Profile | null = null;
  private pending: Pending[] = [];
  /** The batch being written right now. */
  private inflight: Pending[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> | null = null;
  private counter = 0;
  private sinceLastPrune = 0;
  private lostEvents = 0;
  /** The last attempt to write events failed (the queue may then drop its oldest beyond MAX_PENDING). */
  private storageFailing = false;
  private scorer: CatalogScorer | null = null;
  // exploration: the bandit, the last slate shown (awaiting feedback) and a log of impressions with propensities
  private mixer: SlateMixer;
  private explorationConfig: ExplorationConfig;
  private seed: number;
  private slateCounter = 0;
  private lastSlate: { itemId: string; shown: ShownItem; outcome: number | null }[] = [];
  private impressions: { itemId: string; slot: number; source: Source; propensity: number; at: number; outcome: number | null }[] = [];
  private readonly tabId: string;
  private readonly now: () => number;
  private readonly ranking: RankingConfig;
  private readonly taskWeights: TaskWeights;

  constructor(
    private readonly options: RecommenderOptions,
    private readonly deps: EngineDeps,
  ) {
    this.tabId = deps.tabId ?? randomId();
    this.now = deps.now ?? Date.now;
    const diversity = options.diversity ?? 1 - DEFAULT_RANKING_CONFIG.mmrLambda;
    if (typeof diversity !== 'number' || !(diversity >= 0 && diversity <= 1)) {
      throw new RecommenderError('invalid_options', `diversity must be a number from 0 to 1, got ${String(diversity)}.`, 'Use e.g. { diversity: 0.15 } (0 = relevance only).');
    }
    this.ranking = { ...DEFAULT_RANKING_CONFIG, mmrLambda: 1 - diversity, excludeSeen: options.excludeSeen ?? DEFAULT_RANKING_CONFIG.excludeSeen };
    const tw = { ...DEFAULT_TASK_WEIGHTS, ...(options.taskWeights ?? {}) };
    if (![tw.click, tw.conversion].every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0) || tw.click + tw.conversion <= 0) {
      throw new RecommenderError('invalid_options', `taskWeights must be non-negative numbers, not both 0; got ${JSON.stringify(options.taskWeights)}.`, 'Use e.g. { taskWeights: { click: 1, conversion: 0.5 } }.');
    }
    this.taskWeights = tw;
    const x = options.exploration ?? {};
    const rate = x.rate ?? DEFAULT_EXPLORATION.rate;
    const decay = x.decay ?? DEFAULT_EXPLORATION.decay;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new RecommenderError('invalid_options', `exploration.rate must be a number from 0 to 1, got ${String(rate)}.`, 'Use e.g. { exploration: { rate: 0.2 } }, or 0 for pure exploitation.');
    if (typeof decay !== 'number' || !(decay > 0 && decay <= 1)) throw new RecommenderError('invalid_options', `exploration.decay must be in (0, 1], got ${String(decay)}.`, 'Use e.g. 0.98 (1 keeps all evidence).');
    const policy = x.policy ?? DEFAULT_EXPLORATION.policy;
    if (!['off', 'thompson', 'contextual'].includes(policy)) throw new RecommenderError('invalid_options', `Unknown exploration.policy "${String(policy)}".`, 'Use "thompson", "contextual" or "off".');
    const prior = x.prior ?? DEFAULT_EXPLORATION.prior;
    if (!(prior === 'population' || prior === 'uniform' || (typeof prior === 'object' && prior !== null && Object.values(prior).every((v) => typeof v === 'number' && v >= 0 && v <= 1)))) {
      throw new RecommenderError('invalid_options', 'exploration.prior must be "population", "uniform" or rates from 0 to 1 per source.', 'Use e.g. { exploration: { prior: "uniform" } }.');
    }
    const priorStrength = x.priorStrength ?? DEFAULT_EXPLORATION.priorStrength;
    if (typeof priorStrength !== 'number' || !(priorStrength > 0)) throw new RecommenderError('invalid_options', `exploration.priorStrength must be a positive number, got ${String(priorStrength)}.`, 'Use e.g. 200.');
    this.explorationConfig = { ...DEFAULT_EXPLORATION, policy, rate, decay, prior, priorStrength };
    this.mixer = new SlateMixer(this.explorationConfig);
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
    deps.channel?.onMessage((msg) => {
      if (msg && typeof msg === 'object' && (msg as { type?: string }).type === 'events') void this.reloadHistory();
      if (msg && typeof msg === 'object' && (msg as { type?: string }).type === 'deleted') this.resetMemory();
    });
  }

  on(listener: (e: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: EngineEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a listener's failure must not break the engine */
      }
    }
  }

  // ------------------------------------------------------------ lifecycle

  private async getStore(): Promise<RecommenderStore> {
    if (this.store) return this.store;
    this.storePromise ??= this.deps.store().then(
      (s) => (this.store = s),
      (e) => {
        this.storePromise = null;
        throw e;
      },
    );
    return this.storePromise;
  }

  private async getEncoder(): Promise<SentenceEncoder> {
    if (this.encoder) return this.encoder;
    this.encoderPromise ??= (async () => {
      this.emit({ type: 'progress', progress: { phase: 'model', done: 0, total: 1 } });
      const enc = await this.deps.encoder();
      this.encoder = enc;
      this.emit({ type: 'backend', backend: enc.info.backend, reason: enc.backendReason ?? `encoder ${enc.info.name} runs on ${enc.info.backend}` });
      this.emit({ type: 'progress', progress: { phase: 'model', done: 1, total: 1 } });
      return enc;
    })().catch((e) => {
      this.encoderPromise = null;
      throw e;
    });
    return this.encoderPromise;
  }

  /** Loads an optional model after `after` settles; a failure is reported and the engine ranks without it. */
  private optionalModel<T>(what: string, load: (() => Promise<T | null>) | undefined, after: Promise<unknown> = Promise.resolve()): Promise<T | null> {
    if (!load) {
      after.catch(() => undefined); // nothing waits on it then: a failure (e.g. a tampered encoder) is reported by its own caller
      return Promise.resolve(null);
    }
    return after
      .catch(() => undefined)
      .then(() => load())
      .catch((e: unknown) => {
        this.emit({ type: 'error', message: `${what} not used: ${(e as Error).message}` });
        return null;
      });
  }

  private globalPromise: Promise<GlobalModel | null> | null = null;
  private getGlobalModel(): Promise<GlobalModel | null> {
    this.globalPromise ??= this.optionalModel('Global model', this.deps.globalModel);
    return this.globalPromise;
  }

  private headsPromise: Promise<RankingHeads | null> | null = null;
  /** After the encoder: onnxruntime-web's WebGPU backend hung when two sessions were created at once. */
  private getHeads(): Promise<RankingHeads | null> {
    this.headsPromise ??= this.optionalModel('Ranking heads', this.deps.rankingHeads, this.getEncoder());
    return this.headsPromise;
  }

  /** Loads history (and applies retention) once; later calls reuse it. */
  private ensureHistory(): Promise<void> {
    this.historyLoaded ??= this.reloadHistory(true);
    return this.historyLoaded;
  }

  private async reloadHistory(prune = false): Promise<void> {
    const store = await this.getStore();
    if (prune) {
      await this.prune(store);
      await this.loadExploration(store);
    }
    const stored = await store.events();
    const storedIds = new Set(stored.map((e) => e.eventId));
    const unwritten = [...this.inflight, ...this.pending].map((p) => p.event).filter((e) => !storedIds.has(e.eventId));
    this.log = [...stored, ...unwritten];
    this.profile = null;
    this.emit({ type: 'change', what: 'events' });
  }

  private async prune(store: RecommenderStore): Promise<number> {
    const maxEvents = this.options.maxEvents ?? 10_000;
    const maxAgeMs = (this.options.maxEventAgeDays ?? 365) * 86_400_000;
    this.sinceLastPrune = 0;
    return store.pruneEvents({ maxEvents, maxAgeMs, now: this.now() });
  }

  // ------------------------------------------------------------ exploration state

  private async loadExploration(store: RecommenderStore): Promise<void> {
    try {
      const saved = await store.getState<{ mixer: MixerState; counter: number; policy: string; impressions: Engine['impressions']; lastSlate: Engine['lastSlate'] }>('exploration');
      if (saved && saved.policy === this.explorationConfig.policy && saved.mixer?.version === 1 && saved.mixer.beta?.decay === this.explorationConfig.decay) {
        this.mixer = new SlateMixer(this.explorationConfig, saved.mixer);
        this.slateCounter = saved.counter ?? 0;
        this.impressions = saved.impressions ?? [];
        this.lastSlate = saved.lastSlate ?? [];
      }
    } catch (e) {
      this.emit({ type: 'error', message: `Exploration state unreadable, starting afresh: ${(e as Error).message}` });
    }
  }

  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private saveExploration(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.getStore()
        .then((store) => store.putState('exploration', { mixer: this.mixer.toJSON(), counter: this.slateCounter, policy: this.explorationConfig.policy, impressions: this.impressions.slice(-500), lastSlate: this.lastSlate }))
        .catch((e: unknown) => this.emit({ type: 'error', message: `Could not save the exploration state: ${(e as Error).message}` }));
    }, 50);
  }

  /** Feedback from a tracked event to the slate it came from. */
  private slateFeedback(event: StoredEvent): void {
    if (!event.itemId) return;
    const entry = this.lastSlate.find((e) => e.itemId === event.itemId && e.outcome === null);
    if (!entry) return;
    const reward = event.type === 'dismiss' ? -1 : ['click', 'like', 'add_to_cart', 'purchase'].includes(event.type) ? 1 : null;
    if (reward === null) return;
    entry.outcome = reward;
    this.mixer.feedback(entry.shown, reward);
    const logged = [...this.impressions].reverse().find((i) => i.itemId === entry.itemId && i.outcome === null);
    if (logged) logged.outcome = reward;
    this.saveExploration();
  }

  /** Impressions of the previous slate that got no reaction count as failures. */
  private closeSlate(): void {
    for (const e of this.lastSlate) {
      if (e.outcome !== null) continue;
      e.outcome = 0;
      this.mixer.feedback(e.shown, 0);
    }
    for (const i of this.impressions) if (i.outcome === null) i.outcome = 0;
  }

  // ------------------------------------------------------------ catalog

  /** The setCatalog() call in progress: read calls made meanwhile wait for it instead of failing with not_ready. */
  private catalogLoading: Promise<unknown> | null = null;

  async setCatalog(input: CatalogItem[] | string, setOptions: SetCatalogOptions = {}): Promise<CatalogReport> {
    const loading = this.loadCatalog(input, setOptions);
    this.catalogLoading = loading;
    try {
      return await loading;
    } finally {
      if (this.catalogLoading === loading) this.catalogLoading = null;
    }
  }

  /** The loaded catalog, once a setCatalog() in progress has settled; not_ready only when none was ever asked for (or every attempt failed). */
  private async readyCatalog(): Promise<LoadedCatalog> {
    while (this.catalogLoading) await this.catalogLoading.catch(() => undefined);
    return this.requireCatalog();
  }

  private async loadCatalog(input: CatalogItem[] | string, setOptions: SetCatalogOptions): Promise<CatalogReport> {
    let raw: unknown = input;
    if (typeof input === 'string') {
      if (!this.deps.fetchCatalog) throw new RecommenderError('invalid_options', 'A catalog URL was given but this engine cannot fetch.', 'Pass the items array instead.');
      this.emit({ type: 'progress', progress: { phase: 'catalog', done: 0, total: 1 } });
      raw = await this.deps.fetchCatalog(input);
      if (raw && typeof raw === 'object' && !Array.isArray(raw) && Array.isArray((raw as { items?: unknown }).items)) raw = (raw as { items: unknown }).items;
    }
    const { items, problems } = validateCatalog(raw);
    this.emit({ type: 'progress', progress: { phase: 'catalog', done: 1, total: 1 } });
    const [encoder, store, globalModel] = await Promise.all([this.getEncoder(), this.getStore(), this.getGlobalModel(), this.getHeads()]);
    const hashes = items.map(contentHash);
    const modelHash = encoder.info.modelHash;
    const dims = encoder.info.dimensions;
    // ahead-of-time vectors (npm run embed:catalog): a failure is reported and the items are embedded here
    let fromFile = new Map<string, Float32Array>();
    if (setOptions.vectors !== undefined) {
      try {
        if (typeof setOptions.vectors !== 'string') throw new RecommenderError('invalid_options', 'setCatalog options.vectors must be a URL string.', 'Pass the URL of the folder written by npm run embed:catalog.');
        if (!this.deps.vectorReader) throw new RecommenderError('invalid_options', 'This engine cannot fetch catalog vectors.', 'Leave options.vectors out.');
        const where = setOptions.vectors.endsWith('/') ? setOptions.vectors : `${setOptions.vectors}/`;
        fromFile = await loadVectorFile(this.deps.vectorReader(where), where, { modelHash, dims });
      } catch (e) {
        this.emit({ type: 'error', message: `Catalog vectors not used, embedding on the device instead: ${(e as Error).message}` });
      }
    }
    let cached = new Map<string, Float32Array>();
    try {
      cached = await store.getVectors(modelHash, hashes.filter((h) => !fromFile.has(h)));
    } catch (e) {
      this.emit({ type: 'error', message: `Vector cache unreadable, embedding everything again: ${(e as Error).message}` });
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
    const embeddedItems = missing.reduce((n, l) => n + l.length, 0);
    const total = missing.length;
    this.emit({ type: 'progress', progress: { phase: 'embed', done: 0, total } });
    const CHUNK = 512;
    for (let start = 0; start < missing.length; start += CHUNK) {
      const group = missing.slice(start, start + CHUNK);
      const vectors = await encoder.embed(group.map((same) => itemText(items[same[0]])));
      group.forEach((same, j) => same.forEach((itemIdx) => (rows[itemIdx] = vectors[j])));
      try {
        await store.putVectors(modelHash, group.map((same, j) => ({ contentHash: hashes[same[0]], vector: vectors[j] })));
      } catch (e) {
        this.emit({ type: 'error', message: `Could not cache item vectors (${(e as Error).message}); they will be computed again next visit.` });
      }
      this.emit({ type: 'progress', progress: { phase: 'embed', done: Math.min(total, start + CHUNK), total } });
    }
    const fileCount = fromFile.size ? hashes.filter((h) => fromFile.has(h)).length : 0;
    const indexOf = new Map(items.map((it, i) => [it.id, i] as const));
    const global: GlobalContext | null = globalModel
      ? { model: globalModel, rowToCatalog: mapToCatalog(globalModel, indexOf), rowOf: new Map(globalModel.itemIds.map((id, r) => [id, r] as const)) }
      : null;
    const loaded: LoadedCatalog = {
      items,
      indexOf,
      matrix: items.length ? matrixFromRows(rows, dims) : emptyMatrix(dims),
      prior: catalogOrderPrior(items.length),
      lexical: new LexicalIndex(items),
      global,
      retrieval: null,
    };
    await this.prepareScoring(loaded);
    this.catalog = loaded;
    this.profile = null;
    void store.deleteVectorsExcept(modelHash).catch(() => undefined);
    await this.ensureHistory();
    this.emit({ type: 'change', what: 'catalog' });
    this.emit({ type: 'progress', progress: { phase: 'ready', done: items.length, total: items.length } });
    const report: CatalogReport = { loaded: items.length, embedded: embeddedItems, fromCache: items.length - embeddedItems - fileCount, problems };
    if (setOptions.vectors !== undefined) report.fromFile = fileCount;
    return report;
  }

  private requireCatalog(): LoadedCatalog {
    if (!this.catalog) throw new RecommenderError('not_ready', 'No catalog is loaded yet.', 'Call setCatalog(items or url) and wait for it before asking for recommendations.');
    return this.catalog;
  }

  private requireItem(itemId: unknown, what: string): number {
    const catalog = this.requireCatalog();
    if (typeof itemId !== 'string') throw new RecommenderError('unknown_item', `${what} needs an item id string, got ${typeof itemId}.`, 'Pass the catalog id of an item.');
    const i = catalog.indexOf.get(itemId);
    if (i === undefined) throw new RecommenderError('unknown_item', `No item with id "${truncate(itemId)}" in the catalog.`, 'Use an id from the loaded catalog (check setCatalog problems for skipped items).');
    return i;
  }

  // ------------------------------------------------------------ events

  /** Validates and queues an event; resolves once it is stored in IndexedDB. */
  async track(input: TrackEvent): Promise<void> {
    const event = this.validateEvent(input);
    this.log.push(event);
    this.profile = null;
    this.slateFeedback(event);
    const done = new Promise<void>((resolve, reject) => this.pending.push({ event, waiters: [{ resolve, reject }] }));
    if (this.pending.length > MAX_PENDING && this.storageFailing) {
      const dropped = this.pending.splice(0, this.pending.length - MAX_PENDING);
      this.lostEvents += dropped.length;
      // reported lost: they leave this session's history too, so it matches what a reload will show
      const lost = new Set(dropped.map((p) => p.event));
      this.log = this.log.filter((e) => !lost.has(e));
      const err = new RecommenderError('storage', `${dropped.length} events could not be stored and were dropped (storage keeps failing).`, 'Free disk space or lower maxEvents.');
      dropped.forEach((p) => p.waiters.forEach((w) => w.reject(err)));
      this.emit({ type: 'error', message: err.message });
    }
    this.scheduleFlush(this.pending.length >= FLUSH_BATCH ? 0 : FLUSH_DELAY_MS);
    return done;
  }

  private validateEvent(input: TrackEvent): StoredEvent {
    if (!input || typeof input !== 'object') throw new RecommenderError('invalid_event', `track() needs an event object, got ${input === null ? 'null' : typeof input}.`, 'Call track({ type: "click", itemId: "sku-1" }).');
    const { type, itemId, query, value, timestamp, context } = input;
    if (typeof type !== 'string' || !EVENT_TYPES.includes(type as EventType)) {
      throw new RecommenderError('invalid_event', `Unknown event type ${JSON.stringify(shown(type))}.`, `Use one of: ${EVENT_TYPES.join(', ')}.`);
    }
    const event: StoredEvent = { type, eventId: `${this.tabId}-${(this.counter++).toString(36)}`, timestamp: this.now() };
    if (type === 'search') {
      if (typeof query !== 'string' || query.trim() === '') throw new RecommenderError('invalid_event', 'A search event needs a non-empty query string.', 'Call track({ type: "search", query: "red shoes" }).');
      event.query = query.slice(0, MAX_QUERY_LENGTH);
    } else {
      if (typeof itemId !== 'string' || itemId.length === 0 || itemId.length > 256) {
        throw new RecommenderError('invalid_event', `A ${type} event needs the item's catalog id (a string), got ${typeof itemId === 'string' ? 'a string of length ' + itemId.length : typeof itemId}.`, `Call track({ type: "${type}", itemId: "<catalog id>" }).`);
      }
      if (this.catalog && !this.catalog.indexOf.has(itemId)) {
        throw new RecommenderError('unknown_item', `track(): no item with id "${truncate(itemId)}" in the catalog; the event was not stored.`, 'Track ids of the loaded catalog, or load the catalog that contains it first.');
      }
      event.itemId = itemId;
    }
    if (value !== undefined) {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new RecommenderError('invalid_event', `Event value must be a finite number, got ${shown(value)}.`, 'Pass seconds for dwell, or leave value out.');
      event.value = value;
    }
    if (timestamp !== undefined) {
      if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) throw new RecommenderError('invalid_event', `Event timestamp must be epoch milliseconds, got ${shown(timestamp)}.`, 'Leave timestamp out to use the current time.');
      event.timestamp = timestamp;
    }
    if (context !== undefined) {
      if (!context || typeof context !== 'object' || Array.isArray(context)) throw new RecommenderError('invalid_event', 'Event context must be a plain object of strings, numbers and booleans.', 'Pass e.g. { page: "home" }.');
      const clean: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(context).slice(0, MAX_CONTEXT_KEYS)) {
        if (k === '__proto__' || k === 'constructor' || k === 'prototype' || k.length > 64) continue;
        if (typeof v === 'string') clean[k] = v.slice(0, 256);
        else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') clean[k] = v;
      }
      event.context = clean;
    }
    return event;
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

  /** Writes every queued event; on failure they stay queued and are retried. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.pending.length);
    this.inflight = batch;
    this.flushing = (async () => {
      try {
        const store = await this.getStore();
        await store.appendEvents(batch.map((p) => p.event));
        this.storageFailing = false;
        batch.forEach((p) => p.waiters.forEach((w) => w.resolve()));
        this.deps.channel?.post({ type: 'events' });
        this.sinceLastPrune += batch.length;
        if (this.sinceLastPrune >= 500) {
          const removed = await this.prune(store);
          if (removed > 0) await this.reloadHistory();
        }
      } catch (e) {
        this.storageFailing = true;
        this.pending.unshift(...batch);
        const err = e instanceof RecommenderError ? e : new RecommenderError('storage', `Could not store ${batch.length} events (${(e as Error).message}); they are kept in memory and retried.`, 'Free storage space, or lower maxEvents.');
        batch.forEach((p) => {
          p.waiters.forEach((w) => w.reject(err));
          p.waiters = [];
        });
        this.emit({ type: 'error', message: err.message });
        this.scheduleRetry();
      } finally {
        this.inflight = [];
        this.flushing = null;
      }
    })();
    await this.flushing;
  }

  private retryDelay = 500;
  private scheduleRetry(): void {
    setTimeout(() => {
      // flush() keeps failed events queued instead of rejecting: the backoff resets only once they are written
      void this.flush().then(
        () => {
          if (this.pending.length === 0) this.retryDelay = 500;
        },
        () => undefined,
      );
    }, this.retryDelay);
    this.retryDelay = Math.min(30_000, this.retryDelay * 2);
  }

  private getProfile(): Profile {
    if (this.profile) return this.profile;
    const catalog = this.catalog;
    this.profile = buildProfile(
      this.log,
      (id) => {
        const i = catalog?.indexOf.get(id);
        return i === undefined || !catalog ? undefined : rowOf(catalog.matrix, i);
      },
      this.now(),
      DEFAULT_PROFILE_CONFIG,
    );
    return this.profile;
  }

  // ------------------------------------------------------------ ranking

  /** The configured scoring path: `scoring`, else a forced `backend`, else auto. */
  private requestedScoring(): ScoringPath | 'auto' {
    return this.options.scoring ?? (this.options.backend && this.options.backend !== 'auto' ? this.options.backend : 'auto');
  }

  /** Builds the retrieval index and scorer for a large catalog (or when a scoring path is forced). */
  private async prepareScoring(catalog: LoadedCatalog): Promise<void> {
    const old = this.scorer;
    this.scorer = null;
    if (old) void old.dispose().catch(() => undefined);
    const requested = this.requestedScoring();
    const minItems = this.options.retrievalMinItems ?? DEFAULT_RETRIEVAL_MIN_ITEMS;
    const forced = this.options.scoring !== undefined && this.options.scoring !== 'auto';
    if (catalog.items.length === 0 || (!forced && catalog.items.length < minItems)) return;
    const quantized = quantizeItems(catalog.matrix);
    catalog.retrieval = buildRetrievalIndex(catalog, quantized, catalog.global);
    this.scorer = await this.makeScorer(quantized, requested);
  }

  private async makeScorer(items: QuantizedItems, path: ScoringPath | 'auto'): Promise<CatalogScorer> {
    const onFallback = (from: ScoringPath, to: ScoringPath, reason: string): void =>
      this.emit({ type: 'backend', component: 'scoring', backend: to, reason: `catalog scoring: ${from} unavailable (${reason})` });
    const scorer = this.deps.scorer ? await this.deps.scorer(items, path, onFallback) : await createCatalogScorer(items, path === 'auto' ? 'js' : path, { onFallback });
    this.emit({ type: 'backend', component: 'scoring', backend: scorer.path, reason: `catalog scoring on ${scorer.path}: ${scorer.reason}` });
    return scorer;
  }

  /** Top k from the scorer; a lost GPU device falls back to WASM and the call is answered there. */
  private async scorerTopK(catalog: LoadedCatalog, run: (s: CatalogScorer) => Promise<number[]>): Promise<number[]> {
    const scorer = this.scorer;
    if (!scorer || !catalog.retrieval) throw new Error('no scorer');
    if (!scorer.lost) {
      try {
        return await run(scorer);
      } catch (e) {
        if (scorer.path !== 'webgpu') throw e;
      }
    }
    // the GPU device was lost (driver reset, tab in background too long) or failed: keep serving on WASM
    this.emit({ type: 'error', message: 'The GPU device was lost; catalog scoring continues on WASM.' });
    if (this.scorer === scorer) {
      this.scorer = null;
      void scorer.dispose().catch(() => undefined);
      this.scorer = await this.makeScorer(catalog.retrieval.quantized, 'wasm');
    }
    return run(this.scorer as CatalogScorer);
  }

  /** Stage 1 for large catalogs: the candidates and the small index stage 2 ranks. */
  private async candidates(catalog: LoadedCatalog, profile: Profile, options: RecommendOptions): Promise<SubIndex> {
    const r = catalog.retrieval as RetrievalIndex;
    const mask = exclusionMask(catalog, r, options, profile.seen, this.ranking.excludeSeen);
    const content = profile.interests.length ? await this.scorerTopK(catalog, async (s) => (await s.topK(interestQueries(profile, r.quantized.paddedDims), DEFAULT_RETRIEVAL.content, mask)).indices) : [];
    const found = retrieveCandidates(catalog, catalog.global, r, profile, mask, content, this.ranking);
    return subIndex(catalog, catalog.global, found);
  }

  async recommend(input?: RecommendOptions): Promise<Recommendation[]> {
    const options = validateRecommendOptions(input);
    const full = await this.readyCatalog();
    await this.ensureHistory();
    const k = clampK(options.k, 10);
    const profile = this.getProfile();
    // large catalogs: rank the retrieved candidates only (each gets its exact score)
    const sub = full.retrieval ? await this.candidates(full, profile, options) : null;
    const catalog: CatalogIndex = sub ? sub.index : full;
    const global = sub ? sub.global : full.global;
    const components = scoreComponents(catalog, profile, global, this.ranking);
    let scores = linearScore(components, catalog, profile, this.ranking);
    applyExclusions(scores, catalog, options, profile.seen, this.ranking.excludeSeen);
    const heads = await this.getHeads();
    if (heads && profile.sequence.length > 0) {
      scores = await rerankWithHeads(heads, catalog, profile, components, scores, Math.max(200, 5 * k), this.taskWeights);
      applyExclusions(scores, catalog, options, profile.seen, this.ranking.excludeSeen);
    }
    const ranked = mmrSelect(scores, catalog.matrix, k, this.ranking.mmrLambda);
    const toFull = (i: number): number => (sub ? sub.rows[i] : i);
    // exploration: the open slots are filled by the bandit from the candidate sources
    this.closeSlate();
    const rand = mulberry32((this.seed ^ Math.imul(++this.slateCounter, 0x9e3779b1)) >>> 0);
    const lists = sourceLists(components, scores, catalog.prior, ranked, k, rand);
    const features = contextFeatures(components, catalog.prior);
    const shown = this.mixer.compose(lists, Math.min(k, ranked.length), rand, features);
    const now = this.now();
    this.lastSlate = shown.map((sh) => ({ itemId: catalog.items[sh.item].id, shown: sh, outcome: null }));
    for (const sh of shown) this.impressions.push({ itemId: catalog.items[sh.item].id, slot: sh.slot, source: sh.source, propensity: sh.propensity, at: now, outcome: null });
    if (this.impressions.length > 1000) this.impressions.splice(0, this.impressions.length - 500);
    if (this.mixer.openSlots(k) > 0) this.saveExploration();
    return shown.map((sh) => {
      const i = sh.item;
      const reasons: Reason[] =
        sh.source === 'explore'
          ? [{ kind: 'explore', text: 'Something new for you: shown to learn what else you might like' }]
          : sh.source === 'trending'
            ? [{ kind: 'popular', text: 'Trending in this catalog' }]
            : explainRecommendation(i, catalog, profile, global);
      return { ...this.toRecommendation(toFull(i), scores[i], reasons), source: sh.source, propensity: Math.round(sh.propensity * 1e4) / 1e4 };
    });
  }

  /** Impressions shown by recommend() with their slot, source, propensity and outcome (1 click, 0 none, -1 dismiss), oldest first. */
  impressionLog(): { itemId: string; slot: number; source: Source; propensity: number; at: number; outcome: number | null }[] {
    return this.impressions.map((i) => ({ ...i }));
  }

  async similar(itemId: string, k?: number): Promise<Recommendation[]> {
    const full = await this.readyCatalog();
    const target = this.requireItem(itemId, 'similar()');
    await this.ensureHistory();
    const profile = this.getProfile();
    const want = clampK(k, 10);
    let sub: SubIndex | null = null;
    if (full.retrieval) {
      const r = full.retrieval;
      const mask = exclusionMask(full, r, {}, new Map([...profile.seen].filter(([, t]) => t === 'purchase' || t === 'dismiss')), false, [target]);
      const rows = await this.scorerTopK(full, async (s) => (await s.topK(quantizeQueries([rowOf(full.matrix, target)], [1], r.quantized.paddedDims), Math.max(GPU_MAX_K, 3 * want), mask)).indices);
      sub = subIndex(full, null, { rows: [target, ...rows, ...profile.history.map((h) => full.indexOf.get(h.itemId) ?? -1).filter((c) => c >= 0 && c !== target && !rows.includes(c))] });
    }
    const catalog: CatalogIndex = sub ? sub.index : full;
    const t = sub ? 0 : target;
    const [sims] = similarities(catalog.matrix, [rowOf(catalog.matrix, t)]);
    const personal = profile.interests.length ? personalScores(catalog, profile, this.ranking) : null;
    const scores = Float32Array.from(sims, (s, i) => s + (personal ? 0.1 * personal[i] : 0));
    scores[t] = -Infinity;
    applyExclusions(scores, catalog, {}, profile.seen, false);
    const slate = mmrSelect(scores, catalog.matrix, want, 0.92);
    const title = full.items[target].title;
    return slate.map((i) => this.toRecommendation(sub ? sub.rows[i] : i, scores[i], [{ kind: 'similar', text: `Similar to ${title}`, itemIds: [itemId] }]));
  }

  async search(query: string, k?: number): Promise<Recommendation[]> {
    const catalog = await this.readyCatalog();
    if (typeof query !== 'string') throw new RecommenderError('invalid_event', `search() needs a query string, got ${typeof query}.`, 'Call search("red shoes").');
    const q = query.slice(0, MAX_QUERY_LENGTH);
    if (q.trim() === '') return [];
    await this.ensureHistory();
    const encoder = await this.getEncoder();
    const [qv] = await encoder.embed([q]);
    const full = catalog;
    const fullLexical = full.lexical.score(q);
    const want = clampK(k, 10);
    let sub: SubIndex | null = null;
    const profile = this.getProfile();
    const dismissed = new Map([...profile.seen].filter(([, t]) => t === 'dismiss'));
    if (full.retrieval) {
      // large catalogs: semantic candidates from the scorer, plus the best lexical matches
      const r = full.retrieval;
      const mask = exclusionMask(full, r, {}, dismissed, false);
      const semanticRows = await this.scorerTopK(full, async (s) => (await s.topK(quantizeQueries([qv], [1], r.quantized.paddedDims), Math.max(GPU_MAX_K, 3 * want), mask)).indices);
      const lexicalRows = topK(Float32Array.from(fullLexical, (v, i) => (v > 0 && !mask[i] ? v : -Infinity)), 100).filter((i) => fullLexical[i] > 0);
      const rows = [...new Set([...semanticRows, ...lexicalRows])];
      for (const h of profile.history) {
        const c = full.indexOf.get(h.itemId);
        if (c !== undefined && !rows.includes(c)) rows.push(c);
      }
      sub = subIndex(full, null, { rows });
    }
    const index: CatalogIndex = sub ? sub.index : full;
    const [semantic] = similarities(index.matrix, [qv]);
    const lexical = sub ? Float32Array.from(sub.rows, (c) => fullLexical[c]) : fullLexical;
    const personal = profile.interests.length ? personalScores(index, profile, this.ranking) : null;
    const scores = new Float32Array(index.items.length);
    for (let i = 0; i < scores.length; i++) {
      scores[i] = 0.5 * semantic[i] + 0.5 * lexical[i] + (personal ? 0.15 * Math.max(0, personal[i]) : 0);
    }
    applyExclusions(scores, index, {}, dismissed, false);
    const slate = mmrSelect(scores, index.matrix, want, 0.95);
    return slate.map((i) => {
      const reasons: Reason[] = [{ kind: 'search', text: `Matches "${truncate(q, 60)}"` }];
      if (personal) {
        const parts = historyContributions(i, index, profile, 1);
        if (parts.length) {
          const t = index.items[index.indexOf.get(parts[0].itemId) as number].title;
          reasons.push({ kind: 'history', text: `Ranked up because you engaged with ${t}`, itemIds: [parts[0].itemId], weights: [parts[0].weight] });
        }
      }
      return this.toRecommendation(sub ? sub.rows[i] : i, scores[i], reasons);
    });
  }

  async explain(itemId: string): Promise<Reason[]> {
    const catalog = await this.readyCatalog();
    const i = this.requireItem(itemId, 'explain()');
    await this.ensureHistory();
    return explainRecommendation(i, catalog, this.getProfile(), catalog.global);
  }

  private toRecommendation(i: number, score: number, reasons: Reason[]): Recommendation {
    const item = this.requireCatalog().items[i];
    return { itemId: item.id, score: Math.round(score * 1e6) / 1e6, item, reasons };
  }

  // ------------------------------------------------------------ data rights

  async history(limit?: number): Promise<StoredEvent[]> {
    await this.ensureHistory();
    const all = this.log;
    return typeof limit === 'number' && limit >= 0 ? all.slice(-limit) : all.slice();
  }

  async exportData(): Promise<ExportedData> {
    await this.flush();
    return (await this.getStore()).exportAll();
  }

  async deleteData(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const err = new RecommenderError('storage', 'The event was discarded because all on-device data was deleted.', 'Nothing to do.');
    this.pending.splice(0).forEach((p) => p.waiters.forEach((w) => w.reject(err)));
    await (await this.getStore()).deleteAll();
    this.resetMemory();
    this.deps.channel?.post({ type: 'deleted' });
    this.emit({ type: 'change', what: 'deleted' });
  }

  private resetMemory(): void {
    this.log = [];
    this.profile = null;
    this.mixer = new SlateMixer(this.explorationConfig);
    this.lastSlate = [];
    this.impressions = [];
    this.slateCounter = 0;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    this.historyLoaded = Promise.resolve();
  }

  async stats(): Promise<EngineStats> {
    const store = await this.getStore();
    await this.ensureHistory();
    const [events, cachedVectors, storageBytes] = await Promise.all([store.countEvents(), store.countVectors(), store.estimateBytes().catch(() => undefined)]);
    return {
      items: this.catalog?.items.length ?? 0,
      events: events + this.pending.length,
      backend: (this.encoder?.info.backend as Backend | undefined) ?? null,
      encoder: this.encoder?.info ?? null,
      storageBytes,
      cachedVectors,
      scoring: !this.catalog
        ? null
        : this.scorer
          ? { path: this.scorer.path, reason: this.scorer.reason, deviceBytes: this.scorer.deviceBytes }
          : { path: 'exact', reason: `${this.catalog.items.length} items: every item scored exactly`, deviceBytes: 0 },
    };
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined);
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = null;
      await (await this.getStore()).putState('exploration', { mixer: this.mixer.toJSON(), counter: this.slateCounter, policy: this.explorationConfig.policy, impressions: this.impressions.slice(-500), lastSlate: this.lastSlate }).catch(() => undefined);
    }
    this.deps.channel?.close();
    this.store?.close();
    await this.scorer?.dispose().catch(() => undefined);
    await this.encoder?.dispose();
  }
}

function clampK(k: unknown, fallback: number): number {
  if (k === undefined) return fallback;
  if (typeof k !== 'number' || !Number.isFinite(k) || k < 0) throw new RecommenderError('invalid_options', `k must be a number from 0 to ${MAX_K}, got ${shown(k)}.`, 'Pass e.g. { k: 10 }.');
  return Math.min(MAX_K, Math.floor(k));
}

function truncate(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** A caller's value as an error message shows it: short, and never throwing (null-prototype objects). */
function shown(v: unknown): string {
  try {
    return truncate(String(v));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

function randomId(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID().slice(0, 8);
  return Math.floor(Math.random() * 2 ** 32).toString(36);
}
