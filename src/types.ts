/**
 * Public types of the on-device recommender. Everything here crosses the
 * page <-> worker boundary, so it is plain structured-cloneable data.
 */
import type { RecommenderErrorCode } from './errors';

/** One catalog item as the integrating site describes it. */
export interface CatalogItem {
  /** Stable catalog id (string, 1..256 chars). Rendered as `data-item-id`. */
  id: string;
  title: string;
  /** Longer free text (description, synopsis). */
  description?: string;
  category?: string;
  tags?: string[];
  price?: number;
  imageUrl?: string;
  /** false hides the item from results (it still counts in history). Default true. */
  available?: boolean;
  /** Extra text fields the encoder should read, e.g. { genres: "Comedy|Drama" }. */
  text?: Record<string, string>;
  /** Attributes business rules can match (brand, age rating, margin...); not read by the encoder. */
  attributes?: Record<string, string | number | boolean>;
  /** When the item was published or added (ISO 8601 date or epoch milliseconds), for the freshness rule. */
  publishedAt?: string | number;
}

import type { Backend, EventType, Source } from './vocabulary';

export type { Backend, EventType, Source } from './vocabulary';

export interface TrackEvent {
  type: EventType;
  /** Catalog id; required for every type except `search`. */
  itemId?: string;
  /** Query text for `search`. */
  query?: string;
  /** Dwell seconds, rating, or other numeric signal. */
  value?: number;
  /** Epoch ms; defaults to now. Not before 1970, nor more than an hour ahead of the device's clock. */
  timestamp?: number;
  /** Free-form context (page, slot, ...). Kept on the device only. */
  context?: Record<string, string | number | boolean>;
}

/** An event as stored in the on-device log. */
export interface StoredEvent extends TrackEvent {
  /** Monotonic per-device key assigned by the store. */
  seq?: number;
  /** Unique id (tab id + counter) so concurrent tabs never collide. */
  eventId: string;
  timestamp: number;
}

export interface RecommendFilters {
  categories?: string[];
  tags?: string[];
  minPrice?: number;
  maxPrice?: number;
  /** Include unavailable items (default false). */
  includeUnavailable?: boolean;
}

export interface RecommendOptions {
  k?: number;
  context?: Record<string, string | number | boolean>;
  filters?: RecommendFilters;
  /** Item ids never to return. */
  exclude?: string[];
  /** Business rules of this call (or placement), applied after ranking and before exploration. */
  rules?: BusinessRules;
}

/**
 * Which items a rule is about. `attribute` is `category`, `tags` (any tag), `price`,
 * `available`, or the name of a key in the item's `attributes`; the item matches when
 * its value is one of `equals` (a value or a list) and within `min`..`max` (numbers).
 */
export interface AttributeMatch {
  attribute: string;
  equals?: string | number | boolean | (string | number | boolean)[];
  min?: number;
  max?: number;
}

/** Moves matching items' scores: `multiply` (boost >= 1, bury 0..1; sign-aware) then `add` (boost >= 0, bury <= 0). */
export interface ScoreRule extends AttributeMatch {
  multiply?: number;
  add?: number;
}

export interface BusinessRules {
  /** Items put at a 0-based slot whatever their score (still subject to exclusions and availability). */
  pin?: { itemId: string; slot: number }[];
  /** Lifts matching items. */
  boost?: ScoreRule[];
  /** Pushes matching items down. */
  bury?: ScoreRule[];
  /** Matching items are never returned (age-restricted, a brand...). */
  excludeWhere?: AttributeMatch[];
  /** Adds `weight * 2^(-age / halfLifeDays)` to items with a `publishedAt`. */
  freshness?: { halfLifeDays: number; weight: number };
  /** At most this many items of one category in a slate. */
  maxPerCategory?: number;
}

/** What similar() blends: co-visitation ("viewed together"), co-purchase ("bought together"), text ("content") or all of them ("blend", default). */
export type SimilarKind = 'blend' | 'viewed-together' | 'bought-together' | 'content';

