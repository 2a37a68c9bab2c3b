/**
 * The behaviour model: a SASRec-style causal transformer trained site-side
 * (training/sasrec, PyTorch) over the visitor's own ordered history. Its graph
 * (model.onnx, int8 weights dequantized in the graph, run through onnxruntime-web
 * on WebGPU or WASM) turns the last `maxLength` events (their item rows and event
 * types) into a user state; the next-item score of an item is the user state
 * times the item's row of the model's int8 item table (items.bin, stored once:
 * the window's rows are gathered from it here and given to the graph), scanned
 * with the engine's exact integer kernel (candidates/quantized-scoring.ts).
 * Catalog items the model never saw get the learned projection of their text
 * vector (projection.bin), quantized with the same scale, so new items are scored
 * by content through the same path.
 *
 * "Why this": `attribution` runs the history without each of its last ATTRIBUTION_ITEMS
 * distinct items (leave-one-out), all in one batched run; `sequenceCauses` gives the
 * drop of an item's model score (its next-item share, the `next` component the engine
 * ranks with) without each of them, from one catalog scan per left-out item, made the
 * first time a slot asks. The engine runs it only for a slate with a slot the model drove.
 *
 * The folder is refused, with an error naming it and the fix, when a file fails
 * its SHA-256 or size, is missing, or the model was built for another encoder
 * or another catalog.
 */
import type { Backend } from '../types';
import type { EventType } from '../vocabulary';
import { RecommenderError } from '../errors';
import { openModelFolder, type ModelFileReader } from '../runtime/model-files';
import { createSession, runExclusive, runFloatOutputs, type Ort, type Session } from '../runtime/onnx';
import { quantizeQueries, scoreQuantized, type QuantizedItems } from '../candidates/quantized-scoring';
import type { ItemMatrix } from '../math/matrix';
import type { SequenceComponents } from './score';

/** Distinct recent history items whose removal the attribution measures (one batch row each). */
export const ATTRIBUTION_ITEMS = 4;

/** What the folder's manifest.json says beyond the common model manifest. */
export interface SequenceModelInfo {
  name: string;
  modelHash: string;
  dims: number;
  /** History events the graph reads (the last ones; older events are dropped). */
  maxLength: number;
  /** Event types in the order of the graph's type input (1-based; 0 is padding). */
  eventTypes: string[];
  /** Dequantization scale of the int8 item table. */
  itemScale: number;
  conversionBias: number;
  /** Catalog items with a row of the model (the rest get their projected text vector). */
  knownItems: number;
}

/** One event of the visitor's history, oldest first. */
export interface SequenceEvent {
  itemId: string;
  type: EventType | string;
}

export interface UserState {
  /** The next-item state: logit of catalog item i = userState . row_i (dequantized). */
  userState: Float32Array;
  /** The conversion state: logit of item i = conversionState . row_i + conversionBias. */
  conversionState: Float32Array;
  /** History events the graph read (after truncation and skipping unknown items). */
  used: number;
}

/** Leave-one-out over the last distinct history items: `states` row j = the user state without itemIds[j]. */
export interface SequenceAttribution {
  itemIds: string[];
  states: Float32Array;
  /** 1 where leaving the item out leaves no event the model knows (no state: the model's shares are all 0, as for a cold visitor). */
  emptied: Uint8Array;
}

/** A history item that drove a recommendation: `drop` = the item's next-item share minus its share without that history item. */
export interface SequenceCause {
  itemId: string;
  drop: number;
}

/**
 * The model's components, with the history items behind each ranked item's score: `attribute()` runs the
 * leave-one-out rows (once) and resolves with `because(i)`, strongest first.
 */
export type AttributedSequence = SequenceComponents & { attribute?: () => Promise<(i: number) => SequenceCause[]> };

