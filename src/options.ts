/**
 * Options, checked before any engine code sees them:
 *
 * - createRecommender() options are resolved once, on the page (resolvePageOptions /
 *   resolveOptions): every option is checked and defaulted here, and the worker
 *   receives only the result, ResolvedOptions; no other module re-checks or re-defaults them.
 * - recommend() options (validateRecommendOptions): every wrong type gets a
 *   RecommenderError saying what was wrong and what to pass instead, before any
 *   ranking code sees it. Returns a clean copy with only the known fields.
 */
import { RecommenderError } from './errors';
import { DEFAULT_EXPLORATION, type ExplorationConfig, type ExplorationPolicy } from './exploration/config';
import { SOURCES, type Source } from './vocabulary';
import { DEFAULT_TASK_WEIGHTS } from './ranking/heads';
import { DEFAULT_RANKING_CONFIG } from './ranking/score';
import type { MeasurementOptions, RecommendFilters, RecommendOptions, RecommenderOptions, VariantSettings } from './types';
import type { SearchOptions, SimilarKind, SimilarOptions } from './types';
import { validateRules } from './catalog/business-rules';

export const SIMILAR_KINDS: readonly SimilarKind[] = ['blend', 'viewed-together', 'bought-together', 'content'];
import { MAX_EPSILON, MAX_VARIANTS, MIN_EPSILON, PLACEMENT_PATTERN } from './measurement/ldp';
import type { MeasurementSettings } from './measurement/measurement';

const MAX_LIST = 10_000;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringList(v: unknown, what: string, example: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_LIST || !v.every((s) => typeof s === 'string')) {
    throw new RecommenderError('invalid_options', `${what} must be an array of at most ${MAX_LIST} strings.`, `Pass e.g. ${example}.`);
  }
  return [...v];
}

function price(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new RecommenderError(
      'invalid_options',
      `${what} must be a finite number.`,
      `Pass e.g. { filters: { ${what.split('.').pop()}: 50 } }, or leave it out.`,
    );
  return v;
}

/** Longest query kept (search() and search events); the rest is cut. */
export const MAX_QUERY_LENGTH = 1_000;

/** The query of a search() call, cut to MAX_QUERY_LENGTH; null when it is blank (no results, no error). */
export function resolveQuery(query: unknown): string | null {
  if (typeof query !== 'string')
    throw new RecommenderError('invalid_event', `search() needs a query string, got ${typeof query}.`, 'Call search("red shoes").');
  const q = query.slice(0, MAX_QUERY_LENGTH);
  return q.trim() === '' ? null : q;
}

/** Most items one call returns. */
export const MAX_K = 500;
const DEFAULT_K = 10;

/** The `k` of a recommend(), similar() or search() call: 10 when left out, at most MAX_K. */
export function resolveK(k: unknown): number {
  if (k === undefined) return DEFAULT_K;
  if (typeof k !== 'number' || !Number.isFinite(k) || k < 0)
    throw new RecommenderError('invalid_options', `k must be a number from 0 to ${MAX_K}, got ${showValue(k)}.`, 'Pass e.g. { k: 10 }.');
  return Math.min(MAX_K, Math.floor(k));
}

export function validateRecommendOptions(options: unknown): RecommendOptions {
  if (options === undefined) return {};
  if (!isPlainObject(options))
    throw new RecommenderError('invalid_options', 'recommend() options must be an object.', 'Call recommend({ k: 10 }) or recommend().');
  const clean: RecommendOptions = {};
  if (options.k !== undefined) clean.k = options.k as number; // range-checked where k is used
  if (options.context !== undefined) {
    if (!isPlainObject(options.context))
      throw new RecommenderError('invalid_options', 'recommend() context must be a plain object.', 'Pass e.g. { context: { page: "home" } }.');
    clean.context = options.context as RecommendOptions['context'];
  }
  if (options.exclude !== undefined) clean.exclude = stringList(options.exclude, 'exclude', '{ exclude: ["sku-1"] }');
  if (options.filters !== undefined) {
    const f = options.filters;
    if (!isPlainObject(f))
      throw new RecommenderError(
        'invalid_options',
        'recommend() filters must be an object.',
        'Pass e.g. { filters: { categories: ["Comedy"], maxPrice: 50 } }.',
      );
    const filters: RecommendFilters = {};
    if (f.categories !== undefined) filters.categories = stringList(f.categories, 'filters.categories', '{ filters: { categories: ["Comedy"] } }');
    if (f.tags !== undefined) filters.tags = stringList(f.tags, 'filters.tags', '{ filters: { tags: ["vegan"] } }');
    if (f.minPrice !== undefined) filters.minPrice = price(f.minPrice, 'filters.minPrice');
    if (f.maxPrice !== undefined) filters.maxPrice = price(f.maxPrice, 'filters.maxPrice');
    if (f.includeUnavailable !== undefined) {
      if (typeof f.includeUnavailable !== 'boolean')
        throw new RecommenderError(
          'invalid_options',
          'filters.includeUnavailable must be true or false.',
          'Pass { filters: { includeUnavailable: true } } or leave it out.',
        );
      filters.includeUnavailable = f.includeUnavailable;
    }
    clean.filters = filters;
  }
  if (options.rules !== undefined) clean.rules = validateRules(options.rules);
  return clean;
}