export interface SimilarOptions {
  k?: number;
  kind?: SimilarKind;
  rules?: BusinessRules;
}

export interface SearchOptions {
  k?: number;
  rules?: BusinessRules;
}

/** A change of an item's non-text fields: applied at once, nothing is embedded again. */
export interface ItemUpdate {
  id: string;
  price?: number;
  available?: boolean;
  attributes?: Record<string, string | number | boolean>;
  publishedAt?: string | number;
}

export type ReasonKind = 'history' | 'similar' | 'search' | 'popular' | 'explore' | 'content';

export interface Reason {
  kind: ReasonKind;
  /** Human-readable sentence, e.g. "Because you viewed Heat (1995)". */
  text: string;
  /** History items that contributed most, most important first. */
  itemIds?: string[];
  /** Their share of the score, same order as itemIds. */
  weights?: number[];
}

export interface Recommendation {
  itemId: string;
  score: number;
  item: CatalogItem;
  reasons: Reason[];
  /** recommend() only: where the slot came from ('ranked', or a source the exploration bandit chose) and its propensity. */
  source?: Source;
  propensity?: number;
}

export interface EncoderInfo {
  name: string;
  dimensions: number;
  backend: Backend;
  /** SHA-256 identifying the model files (manifest hash). */
  modelHash: string;
}

export interface Progress {
  phase: 'model' | 'catalog' | 'embed' | 'ready';
  done: number;
  total: number;
}

/** Options for {@link Recommender.setCatalog}. */
export interface SetCatalogOptions {
  /**
   * URL of a folder written by `npm run embed:catalog` (ahead-of-time vectors for this
   * catalog, same encoder): items whose content matches a row are not embedded on the device.
   * A folder that fails its checks is reported (an 'error' event) and the items are embedded on the device.
   */
  vectors?: string;
}

export interface CatalogReport {
  loaded: number;
  embedded: number;
  fromCache: number;
  problems: CatalogProblem[];
  /** Items whose vectors came from the ahead-of-time vector folder. */
  fromFile?: number;
  /**
   * Set when the catalog loaded with nothing in it: code `empty_catalog` (an empty array, or every item
   * was refused; `problems` says why). The same error is sent as an `error` event; until a catalog with
   * items loads, recommend(), similar(), search(), explain() and updateItems() reject with `empty_catalog`.
   */
  error?: { code: 'empty_catalog'; message: string; fix: string };
}

export interface CatalogProblem {
  /** Position in the input array. */
  index: number;
  id?: string;
  field: string;
  message: string;
}

export interface EngineStats {
  items: number;
  /** Usable events: stored ones that pass the event checks, plus those not written yet (what history() holds). */
  events: number;
  /** Stored records held apart because they failed the event checks ({@link QuarantinedEvent}); never used. */
  quarantinedEvents: number;
  backend: Backend | null;
  encoder: EncoderInfo | null;
  storageBytes?: number;
  cachedVectors: number;
  /**
   * How recommend(), similar() and search() score the catalog: 'exact' scores every item
   * in float on the worker's CPU (catalogs up to `retrievalMinItems`); otherwise candidates
   * are retrieved on this path ('webgpu', 'wasm' or 'js', identical results) and ranked exactly.
   */
  scoring: { path: 'exact' | Backend; reason: string; deviceBytes: number } | null;
}

export interface ExportedData {
  format: 'on-device-recs/v1';
  exportedAt: number;
  /** The usable events: every stored event the engine uses (ranking, profile, history). */
  events: StoredEvent[];
  /** Stored records that failed the event checks on read: kept on the device, never used (see {@link QuarantinedEvent}). */
  quarantined: QuarantinedEvent[];
  settings: Record<string, unknown>;
}

/**
 * A record of the on-device event log that failed the checks track() makes when it was read
 * back: not an event, a type outside the vocabulary, an item not in the loaded catalog, an
 * impossible timestamp (missing, not finite, negative, more than an hour ahead of the clock),
 * or missing what its type needs (a search without a query). It stays stored (retention and
 * deleteData() still apply) but is never used for ranking, the profile, exploration or
 * history(). Every read checks again: one held for an unknown item is used again once a
 * catalog that holds the item loads.
 */