/** The graph's inputs for a history: the last maxLength events whose item the model knows, left padded. */
export function sequenceInputs(
  events: readonly SequenceEvent[],
  rowOf: (itemId: string) => number | undefined,
  eventTypes: readonly string[],
  maxLength: number,
): { items: BigInt64Array; types: BigInt64Array; used: number } {
  const fallbackType = Math.max(1, eventTypes.indexOf('view') + 1);
  const picked: [number, number][] = [];
  for (let i = events.length - 1; i >= 0 && picked.length < maxLength; i--) {
    const e = events[i];
    if (e.type === 'dismiss' || e.type === 'search') continue;
    const row = rowOf(e.itemId);
    if (row === undefined) continue; // an item the model has no input row for: skipped
    const t = eventTypes.indexOf(e.type);
    picked.push([row + 1, t >= 0 ? t + 1 : fallbackType]);
  }
  const items = new BigInt64Array(maxLength);
  const types = new BigInt64Array(maxLength);
  picked.reverse().forEach(([item, type], j) => {
    items[maxLength - picked.length + j] = BigInt(item);
    types[maxLength - picked.length + j] = BigInt(type);
  });
  return { items, types, used: picked.length };
}

const refuse = (where: string, message: string, fix: string): RecommenderError =>
  new RecommenderError('model_load_failed', `Behaviour model ${where}: ${message}`, fix);

/** Every failure names the folder: a file that could not be read (missing) or failed its check keeps its code. */
function explained(e: unknown, where: string): RecommenderError {
  if (e instanceof RecommenderError) {
    // the model folders' shared checks (manifest, SHA-256) name the encoder's build; this folder comes from build:sequence-model
    const fix = /build:models/.test(e.fix) ? (e.code === 'model_integrity' ? INTEGRITY_FIX : REBUILD) : e.fix;
    const message = e.message.endsWith(e.fix) ? e.message.slice(0, -e.fix.length).trim() : e.message;
    if (fix === e.fix && message.includes(where)) return e;
    return new RecommenderError(e.code, message.includes(where) ? message : `Behaviour model ${where}: ${message}`, fix);
  }
  return refuse(
    where,
    `a file could not be read (${(e as Error).message}).`,
    'Serve every file of the folder (manifest.json, model.onnx, items.bin, projection.bin, items.json) unchanged, or leave the sequenceModel option out.',
  );
}

export const REBUILD = 'Rebuild the folder with npm run build:sequence-model for this catalog and encoder, or leave the sequenceModel option out.';
const INTEGRITY_FIX =
  'Serve the folder exactly as npm run build:sequence-model wrote it (no re-compression or transformation), rebuild it, or leave the sequenceModel option out.';

export class OnnxSequenceModel {
  private constructor(
    readonly info: SequenceModelInfo,
    readonly backend: Backend,
    readonly backendReason: string,
    /** Catalog-order int8 rows (the model's item table; projected text vectors for items it never saw). */
    readonly items: QuantizedItems,
    /** catalog index -> row of the model's item table (-1: not in the model). */
    readonly modelRow: Int32Array,
    /** item id -> row of the model's item table. */
    private readonly rowOfId: ReadonlyMap<string, number>,
    /** row of the model's item table -> item id (items.json). */
    private readonly ids: readonly string[],
    /** The model's int8 item table (items.bin), model order: the graph's input rows are gathered from it. */
    private readonly table: Int8Array,
    private readonly ort: Ort,
    private readonly session: Session,
  ) {}

  /**
   * Loads and checks a folder: every file against its SHA-256, the encoder against the one
   * the page runs, the model's items against the catalog (`catalogIds` with their text vectors).
   */
  static async create(options: {
    ort: Ort;
    reader: ModelFileReader;
    where: string;
    backend?: Backend | 'auto';
    encoder: { modelHash: string; dimensions: number };
    catalogIds: readonly string[];
    catalogVectors: ItemMatrix;
  }): Promise<OnnxSequenceModel> {
    try {
      return await OnnxSequenceModel.load(options);
    } catch (e) {
      throw explained(e, options.where);
    }
  }