/** similar() options: a k, or { k, kind, rules }. */
export function validateSimilarOptions(options: unknown): SimilarOptions {
  if (options === undefined) return {};
  if (typeof options === 'number') return { k: options };
  if (!isPlainObject(options))
    throw new RecommenderError(
      'invalid_options',
      'similar() options must be a number (k) or an object.',
      'Call similar(id, 8) or similar(id, { k: 8, kind: "blend" }).',
    );
  const clean: SimilarOptions = {};
  if (options.k !== undefined) clean.k = options.k as number;
  if (options.kind !== undefined) {
    if (!SIMILAR_KINDS.includes(options.kind as SimilarKind))
      throw new RecommenderError(
        'invalid_options',
        `similar() kind must be one of ${SIMILAR_KINDS.join(', ')}, got ${showValue(options.kind)}.`,
        'Pass e.g. { kind: "viewed-together" }, or leave it out for "blend".',
      );
    clean.kind = options.kind as SimilarKind;
  }
  if (options.rules !== undefined) clean.rules = validateRules(options.rules);
  return clean;
}

/** search() options: a k, or { k, rules }. */
export function validateSearchOptions(options: unknown): SearchOptions {
  if (options === undefined) return {};
  if (typeof options === 'number') return { k: options };
  if (!isPlainObject(options))
    throw new RecommenderError(
      'invalid_options',
      'search() options must be a number (k) or an object.',
      'Call search("shoes", 8) or search("shoes", { k: 8 }).',
    );
  const clean: SearchOptions = {};
  if (options.k !== undefined) clean.k = options.k as number;
  if (options.rules !== undefined) clean.rules = validateRules(options.rules);
  return clean;
}

// ------------------------------------------------------------------ createRecommender() options

type HuggingFaceOptions = NonNullable<RecommenderOptions['huggingFaceModel']>;
export type HuggingFaceDtype = NonNullable<HuggingFaceOptions['dtype']>;

/** RecommenderOptions with every default applied and every value checked; what the engine's worker receives. Plain structured-cloneable data. */
export interface ResolvedOptions {
  /** Absolute URL of the models folder, ends with '/'. */
  modelsUrl: string;
  /** Absolute URL of onnxruntime-web's wasm folder, ends with '/'. */
  wasmUrl: string;
  /** The page's URL, to resolve relative catalog URLs. */
  pageUrl: string;
  /** Encoder folder name inside modelsUrl. */
  encoder: string;
  huggingFaceModel: { model: string; localModelPath: string; allowRemoteModels: boolean; dtype?: HuggingFaceDtype } | null;
  globalModel: string | null;
  rankingHeads: string | null;
  sequenceModel: string | null;
  /** Compute backend of the models; 'js' given by the integrator is 'wasm' here (the models have no TypeScript path). */
  backend: 'webgpu' | 'wasm' | 'auto';
  /** Catalog scoring path: `scoring`, else a forced `backend` (including 'js'), else 'auto'. */
  scoring: 'webgpu' | 'wasm' | 'js' | 'auto';
  /** `scoring` was set to a path (not 'auto'): it is used whatever the catalog size. */
  scoringForced: boolean;
  retrievalMinItems: number;
  storeName: string;
  taskWeights: { click: number; conversion: number };
  diversity: number;
  /** RankingConfig.weights.coldSequence. */
  newItems: number;
  excludeSeen: boolean;
  maxEvents: number;
  maxEventAgeDays: number;
  seed: number;
  exploration: ExplorationConfig;
  /** Opt-in measurement; null (the default): nothing is ever sent. */
  measurement: ResolvedMeasurement | null;
}

/** What an A/B variant sets, resolved like the options it replaces. */
export type VariantOverrides = Pick<
  ResolvedOptions,
  'exploration' | 'taskWeights' | 'diversity' | 'newItems' | 'globalModel' | 'rankingHeads' | 'sequenceModel'
>;

/** The measurement option resolved; `variant` is the visitor's, drawn in the worker (0 until then). */
export interface ResolvedMeasurement extends MeasurementSettings {
  variants: { name: string; overrides: VariantOverrides }[];
}