export interface QuarantinedEvent {
  /** The record's key in the log (absent when the record is not even an object). */
  seq?: number;
  /** `unknown_item` when only the item is unknown to the loaded catalog; `invalid_event` otherwise. */
  code: 'invalid_event' | 'unknown_item';
  /** What is wrong with it, for the visitor and the integrator. */
  reason: string;
  /** The record as stored. */
  record: unknown;
}

/** Options for {@link createRecommender}. */
export interface RecommenderOptions {
  /**
   * One folder holding the engine's assets as the npm package ships them (`lib/` of the package:
   * `engine.worker.js`, `ort/`, `models/`). When set, `workerUrl`, `wasmUrl` and `modelsUrl`
   * default to `<baseUrl>/engine.worker.js`, `<baseUrl>/ort/` and `<baseUrl>/models/`.
   * The script-tag bundle sets it to the folder embed.js was loaded from.
   */
  baseUrl?: string;
  /**
   * URL of the engine's worker script. Default: bundled by your bundler from the package
   * (`new Worker(new URL('./engine.worker.js', import.meta.url))`), or `<baseUrl>/engine.worker.js`.
   * Must be same-origin (browsers refuse cross-origin workers).
   */
  workerUrl?: string;
  /** Base URL of the models folder (default: `<base>/models/`). Must be same-origin unless the integrator opts in. */
  modelsUrl?: string;
  /** Encoder folder name inside modelsUrl (default 'glove-sif-100d'). */
  encoder?: string;
  /**
   * Use a Hugging Face feature-extraction model (through @huggingface/transformers) instead of
   * the default encoder. Loaded from `localModelPath` (default: modelsUrl) on the site's origin;
   * the hub is contacted only with `allowRemoteModels: true`.
   */
  huggingFaceModel?: {
    model: string;
    localModelPath?: string;
    allowRemoteModels?: boolean;
    dtype?: 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';
  };
  /** Folder (inside modelsUrl) of the site's non-personal global model built by build:global; none by default (content only). */
  globalModel?: string;
  /** Folder (inside modelsUrl) of the multi-task ranking heads built by build:heads; none by default. */
  rankingHeads?: string;
  /**
   * Folder (inside modelsUrl) of the behaviour model built by build:sequence-model (a SASRec-style
   * transformer trained site-side, training/sasrec), run in the worker over the visitor's own ordered
   * history; its scores join the ranking. None by default. A folder that cannot be used (tampered,
   * missing, built for another catalog or encoder) is reported as an error event and the engine ranks without it.
   */
  sequenceModel?: string;
  /** Force a compute backend; default picks WebGPU when available, else WASM. */
  backend?: Backend | 'auto';
  /**
   * Catalog scoring path for large catalogs: 'webgpu' (WGSL kernel, with dot4I8Packed where WGSL
   * has it), 'wasm' (the hand-written WASM scan kernel: SIMD, or scalar without WebAssembly SIMD),
   * 'js' (TypeScript) or 'auto' (default: WebGPU on a hardware adapter, else WASM). All
   * return identical results. A forced path is used whatever the catalog size.
   */
  scoring?: Backend | 'auto';
  /** Catalogs with at least this many items are scored by two-stage retrieval on the scoring path (default 20,000). */
  retrievalMinItems?: number;
  /** URL of onnxruntime-web's .wasm files (default: `<base>/ort/`). */
  wasmUrl?: string;
  /** IndexedDB database name (default 'on-device-recs'). One per site by default. */
  storeName?: string;
  /**
   * Weights of the multi-objective score when ranking heads are loaded:
   * `click · p(click) + conversion · p(conversion)`. Default `{ click: 1, conversion: 0.3 }`.
   * Raise `conversion` to favour items visitors like or buy over items they only open.
   */
  taskWeights?: { click?: number; conversion?: number };
  /**
   * Diversity of a slate, 0-1 (maximal marginal relevance): 0 ranks by relevance alone, 1 by
   * novelty against the cards already chosen alone. Default 0.15.
   */
  diversity?: number;
  /**
   * New items (ones the global model has never seen) by the behaviour model's content path; needs both a
   * `globalModel` (which says what is new) and a `sequenceModel` (does nothing without either): each new item gets
   * `newItems` times its next-item share relative to the best new item's (the model's projection of its text against
   * the visitor's state). 0 (the default) leaves new items to content similarity. On MovieLens's cold-start variant 2
   * (chosen on cold validation items) finds the cold item several times as often, and costs much on the whole catalog,
   * where new items then lead most slates (README, Measured figures). From `retrievalMinItems` items only the
   * new items retrieval brings (the content-nearest) are considered.
   */
  newItems?: number;
  /** Exclude items the visitor already interacted with (default: purchased and dismissed always; viewed ones too when true). */
  excludeSeen?: boolean;
  /** Max events kept on the device (oldest dropped first). Default 10,000. */
  maxEvents?: number;
  /** Max event age in days. Default 365. */
  maxEventAgeDays?: number;
  /** Seed for anything random (exploration): the same seed and calls give the same slates. */
  seed?: number;
  /**
   * Exploration in recommend(): `rate` is the share of slots a bandit may fill from other
   * sources (content, global model, trending, "something new for you"); 0 = pure exploitation.
   * `policy` 'thompson' (default: Beta-Bernoulli per slot and source), 'contextual' (linear
   * Thompson sampling on item features) or 'off'. `decay` forgets old evidence (default 0.98).
   */
  exploration?: {
    policy?: 'off' | 'thompson' | 'contextual';
    rate?: number;
    decay?: number;
    /**
     * Where each visitor's bandit starts: 'population' (default; how often each source's item was
     * the next interaction, measured offline, see POPULATION_SOURCE_RATES), 'uniform' (Beta(1, 1):
     * explores every source evenly), or your own rates per source.
     */
    prior?: 'population' | 'uniform' | Partial<Record<Source, number>>;
    /** Pseudo-count strength of the population prior (default 1000: each visitor's clicks move it slowly). */
    priorStrength?: number;
    /**
     * Share of each open slot chosen uniformly over the sources instead of by the bandit, 0..1
     * (an epsilon floor: every source keeps at least this share divided by the number of sources,
     * which widens catalog coverage and keeps the slates' logs fit for off-policy evaluation).
     * See DEFAULT_EXPLORATION for the default and the README's exploration section for its cost.
     */
    uniformShare?: number;
  };
  /**
   * Opt-in measurement with locally differentially private reports (off when left out: nothing is
   * ever sent). See the README's "Measuring without tracking" and {@link MeasurementOptions}.
   */
  measurement?: MeasurementOptions;
}