  private static async load(options: Parameters<typeof OnnxSequenceModel.create>[0]): Promise<OnnxSequenceModel> {
    const { where } = options;
    const folder = await openModelFolder(options.reader, where);
    const m = folder.manifest as typeof folder.manifest & {
      maxLength?: number;
      eventTypes?: string[];
      itemScale?: number;
      conversionBias?: number;
      textDims?: number;
      encoder?: { name?: string; modelHash?: string };
    };
    if (m.kind !== ('sequence-model' as string)) throw refuse(where, `it is a ${m.kind}, not a sequence model.`, REBUILD);
    const dims = m.dimensions;
    if (!dims || !m.maxLength || !Array.isArray(m.eventTypes) || !(Number(m.itemScale) > 0) || !m.textDims) {
      throw refuse(where, 'its manifest lacks dimensions, maxLength, eventTypes, itemScale or textDims.', REBUILD);
    }
    if (m.encoder?.modelHash !== options.encoder.modelHash || m.textDims !== options.encoder.dimensions) {
      throw refuse(
        where,
        `it was trained on the text vectors of encoder ${m.encoder?.name ?? '?'} (${String(m.encoder?.modelHash).slice(0, 12)}), not the one this page runs (${options.encoder.modelHash.slice(0, 12)}).`,
        REBUILD,
      );
    }
    if (!(m as { inputs?: Record<string, unknown> }).inputs?.rows) {
      throw refuse(where, 'it was exported by an older trainer (its item table inside model.onnx, no rows input).', REBUILD);
    }
    const [graph, table, projection, idsJson] = await Promise.all(
      ['model.onnx', 'items.bin', 'projection.bin', 'items.json'].map((f) => folder.read(f)),
    );
    const ids = JSON.parse(new TextDecoder().decode(idsJson)) as string[];
    if (!Array.isArray(ids) || table.length !== ids.length * dims || projection.length !== (m.textDims + 1) * dims * 4) {
      throw refuse(where, `items.bin, projection.bin and items.json do not fit ${ids.length} items of ${dims} dims.`, REBUILD);
    }
    const modelRows = new Map(ids.map((id, r) => [id, r] as const));
    const modelRow = Int32Array.from(options.catalogIds, (id) => modelRows.get(id) ?? -1);
    const known = modelRow.reduce((n, r) => n + (r >= 0 ? 1 : 0), 0);
    // a catalog changes over time, but a model that knows under half of today's items was trained for another one
    if (known * 2 < Math.min(ids.length, options.catalogIds.length)) {
      throw refuse(
        where,
        `only ${known} of this catalog's ${options.catalogIds.length} items are among the ${ids.length} it was trained on: it was built for another catalog.`,
        REBUILD,
      );
    }
    const q = new Int8Array(table.buffer, table.byteOffset, table.length);
    const proj = new Float32Array(projection.slice().buffer);
    const items = catalogRows(q, proj, modelRow, options.catalogVectors, dims, m.textDims, Number(m.itemScale));
    const probe = async (s: Session): Promise<void> => {
      const n = m.maxLength as number;
      const input = new options.ort.Tensor('int64', new BigInt64Array(n), [1, n]);
      const rows = new options.ort.Tensor('float32', new Float32Array(n * dims), [1, n, dims]);
      const out = await s.run({ items: input, types: input, rows });
      await out.user_state.getData();
    };
    const { session, backend, reason } = await runExclusive(() => createSession(options.ort, graph, options.backend ?? 'auto', undefined, probe));
    const info: SequenceModelInfo = {
      name: m.name,
      modelHash: m.hash,
      dims,
      maxLength: m.maxLength,
      eventTypes: m.eventTypes,
      itemScale: Number(m.itemScale),
      conversionBias: Number(m.conversionBias ?? 0),
      knownItems: known,
    };
    return new OnnxSequenceModel(info, backend, reason, items, modelRow, modelRows, ids, q, options.ort, session);
  }

  /** The user state for a history (oldest first), or null when no event of it is an item the model knows (the cold ranking). */
  async state(events: readonly SequenceEvent[]): Promise<UserState | null> {
    const input = this.inputs(events);
    if (input.used === 0) return null;
    return this.remembered(`s${windowKey([input])}`, async () => {
      const out = await this.run([input]);
      return { userState: out.user_state, conversionState: out.conversion_state, used: input.used };
    });
  }