/** The options with the visitor's A/B variant applied (what the engine runs with once the variant is drawn). */
export function withVariant(resolved: ResolvedOptions, variant: number): ResolvedOptions {
  const m = resolved.measurement;
  const chosen = m?.variants[variant];
  if (!m || !chosen) return resolved;
  return { ...resolved, ...chosen.overrides, measurement: { ...m, variant } };
}

/** Catalogs with at least this many items are scored by two-stage retrieval (the engine's threshold; owned here since options are resolved here). */
export const DEFAULT_RETRIEVAL_MIN_ITEMS = 20_000;
export const DEFAULT_ENCODER = 'glove-sif-100d';
export const DEFAULT_STORE_NAME = 'on-device-recs';
export const DEFAULT_MAX_EVENTS = 10_000;
export const DEFAULT_MAX_EVENT_AGE_DAYS = 365;
/** storeName names an IndexedDB database and a BroadcastChannel: a short name, not a payload. */
const MAX_STORE_NAME = 128;

/** Every key of RecommenderOptions (the compile-time checks below keep this list and the type in step). */
const OPTION_KEYS = [
  'baseUrl',
  'workerUrl',
  'modelsUrl',
  'wasmUrl',
  'encoder',
  'huggingFaceModel',
  'globalModel',
  'rankingHeads',
  'sequenceModel',
  'backend',
  'scoring',
  'retrievalMinItems',
  'storeName',
  'taskWeights',
  'diversity',
  'newItems',
  'excludeSeen',
  'maxEvents',
  'maxEventAgeDays',
  'seed',
  'exploration',
  'measurement',
] as const satisfies readonly (keyof RecommenderOptions)[];
const MEASUREMENT_KEYS = [
  'endpoint',
  'allowCrossOrigin',
  'placement',
  'epsilon',
  'dailyEpsilon',
  'variants',
  'visitGapMs',
  'maxDelayMs',
  'dryRun',
] as const satisfies readonly (keyof MeasurementOptions)[];
const VARIANT_KEYS = [
  'name',
  'exploration',
  'taskWeights',
  'diversity',
  'newItems',
  'globalModel',
  'rankingHeads',
  'sequenceModel',
] as const satisfies readonly (keyof VariantSettings)[];
const HF_KEYS = ['model', 'localModelPath', 'allowRemoteModels', 'dtype'] as const satisfies readonly (keyof HuggingFaceOptions)[];
const HF_DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4'] as const satisfies readonly HuggingFaceDtype[];
const TASK_KEYS = ['click', 'conversion'] as const satisfies readonly (keyof NonNullable<RecommenderOptions['taskWeights']>)[];
const EXPLORATION_KEYS = ['policy', 'rate', 'decay', 'prior', 'priorStrength', 'uniformShare'] as const satisfies readonly (keyof NonNullable<
  RecommenderOptions['exploration']
>)[];
const POLICIES = ['thompson', 'contextual', 'off'] as const satisfies readonly ExplorationPolicy[];
const BACKENDS = ['auto', 'webgpu', 'wasm', 'js'] as const satisfies readonly NonNullable<RecommenderOptions['backend']>[];

// compile-time: each list above names every member of its type (a new option fails to compile until it is listed and resolved)
type Covers<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : never;
const listsAreComplete: [
  Covers<keyof RecommenderOptions, (typeof OPTION_KEYS)[number]>,
  Covers<keyof HuggingFaceOptions, (typeof HF_KEYS)[number]>,
  Covers<HuggingFaceDtype, (typeof HF_DTYPES)[number]>,
  Covers<keyof NonNullable<RecommenderOptions['taskWeights']>, (typeof TASK_KEYS)[number]>,
  Covers<keyof NonNullable<RecommenderOptions['exploration']>, (typeof EXPLORATION_KEYS)[number]>,
  Covers<ExplorationPolicy, (typeof POLICIES)[number]>,
  Covers<NonNullable<RecommenderOptions['backend']>, (typeof BACKENDS)[number]>,
  Covers<keyof MeasurementOptions, (typeof MEASUREMENT_KEYS)[number]>,
  Covers<keyof VariantSettings, (typeof VARIANT_KEYS)[number]>,
] = [true, true, true, true, true, true, true, true, true];
void listsAreComplete;

type Dict = Record<string, unknown>;

/** A plain object (also one with a null prototype, or from another realm); not an array, Map, Date, class with its own tag... */
const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && Object.prototype.toString.call(v) === '[object Object]';

/** Own properties only: a key inherited from a (polluted) prototype is not an option. */
const own = (o: Dict, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);

const MAX_SHOWN = 80;
const MAX_SHOWN_STRING = 40;

const clip = (s: string, max = MAX_SHOWN): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