/** What an A/B variant changes for the visitors drawn into it (anything left out stays as configured). */
export interface VariantSettings {
  /** A short name, `[A-Za-z0-9_-]{1,32}`, unique among the variants (never sent: reports carry the variant's index). */
  name: string;
  exploration?: RecommenderOptions['exploration'];
  taskWeights?: RecommenderOptions['taskWeights'];
  diversity?: number;
  /** The `newItems` weight of this variant (new items by the behaviour model's content path). */
  newItems?: number;
  /** A global model folder for this variant, or null for none (model off). */
  globalModel?: string | null;
  /** Ranking heads for this variant, or null for none (heads off). */
  rankingHeads?: string | null;
  /** A behaviour model folder for this variant, or null for none (model off). */
  sequenceModel?: string | null;
}

/** Options of {@link RecommenderOptions.measurement}. */
export interface MeasurementOptions {
  /** URL reports are POSTed to; same origin as the page unless `allowCrossOrigin`; no query string. */
  endpoint: string;
  /** Allow an endpoint on another origin (default false; add it to your CSP's connect-src). */
  allowCrossOrigin?: boolean;
  /** Name of this placement, `[a-z0-9][a-z0-9_-]{0,31}` (default 'default'); sent as is. */
  placement?: string;
  /** Epsilon of one report (default 4), split evenly over its randomized fields. From 0.1 to 10. */
  epsilon?: number;
  /** Most epsilon spent on reports about one day of one visitor (default 8: two reports a day). */
  dailyEpsilon?: number;
  /** A/B variants (2 to 8), drawn uniformly on the device and kept there; reports carry the variant (randomized). */
  variants?: VariantSettings[];
  /** Quiet time that ends a visit (default 30 minutes). */
  visitGapMs?: number;
  /** Pending reports are sent after a random delay of up to this much (default 10 minutes). */
  maxDelayMs?: number;
  /** Build, budget and log the reports, send none: each shows in a 'measurement' event (default false). */
  dryRun?: boolean;
}