  /**
   * Leave-one-out over the last `recent` distinct items of the history: the user state without each
   * (removed with all its events; older events move up into the window as they would if it had never
   * happened), all in one batched run. Null when the history has no item the model knows.
   */
  async attribution(events: readonly SequenceEvent[], recent = ATTRIBUTION_ITEMS): Promise<SequenceAttribution | null> {
    const input = this.inputs(events);
    if (input.used === 0) return null;
    const itemIds: string[] = [];
    for (let t = this.info.maxLength - 1; t >= 0 && itemIds.length < recent; t--) {
      const row = Number(input.items[t]) - 1;
      if (row < 0) break;
      const id = this.ids[row];
      if (!itemIds.includes(id)) itemIds.push(id);
    }
    const windows = itemIds.map((id) => this.inputs(events.filter((e) => e.itemId !== id)));
    return this.remembered(`a${itemIds.join('\u0000')}${windowKey(windows)}`, async () => {
      const out = await this.run(windows);
      return { itemIds, states: out.user_state, emptied: Uint8Array.from(windows, (w) => (w.used === 0 ? 1 : 0)) };
    });
  }

  /**
   * The last results by their graph inputs (two: a state and an attribution): another call for the same
   * history (a second slot, explain(), a page asking twice) runs nothing. The outputs depend on the inputs only.
   */
  private readonly memo = new Map<string, Promise<unknown>>();
  private remembered<T>(key: string, work: () => Promise<T>): Promise<T> {
    const hit = this.memo.get(key) as Promise<T> | undefined;
    if (hit) return hit;
    const result = work();
    this.memo.set(key, result);
    result.catch(() => this.memo.delete(key));
    if (this.memo.size > 2) this.memo.delete(this.memo.keys().next().value as string);
    return result;
  }

  private inputs(events: readonly SequenceEvent[]): ReturnType<typeof sequenceInputs> {
    return sequenceInputs(events, (id) => this.rowOfId.get(id), this.info.eventTypes, this.info.maxLength);
  }