function preview(v: unknown, depth: number): string {
  switch (typeof v) {
    case 'string':
      return v.length > MAX_SHOWN_STRING ? `${JSON.stringify(v.slice(0, MAX_SHOWN_STRING))}… (${v.length} characters)` : JSON.stringify(v);
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint':
      return `${clip(v.toString(), MAX_SHOWN_STRING)}n`;
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'symbol':
      return clip(v.toString(), MAX_SHOWN_STRING);
    case 'function':
      return 'a function';
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length} items`;
  const tag = Object.prototype.toString.call(v).slice(8, -1);
  if (tag !== 'Object') return `a ${clip(tag, MAX_SHOWN_STRING)}`;
  const keys = Object.keys(v as object);
  if (keys.length === 0) return '{}';
  if (depth <= 0) return '{…}';
  const shown = keys.slice(0, 3).map((k) => `${showKey(k)}: ${preview((v as Dict)[k], depth - 1)}`);
  return `{ ${shown.join(', ')}${keys.length > 3 ? ', …' : ''} }`;
}

const showKey = (k: string): string => (/^[A-Za-z_$][\w$]{0,39}$/.test(k) ? k : preview(k, 0));

/**
 * A value for an error message: short whatever it is (a 1 MB string shows its first
 * characters and its length), and never throws (null-prototype objects, symbols,
 * throwing getters and proxies included).
 */
export function showValue(v: unknown): string {
  try {
    return clip(preview(v, 1));
  } catch {
    return 'a value that cannot be shown';
  }
}

function invalid(option: string, problem: string, value: unknown, fix: string): never {
  throw new RecommenderError('invalid_options', `createRecommender() option ${option} ${problem}, got ${showValue(value)}.`, fix);
}

/** Unknown keys of `o` are refused with the list of known ones: a misspelt option would otherwise be ignored without a word. */
function rejectUnknownKeys(o: Dict, known: readonly string[], where: string | null): void {
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  const names = unknown.slice(0, 3).map((k) => (where ? `${where}.${showKey(k)}` : showKey(k)));
  const more = unknown.length > 3 ? ` (and ${unknown.length - 3} more)` : '';
  throw new RecommenderError(
    'invalid_options',
    `createRecommender() got unknown option${unknown.length > 1 ? 's' : ''} ${names.join(', ')}${more}.`,
    `${where ? `${where} takes` : 'Known options:'} ${known.join(', ')}. Check the spelling, or leave it out.`,
  );
}

/** `{ a: { b: value } }` for the label 'a.b': an example the integrator can paste. */
const literal = (label: string, value: string): string => label.split('.').reduceRight((inner, key) => `{ ${key}: ${inner} }`, value);

function optionalString(o: Dict, key: string, label: string, example: string): string | undefined {
  const v = own(o, key);
  if (v === undefined) return undefined;
  // an empty name or URL is a mistake, not a request for the default (an empty URL would mean the page itself)
  if (typeof v !== 'string' || v.length === 0)
    invalid(label, 'must be a non-empty string', v, `Pass e.g. ${literal(label, example)}, or leave it out for the default.`);
  return v;
}

/** A URL option, relative to the page (or absolute): a string the URL parser accepts. */
function optionalUrl(o: Dict, key: string, pageUrl: string, example: string): string | undefined {
  const v = optionalString(o, key, key, example);
  if (v === undefined) return undefined;
  try {
    new URL(v, pageUrl);
  } catch {
    invalid(key, 'is not a valid URL', v, `Pass a URL relative to the page or absolute, e.g. { ${key}: ${example} }.`);
  }
  return v;
}

function optionalBoolean(o: Dict, key: string, label: string): boolean | undefined {
  const v = own(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean')
    invalid(label, 'must be true or false', v, `Pass ${literal(label, 'true')} or ${literal(label, 'false')}, or leave it out for the default.`);
  return v;
}

function optionalNumber(o: Dict, key: string, label: string, ok: (n: number) => boolean, rule: string, example: string): number | undefined {
  const v = own(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !ok(v)) invalid(label, `must be ${rule}`, v, `Pass e.g. ${example}, or leave it out for the default.`);
  return v;
}

function oneOf<T extends string>(o: Dict, key: string, label: string, values: readonly T[]): T | undefined {
  const v = own(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v))
    invalid(
      label,
      `must be one of ${values.map((x) => `'${x}'`).join(', ')}`,
      v,
      `Pass e.g. ${literal(label, `'${values[0]}'`)}, or leave it out for the default.`,
    );
  return v as T;
}

function optionalDict(o: Dict, key: string, known: readonly string[], example: string): Dict | undefined {
  const v = own(o, key);
  if (v === undefined) return undefined;
  if (!isDict(v)) invalid(key, 'must be an object', v, `Pass e.g. { ${key}: ${example} }, or leave it out.`);
  rejectUnknownKeys(v, known, key);
  return v;
}

/** `url` made absolute against `base`, as a folder (ending with '/'). */
function absoluteFolder(url: string, base: string): string {
  const abs = new URL(url, base).href;
  return abs.endsWith('/') ? abs : `${abs}/`;
}

function resolveHuggingFace(o: Dict, modelsUrl: string): ResolvedOptions['huggingFaceModel'] {
  const hf = optionalDict(o, 'huggingFaceModel', HF_KEYS, "{ model: 'Xenova/all-MiniLM-L6-v2' }");
  if (!hf) return null;
  const model = own(hf, 'model');
  if (typeof model !== 'string' || model.length === 0)
    invalid(
      'huggingFaceModel.model',
      'must be a non-empty string',
      model,
      "Name the model, e.g. { huggingFaceModel: { model: 'Xenova/all-MiniLM-L6-v2' } }.",
    );
  // a local path, not a URL: transformers.js joins it with the model id; relative paths are the page's
  const localModelPath = optionalString(hf, 'localModelPath', 'huggingFaceModel.localModelPath', "'/models/'") ?? modelsUrl;
  // the hub is contacted only when the integrator says so: nothing leaves the site's origin by default
  const allowRemoteModels = optionalBoolean(hf, 'allowRemoteModels', 'huggingFaceModel.allowRemoteModels') ?? false;
  const dtype = oneOf(hf, 'dtype', 'huggingFaceModel.dtype', HF_DTYPES);
  return dtype === undefined ? { model, localModelPath, allowRemoteModels } : { model, localModelPath, allowRemoteModels, dtype };
}

function resolveTaskWeights(o: Dict): ResolvedOptions['taskWeights'] {
  const tw = optionalDict(o, 'taskWeights', TASK_KEYS, '{ click: 1, conversion: 0.5 }') ?? {};
  const weight = (key: 'click' | 'conversion'): number =>
    optionalNumber(
      tw,
      key,
      `taskWeights.${key}`,
      (w) => Number.isFinite(w) && w >= 0,
      'a non-negative finite number',
      `{ taskWeights: { ${key}: 0.5 } }`,
    ) ?? DEFAULT_TASK_WEIGHTS[key];
  const weights = { click: weight('click'), conversion: weight('conversion') };
  // both 0 would score every candidate 0: the heads' ranking would be lost
  if (weights.click + weights.conversion <= 0)
    invalid(
      'taskWeights',
      'must not be 0 for both click and conversion',
      own(o, 'taskWeights'),
      'Pass e.g. { taskWeights: { click: 1, conversion: 0.5 } }.',
    );
  return weights;
}

function resolvePrior(x: Dict): NonNullable<ExplorationConfig['prior']> {
  const v = own(x, 'prior');
  if (v === undefined) return DEFAULT_EXPLORATION.prior ?? 'population';
  if (v === 'population' || v === 'uniform') return v;
  const fix = `Pass 'population', 'uniform' or rates per source, e.g. { exploration: { prior: { explore: 0.01 } } } (sources: ${SOURCES.join(', ')}).`;
  if (!isDict(v)) invalid('exploration.prior', "must be 'population', 'uniform' or an object of rates from 0 to 1 per source", v, fix);
  const rates: Partial<Record<Source, number>> = {};
  for (const key of Object.keys(v)) {
    // a misspelt source would silently keep its population rate
    if (!(SOURCES as readonly string[]).includes(key)) invalid(`exploration.prior.${showKey(key)}`, 'is not a source', v[key], fix);
    const rate = v[key];
    if (rate === undefined) continue;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) invalid(`exploration.prior.${key}`, 'must be a rate from 0 to 1', rate, fix);
    rates[key as Source] = rate;
  }
  return rates;
}

function resolveExploration(o: Dict): ExplorationConfig {
  const x = optionalDict(o, 'exploration', EXPLORATION_KEYS, '{ rate: 0.2 }') ?? {};
  const policy = oneOf(x, 'policy', 'exploration.policy', POLICIES) ?? DEFAULT_EXPLORATION.policy;
  const rate =
    optionalNumber(
      x,
      'rate',
      'exploration.rate',
      (r) => r >= 0 && r <= 1,
      'a number from 0 to 1',
      '{ exploration: { rate: 0.2 } } (0: pure exploitation)',
    ) ?? DEFAULT_EXPLORATION.rate;
  // 0 would forget all evidence at once; above 1 old evidence would grow
  const decay =
    optionalNumber(x, 'decay', 'exploration.decay', (d) => d > 0 && d <= 1, 'in (0, 1]', '{ exploration: { decay: 0.98 } } (1 keeps all evidence)') ??
    DEFAULT_EXPLORATION.decay;
  const prior = resolvePrior(x);
  // a pseudo-count: 0 is no prior (use prior: 'uniform'), Infinity would make the Beta prior NaN
  const priorStrength =
    optionalNumber(
      x,
      'priorStrength',
      'exploration.priorStrength',
      (m) => m > 0 && Number.isFinite(m),
      'a positive finite number',
      '{ exploration: { priorStrength: 200 } }',
    ) ??
    DEFAULT_EXPLORATION.priorStrength ??
    1000;
  const uniformShare =
    optionalNumber(
      x,
      'uniformShare',
      'exploration.uniformShare',
      (r) => r >= 0 && r <= 1,
      'a number from 0 to 1',
      '{ exploration: { uniformShare: 0.1 } } (0: the bandit alone chooses each open slot)',
    ) ?? DEFAULT_EXPLORATION.uniformShare;
  return { ...DEFAULT_EXPLORATION, policy, rate, decay, prior, priorStrength, uniformShare };
}

// diversity is 1 - the MMR lambda of the ranking
function resolveNewItems(o: Dict): number {
  return (
    optionalNumber(o, 'newItems', 'newItems', (w) => w >= 0 && w <= 10, 'a number from 0 to 10', '{ newItems: 0.5 } (0: content similarity only)') ??
    DEFAULT_RANKING_CONFIG.weights.coldSequence
  );
}

function resolveDiversity(o: Dict): number {
  return (
    optionalNumber(o, 'diversity', 'diversity', (d) => d >= 0 && d <= 1, 'a number from 0 to 1', '{ diversity: 0.15 } (0: relevance only)') ??
    1 - DEFAULT_RANKING_CONFIG.mmrLambda
  );
}

export const DEFAULT_MEASUREMENT = {
  placement: 'default',
  epsilon: 4,
  dailyEpsilon: 8,
  visitGapMs: 30 * 60_000,
  maxDelayMs: 10 * 60_000,
} as const;
const DAY_MS = 24 * 60 * 60_000;
const VARIANT_NAME = /^[A-Za-z0-9_-]{1,32}$/;

/** A variant's settings resolved over the base options (nested objects merge over the base's); errors name the variant. */
function resolveVariant(o: Dict, v: unknown, i: number): { name: string; overrides: VariantOverrides } {
  const label = `measurement.variants[${i}]`;
  if (!isDict(v)) invalid(label, 'must be an object', v, "Pass e.g. { name: 'more-exploration', exploration: { rate: 0.4 } }.");
  rejectUnknownKeys(v, VARIANT_KEYS, label);
  const name = own(v, 'name');
  if (typeof name !== 'string' || !VARIANT_NAME.test(name))
    invalid(`${label}.name`, 'must be 1 to 32 letters, digits, - or _', name, "Pass e.g. { name: 'control' }.");
  const merged: Dict = { ...o };
  for (const key of ['exploration', 'taskWeights'] as const) {
    const given = own(v, key);
    if (given !== undefined) merged[key] = isDict(given) && isDict(own(o, key)) ? { ...(own(o, key) as Dict), ...given } : given;
  }
  for (const key of ['diversity', 'newItems'] as const) if (own(v, key) !== undefined) merged[key] = own(v, key);
  const model = (key: 'globalModel' | 'rankingHeads' | 'sequenceModel', example: string): string | null => {
    const given = own(v, key);
    if (given === null) return null;
    if (given === undefined) return optionalString(o, key, key, example) ?? null;
    return optionalString(v, key, `${label}.${key}`, example) ?? null;
  };
  try {
    return {
      name,
      overrides: {
        exploration: resolveExploration(merged),
        taskWeights: resolveTaskWeights(merged),
        diversity: resolveDiversity(merged),
        newItems: resolveNewItems(merged),
        globalModel: model('globalModel', "'global-movielens'"),
        rankingHeads: model('rankingHeads', "'ranking-heads'"),
        sequenceModel: model('sequenceModel', "'sequence-movielens'"),
      },
    };
  } catch (e) {
    if (!(e instanceof RecommenderError)) throw e;
    throw new RecommenderError('invalid_options', e.message.replace('createRecommender() option ', `createRecommender() option ${label}.`), e.fix);
  }
}

function resolveMeasurement(o: Dict, page: string): ResolvedMeasurement | null {
  const m = optionalDict(o, 'measurement', MEASUREMENT_KEYS, "{ endpoint: '/recs-measure' }");
  if (!m) return null;
  const endpointGiven = own(m, 'endpoint');
  if (typeof endpointGiven !== 'string' || endpointGiven.length === 0)
    invalid('measurement.endpoint', 'must be a non-empty URL string', endpointGiven, "Pass e.g. { measurement: { endpoint: '/recs-measure' } }.");
  let url: URL;
  try {
    url = new URL(endpointGiven, page);
  } catch {
    invalid('measurement.endpoint', 'is not a valid URL', endpointGiven, "Pass a URL relative to the page or absolute, e.g. '/recs-measure'.");
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    invalid('measurement.endpoint', 'must be an http(s) URL', endpointGiven, "Pass e.g. { measurement: { endpoint: '/recs-measure' } }.");
  // a report carries its fields and nothing else: no identifier baked into the URL
  if (url.search || url.hash || url.username || url.password)
    invalid(
      'measurement.endpoint',
      'must have no query string, fragment or credentials',
      endpointGiven,
      'Reports carry only their documented fields: pass a plain URL such as /recs-measure.',
    );
  const allowCrossOrigin = optionalBoolean(m, 'allowCrossOrigin', 'measurement.allowCrossOrigin') ?? false;
  if (!allowCrossOrigin && url.origin !== new URL(page).origin)
    invalid(
      'measurement.endpoint',
      "is on another origin than the page's",
      endpointGiven,
      'Serve it from your own origin, or pass { measurement: { allowCrossOrigin: true } } (and allow it in your CSP connect-src).',
    );
  const placement = own(m, 'placement') ?? DEFAULT_MEASUREMENT.placement;
  if (typeof placement !== 'string' || !PLACEMENT_PATTERN.test(placement))
    invalid(
      'measurement.placement',
      'must be 1 to 32 lower-case letters, digits, - or _ (starting with a letter or digit)',
      placement,
      "Pass e.g. { measurement: { placement: 'home' } }: a name of where the recommendations are, not an identifier.",
    );
  const epsilon =
    optionalNumber(
      m,
      'epsilon',
      'measurement.epsilon',
      (e) => e >= MIN_EPSILON && e <= MAX_EPSILON,
      `a number from ${MIN_EPSILON} to ${MAX_EPSILON}`,
      '{ measurement: { epsilon: 4 } }',
    ) ?? DEFAULT_MEASUREMENT.epsilon;
  const dailyEpsilon =
    optionalNumber(
      m,
      'dailyEpsilon',
      'measurement.dailyEpsilon',
      (d) => d >= epsilon && d <= 10 * MAX_EPSILON,
      `a number from the report's epsilon (${epsilon}) to ${10 * MAX_EPSILON}`,
      `{ measurement: { dailyEpsilon: ${2 * epsilon} } }`,
    ) ?? Math.max(epsilon, DEFAULT_MEASUREMENT.dailyEpsilon);
  const variantsGiven = own(m, 'variants');
  let variants: ResolvedMeasurement['variants'] = [];
  if (variantsGiven !== undefined) {
    if (!Array.isArray(variantsGiven) || variantsGiven.length < 2 || variantsGiven.length > MAX_VARIANTS)
      invalid(
        'measurement.variants',
        `must be an array of 2 to ${MAX_VARIANTS} variants`,
        variantsGiven,
        "Pass e.g. { measurement: { variants: [{ name: 'control' }, { name: 'explore-more', exploration: { rate: 0.4 } }] } }, or leave it out.",
      );
    variants = variantsGiven.map((v, i) => resolveVariant(o, v, i));
    const names = variants.map((v) => v.name);
    if (new Set(names).size !== names.length) invalid('measurement.variants', 'must have distinct names', names, 'Give each variant its own name.');
  }
  const ms = (key: 'visitGapMs' | 'maxDelayMs', min: number, example: string): number | undefined =>
    optionalNumber(
      m,
      key,
      `measurement.${key}`,
      (x) => Number.isInteger(x) && x >= min && x <= DAY_MS,
      `an integer of ms from ${min} to ${DAY_MS}`,
      example,
    );
  return {
    endpoint: url.href,
    placement,
    epsilon,
    dailyEpsilon,
    visitGapMs: ms('visitGapMs', 1, '{ measurement: { visitGapMs: 1800000 } }') ?? DEFAULT_MEASUREMENT.visitGapMs,
    maxDelayMs: ms('maxDelayMs', 0, '{ measurement: { maxDelayMs: 600000 } }') ?? DEFAULT_MEASUREMENT.maxDelayMs,
    dryRun: optionalBoolean(m, 'dryRun', 'measurement.dryRun') ?? false,
    variants,
    variant: 0,
  };
}