export type EngineEvent =
  | { type: 'progress'; progress: Progress }
  | { type: 'backend'; backend: Backend; reason: string; component?: 'encoder' | 'scoring' }
  /**
   * Something went wrong outside a call (the engine usually carries on): `message` says what, for the integrator's
   * logs, `fix` what to do; neither is meant for visitors.
   */
  | { type: 'error'; code: RecommenderErrorCode; message: string; fix: string }
  | { type: 'change'; what: 'events' | 'catalog' | 'deleted' }
  /** Measurement (opt-in): a report body left the device (`sent`), or, with `dryRun`, would have been sent. */
  | { type: 'measurement'; report: string; sent: boolean };

/**
 * The visitor's own controls, stored on the device (state entry 'visitor-controls'),
 * included in exportData() and removed by deleteData().
 */
export interface VisitorControls {
  /**
   * Personalisation paused: recommend(), similar() and search() use the non-personal
   * ranking, and track() validates its event and resolves without storing it (nothing
   * is tracked, no bandit or measurement count changes). setControls({ paused: false }) resumes.
   */
  paused: boolean;
  /** Categories the visitor is not interested in: recommend() and similar() never return their items. */
  notInterested: string[];
  /** "More variety": 0 (relevance only) to 1 (most diverse), the MMR weight of the slate; null: the site's `diversity` option. */
  variety: number | null;
}

/** What forget() removed. */
export interface ForgetReport {
  itemId: string;
  /** Events about the item deleted from this device (stored and queued). */
  removedEvents: number;
}

/** The public API a page uses. Every method runs in the engine's Web Worker. */
export interface Recommender {
  setCatalog(items: CatalogItem[] | string, options?: SetCatalogOptions): Promise<CatalogReport>;
  track(event: TrackEvent): Promise<void>;
  recommend(options?: RecommendOptions): Promise<Recommendation[]>;
  similar(itemId: string, options?: number | SimilarOptions): Promise<Recommendation[]>;
  search(query: string, options?: number | SearchOptions): Promise<Recommendation[]>;
  /** Changes price, availability, attributes or publishedAt of loaded items without embedding anything; the next call obeys them. */
  updateItems(updates: ItemUpdate[]): Promise<{ updated: number }>;
  explain(itemId: string): Promise<Reason[]>;
  history(limit?: number): Promise<StoredEvent[]>;
  exportData(): Promise<ExportedData>;
  deleteData(): Promise<void>;
  /**
   * "Forget this": deletes every event about the item from this device and its effect on the
   * profile, the exploration state and measurement; the next slate names it in no reason.
   */
  forget(itemId: string): Promise<ForgetReport>;
  /** The visitor's controls (pause, not interested in categories, more variety). */
  controls(): Promise<VisitorControls>;
  /** Changes some of the visitor's controls, stores them on the device and returns them all. */
  setControls(change: Partial<VisitorControls>): Promise<VisitorControls>;
  stats(): Promise<EngineStats>;
  /**
   * The same-origin static files the engine loaded so far (its worker script, onnxruntime's wasm,
   * model files, the catalog): what a service worker must keep for offline use. No personal data.
   */
  loadedFiles(): Promise<string[]>;
  /** Subscribe to progress/backend/change events; returns an unsubscribe function. */
  on(listener: (event: EngineEvent) => void): () => void;
  /** Flush pending writes and stop the worker. */
  close(): Promise<void>;
}