  /** One run of the graph over a batch of windows (the item rows gathered from items.bin, dequantized). */
  private async run(batch: ReturnType<typeof sequenceInputs>[]): Promise<{ user_state: Float32Array; conversion_state: Float32Array }> {
    const { maxLength: n, dims, itemScale } = this.info;
    const b = batch.length;
    const items = new BigInt64Array(b * n);
    const types = new BigInt64Array(b * n);
    const rows = new Float32Array(b * n * dims);
    batch.forEach((w, k) => {
      items.set(w.items, k * n);
      types.set(w.types, k * n);
      for (let t = 0; t < n; t++) {
        const r = Number(w.items[t]) - 1;
        if (r < 0) continue;
        const at = (k * n + t) * dims;
        for (let d = 0; d < dims; d++) rows[at + d] = this.table[r * dims + d] * itemScale;
      }
    });
    const feeds = {
      items: new this.ort.Tensor('int64', items, [b, n]),
      types: new this.ort.Tensor('int64', types, [b, n]),
      rows: new this.ort.Tensor('float32', rows, [b, n, dims]),
    };
    try {
      return await runFloatOutputs(this.session, feeds, ['user_state', 'conversion_state']);
    } finally {
      for (const t of Object.values(feeds)) t.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** Catalog-order int8 rows: the model's row where it has one, else round(projection(text vector) / scale). */
function catalogRows(
  table: Int8Array,
  projection: Float32Array,
  modelRow: Int32Array,
  vectors: ItemMatrix,
  dims: number,
  textDims: number,
  scale: number,
): QuantizedItems {
  const paddedDims = Math.ceil(dims / 4) * 4;
  const data = new Int8Array(modelRow.length * paddedDims);
  const row = new Float32Array(dims);
  modelRow.forEach((r, i) => {
    if (r >= 0) {
      data.set(table.subarray(r * dims, (r + 1) * dims), i * paddedDims);
      return;
    }
    // projection.bin: [textDims + 1, dims], weights then bias (y = x W + b)
    row.set(projection.subarray(textDims * dims, (textDims + 1) * dims));
    for (let t = 0; t < textDims; t++) {
      const x = vectors.data[i * vectors.dims + t];
      if (x !== 0) for (let d = 0; d < dims; d++) row[d] += x * projection[t * dims + d];
    }
    for (let d = 0; d < dims; d++) data[i * paddedDims + d] = Math.max(-127, Math.min(127, Math.round(row[d] / scale)));
  });
  return { count: modelRow.length, dims, paddedDims, data };
}

/**
 * The model's score components for every catalog item, from the exact integer scan of
 * the int8 rows (the kernel every scoring path computes): `next` = exp((logit - best logit) / temperature)
 * in (0, 1] (the softmax share relative to the best item; a temperature above 1 spreads it over more
 * items, RankingConfig.sequenceTemperature), `conversion` = sigmoid of the
 * conversion logit; all 0 without the second scan when `withConversion` is false (a ranking that
 * weighs conversion by 0 adds nothing from it).
 */
export function sequenceScores(
  model: Pick<OnnxSequenceModel, 'items' | 'info'>,
  state: UserState,
  withConversion = true,
  temperature = 1,
): { next: Float32Array; conversion: Float32Array } {
  const next = nextShares(model, state.userState, temperature);
  if (!withConversion) return { next, conversion: new Float32Array(next.length) };
  const c = scan(model, state.conversionState);
  const conversion = Float32Array.from(c.ints, (v) => 1 / (1 + Math.exp(-(v * c.factor + model.info.conversionBias))));
  return { next, conversion };
}

/** The exact integer scan of the int8 rows with a state (its unit vector quantized like a query). */
function scan({ items, info }: Pick<OnnxSequenceModel, 'items' | 'info'>, v: Float32Array): { ints: Int32Array; factor: number } {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  const unit = Float32Array.from(v, (x) => x / norm);
  const q = quantizeQueries([unit], [1], items.paddedDims);
  q.weights[0] = 1;
  // int dot = sum(row/scale * unit*127): logit = int * scale * norm / 127
  return { ints: scoreQuantized(items, q), factor: (info.itemScale * norm) / 127 };
}

/** The next-item share of every catalog item for a user state: exp((logit - best logit) / temperature), in (0, 1]. */
function nextShares(model: Pick<OnnxSequenceModel, 'items' | 'info'>, userState: Float32Array, temperature = 1): Float32Array {
  const n = scan(model, userState);
  let best = -Infinity;
  for (const v of n.ints) if (v > best) best = v;
  const f = n.factor / temperature;
  return Float32Array.from(n.ints, (v) => Math.exp((v - best) * f));
}

/** The float logits of every catalog row for a state (dequantized table): what the parity test compares with PyTorch. */
export function sequenceLogits(items: QuantizedItems, scale: number, state: Float32Array): Float32Array {
  const out = new Float32Array(items.count);
  for (let i = 0; i < items.count; i++) {
    let s = 0;
    for (let d = 0; d < items.dims; d++) s += items.data[i * items.paddedDims + d] * state[d];
    out[i] = s * scale;
  }
  return out;
}

/** The next-item shares of every catalog item without each attributed history item (one scan each, on first use), at a temperature. */
const sharesWithout = new WeakMap<SequenceAttribution, { temperature: number; shares: Float32Array[] }>();

/**
 * The history items behind catalog item `i`'s model score, strongest first: for each attributed
 * history item, how much the item's next-item share (`next`: the full history's shares, from
 * sequenceScores at the same `temperature`) falls when that history item is left out; only positive drops (items that raised it).
 */
export function sequenceCauses(
  model: Pick<OnnxSequenceModel, 'items' | 'info'>,
  attribution: SequenceAttribution,
  next: Float32Array,
  i: number,
  temperature = 1,
): SequenceCause[] {
  const { dims } = model.info;
  let cached = sharesWithout.get(attribution);
  if (cached?.temperature !== temperature) {
    const shares = attribution.itemIds.map((_, j) =>
      attribution.emptied[j] ? new Float32Array(next.length) : nextShares(model, attribution.states.subarray(j * dims, (j + 1) * dims), temperature),
    );
    cached = { temperature, shares };
    sharesWithout.set(attribution, cached);
  }
  const without = cached.shares;
  const out: SequenceCause[] = [];
  attribution.itemIds.forEach((itemId, j) => {
    const drop = next[i] - without[j][i];
    if (drop > 0) out.push({ itemId, drop });
  });
  return out.sort((a, b) => b.drop - a.drop || (a.itemId < b.itemId ? -1 : 1));
}

/** The graph inputs of a batch as a string (the memo's key). */
function windowKey(batch: readonly ReturnType<typeof sequenceInputs>[]): string {
  return batch.map((w) => `${w.items.join(',')}|${w.types.join(',')}`).join(';');
}