/**
 * Checks every createRecommender() option and applies the defaults, once, on the page.
 * Throws a RecommenderError (code 'invalid_options') naming the option and its value,
 * with a fix saying what to pass. `pageUrl` (absolute) resolves the relative URLs.
 * Also returns the worker script's absolute URL (undefined: the bundled worker),
 * which only the page needs.
 */
export function resolvePageOptions(options: unknown, pageUrl: string): { resolved: ResolvedOptions; workerUrl?: string } {
  const page = new URL(pageUrl).href;
  if (options === undefined) options = {};
  if (!isDict(options)) {
    throw new RecommenderError(
      'invalid_options',
      `createRecommender() options must be an object, got ${showValue(options)}.`,
      "Call createRecommender() or createRecommender({ modelsUrl: '/models/' }).",
    );
  }
  const o = options;
  rejectUnknownKeys(o, OPTION_KEYS, null);

  const baseUrl = optionalUrl(o, 'baseUrl', page, "'/recs/'");
  const assets = baseUrl !== undefined ? absoluteFolder(baseUrl, page) : undefined;
  const workerOption = optionalUrl(o, 'workerUrl', page, "'/recs/engine.worker.js'");
  const modelsUrl = absoluteFolder(optionalUrl(o, 'modelsUrl', page, "'/models/'") ?? (assets ? `${assets}models/` : 'models/'), page);
  const wasmUrl = absoluteFolder(optionalUrl(o, 'wasmUrl', page, "'/ort/'") ?? (assets ? `${assets}ort/` : 'ort/'), page);
  const workerUrl = workerOption !== undefined ? new URL(workerOption, page).href : assets ? new URL('engine.worker.js', assets).href : undefined;

  const requestedBackend = oneOf(o, 'backend', 'backend', BACKENDS) ?? 'auto';
  const requestedScoring = oneOf(o, 'scoring', 'scoring', BACKENDS);

  const storeName = optionalString(o, 'storeName', 'storeName', "'my-shop-recs'") ?? DEFAULT_STORE_NAME;
  if (storeName.length > MAX_STORE_NAME)
    invalid('storeName', `must be at most ${MAX_STORE_NAME} characters`, storeName, "Pass a short name, e.g. { storeName: 'my-shop-recs' }.");

  const integer = (key: string, example: string): number | undefined =>
    optionalNumber(o, key, key, (n) => Number.isInteger(n) && n >= 1, 'an integer of at least 1', `{ ${key}: ${example} }`);

  const resolved: ResolvedOptions = {
    modelsUrl,
    wasmUrl,
    pageUrl: page,
    encoder: optionalString(o, 'encoder', 'encoder', `'${DEFAULT_ENCODER}'`) ?? DEFAULT_ENCODER,
    huggingFaceModel: resolveHuggingFace(o, modelsUrl),
    globalModel: optionalString(o, 'globalModel', 'globalModel', "'global-movielens'") ?? null,
    rankingHeads: optionalString(o, 'rankingHeads', 'rankingHeads', "'ranking-heads'") ?? null,
    sequenceModel: optionalString(o, 'sequenceModel', 'sequenceModel', "'sequence-movielens'") ?? null,
    // the models have no TypeScript path: 'js' runs them on WASM (the catalog scoring path stays 'js', below)
    backend: requestedBackend === 'js' ? 'wasm' : requestedBackend,
    // a forced backend is the scoring path too, unless scoring says otherwise
    scoring: requestedScoring ?? requestedBackend,
    // only an explicit scoring path overrides the catalog size rule; a forced backend does not
    scoringForced: requestedScoring !== undefined && requestedScoring !== 'auto',
    // 1 and above: 0 would mean the same as 1 (an empty catalog is never retrieved); Infinity is not needed to turn retrieval off
    retrievalMinItems: integer('retrievalMinItems', '50000') ?? DEFAULT_RETRIEVAL_MIN_ITEMS,
    storeName,
    taskWeights: resolveTaskWeights(o),
    // diversity is 1 - the MMR lambda of the ranking
    diversity: resolveDiversity(o),
    newItems: resolveNewItems(o),
    excludeSeen: optionalBoolean(o, 'excludeSeen', 'excludeSeen') ?? DEFAULT_RANKING_CONFIG.excludeSeen,
    // at least one event: the history is what personalises; a whole number since it counts events
    maxEvents: integer('maxEvents', '5000') ?? DEFAULT_MAX_EVENTS,
    // Infinity is allowed (keep events of any age: the store then applies no age limit); fractions of a day too
    maxEventAgeDays:
      optionalNumber(o, 'maxEventAgeDays', 'maxEventAgeDays', (d) => d > 0, 'a number of days above 0', '{ maxEventAgeDays: 90 }') ??
      DEFAULT_MAX_EVENT_AGE_DAYS,
    // an integer: the engine mixes it into 32-bit random streams (mulberry32); drawn here so a restarted worker keeps it
    seed: optionalNumber(o, 'seed', 'seed', Number.isInteger, 'a finite integer', '{ seed: 42 }') ?? Math.floor(Math.random() * 2 ** 31),
    exploration: resolveExploration(o),
    measurement: resolveMeasurement(o, page),
  };
  return workerUrl === undefined ? { resolved } : { resolved, workerUrl };
}

/** {@link resolvePageOptions} without the page-only workerUrl: what the engine runs with. */
export function resolveOptions(options: unknown, pageUrl: string): ResolvedOptions {
  return resolvePageOptions(options, pageUrl).resolved;
}
