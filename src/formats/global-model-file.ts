/**
 * File formats of the global model (items.json + the model file(s) of a model folder).
 *
 * Version 2 (written by tools/global/write-asset.ts, read on the device): the compact asset.
 * Little-endian; `global.bin`, or when larger than the writer's shard size, the same bytes cut
 * into `global-000.bin`, `global-001.bin`, ... listed in that order in the manifest's `shards`:
 *   header (76 bytes): magic "ODRG", u32 version=2, u32 rows, u32 k, u32 kt, u32 boughtK (0: no list),
 *     then per list (neighbours, next, bought): u32 levels, f32 logLow, f32 logStep,
 *     then popularity: f32 logLow, f32 logStep, then u32 dataBytes, u32 reserved=0
 *   u16 popularity[rows]: row r's code is c[r] = c[r - 1] - popularity[r] (c[-1] = 65535: rows are in descending
 *     popularity, so these differences are small and compress well); code 0: none, c >= 1: exp(logLow + (c - 1) logStep); padded to 4 bytes
 *   u8 data[dataBytes]: one record per row, in row order, each starting on a byte; a record is a bit
 *     stream (bit i of a record is bit i % 8 of its byte i / 8; a field of several bits comes lowest
 *     bit first), zero-padded to a whole byte:
 *       per list (neighbours, next, bought when boughtK > 0): its count n, Exp-Golomb of order 0;
 *       then per list with n > 0: 5 bits order b; its n row ids ascending as gaps (the first id,
 *       then each id minus the previous minus 1), Exp-Golomb of order b (the encoder picks the
 *       row's shortest b); its n weight codes, ceil(log2(levels)) bits each (weight = exp(logLow + code logStep)).
 *     Exp-Golomb of order b codes v as z zero bits, a one, then the low z + b bits of v + 2^b
 *     (z = floor(log2(v + 2^b)) - b).
 * Rows are ordered by descending popularity (ties: the build's order), so frequent items, which
 * most lists point to, get small ids and small deltas. The device keeps `data` as it is (plus a
 * u32 offset per row and the popularity as f32) and decodes a row only when a history item needs it.
 *
 * DEFAULT_ASSET_OPTIONS below were chosen by measurement (README "The global asset on the device",
 * docs/global-asset.md): gzip / decoded bytes per item at 100,000 synthetic items with full lists
 * (node --import tsx tools/measure-global-asset.ts), and MovieLens latest-small test HR@10 / NDCG@10
 * (validation HR@10) by npm run eval -- ranking --asset=..., over one dense model:
 *   version 1 (dense f32)          1,044 / 1,044 B   0.1262 / 0.0737 (0.1574)
 *   k100,kt30 no budget, l256        305 / 320 B     0.1262 / 0.0736 (0.1590)
 *   mk16,mt8,l16                     52 / 61 B       0.1230 / 0.0706 (0.1426)
 *   mk12,mt6,l16 (default)           40 / 49 B       0.1295 / 0.0745 (0.1344)
 *   mk12,mt6,l64                     not measured    0.1295 / 0.0763 (0.1344)  (2 more bits per entry)
 *   mk8,mt4,l16                      28 / 37 B       quality not measured
 *   a full co-purchase list per item (mb4) adds about 10 B/item gzip.
 * On the DuckDB-built asset of tools/scale/generate.ts's 100,000-item site (with purchases) the default
 * is 37.4 B per row gzip, 47.4 decoded.
 *
 * Version 1 (dense, still decoded; the evaluation's build cache uses it): magic "ODRG", u32 version=1,
 *   u32 rows, u32 k, u32 kt, u32 neighbours[rows*k], f32 weights[rows*k], u32 next[rows*kt],
 *   f32 nextWeights[rows*kt], f32 popularity[rows]; a weight of 0 marks an empty slot; optional bought.bin:
 *   magic "ODRB", u32 version=1, u32 rows, u32 k, u32 neighbours[rows*k], f32 weights[rows*k].
 */
import { RecommenderError } from '../errors';

export interface GlobalModel {
  itemIds: string[];
  rows: number;
  /** Neighbours per row (EASE). */
  k: number;
  neighbours: Uint32Array;
  weights: Float32Array;
  /** Next-item transitions per row. */
  kt: number;
  next: Uint32Array;
  nextWeights: Float32Array;
  /** Time-decayed popularity in [0, 1]. */
  popularity: Float32Array;
  /** Co-purchase neighbours per row ("bought together"), when the logs held purchases (bought.bin); same layout as neighbours. */
  bought?: { k: number; neighbours: Uint32Array; weights: Float32Array };
}

const MAGIC = 0x4752444f; // "ODRG" little-endian

export function encodeGlobalModel(m: GlobalModel): Uint8Array {
  const words = 5 + 2 * m.rows * m.k + 2 * m.rows * m.kt + m.rows;
  const buf = new ArrayBuffer(words * 4);
  const u32 = new Uint32Array(buf);
  const f32 = new Float32Array(buf);
  u32.set([MAGIC, 1, m.rows, m.k, m.kt], 0);
  let o = 5;
  u32.set(m.neighbours, o);
  o += m.rows * m.k;
  f32.set(m.weights, o);
  o += m.rows * m.k;
  u32.set(m.next, o);
  o += m.rows * m.kt;
  f32.set(m.nextWeights, o);
  o += m.rows * m.kt;
  f32.set(m.popularity, o);
  return new Uint8Array(buf);
}

const BOUGHT_MAGIC = 0x4252444f; // "ODRB" little-endian

/** bought.bin: the co-purchase neighbours of a model with `rows` rows. */
export function encodeBoughtTogether(rows: number, bought: NonNullable<GlobalModel['bought']>): Uint8Array {
  const buf = new ArrayBuffer((4 + 2 * rows * bought.k) * 4);
  const u32 = new Uint32Array(buf);
  u32.set([BOUGHT_MAGIC, 1, rows, bought.k], 0);
  u32.set(bought.neighbours, 4);
  new Float32Array(buf).set(bought.weights, 4 + rows * bought.k);
  return new Uint8Array(buf);
}

/** Reads bought.bin for a model of `rows` rows (RecommenderError model_load_failed when it does not fit). */
export function decodeBoughtTogether(bin: Uint8Array, rows: number): NonNullable<GlobalModel['bought']> {
  const bad = (why: string): RecommenderError =>
    new RecommenderError('model_load_failed', `The global model's bought.bin is malformed: ${why}.`, 'Rebuild it with npm run build:global.');
  if (bin.byteLength < 16 || bin.byteLength % 4 !== 0) throw bad('truncated file');
  const copy = bin.slice();
  const u32 = new Uint32Array(copy.buffer);
  if (u32[0] !== BOUGHT_MAGIC || u32[1] !== 1) throw bad('unknown header');
  const k = u32[3];
  if (u32[2] !== rows) throw bad(`it has ${u32[2]} rows for a model of ${rows}`);
  if (4 + 2 * rows * k !== u32.length) throw bad('size does not match its header');
  const neighbours = u32.slice(4, 4 + rows * k);
  const weights = new Float32Array(copy.buffer).slice(4 + rows * k);
  for (let i = 0; i < neighbours.length; i++) if (neighbours[i] >= rows) throw bad('a neighbour index is out of range');
  return { k, neighbours, weights };
}

/** Decodes a version 1 (dense) file; `file` names it in errors. */
export function decodeGlobalModel(bin: Uint8Array, itemIds: string[], file = 'global.bin'): GlobalModel {
  const bad = (why: string): RecommenderError =>
    new RecommenderError('model_load_failed', `The global model file ${file} is malformed: ${why}.`, 'Rebuild it with npm run build:global.');
  if (bin.byteLength < 20 || bin.byteLength % 4 !== 0) throw bad('truncated file');
  const copy = bin.slice();
  const u32 = new Uint32Array(copy.buffer);
  const f32 = new Float32Array(copy.buffer);
  if (u32[0] !== MAGIC) throw bad('unknown header (not a global model file)');
  if (u32[1] !== 1) throw bad(`it is version ${u32[1]}, not the dense version 1`);
  const [rows, k, kt] = [u32[2], u32[3], u32[4]];
  if (5 + 2 * rows * k + 2 * rows * kt + rows !== u32.length) throw bad('size does not match its header');
  if (itemIds.length !== rows) throw bad(`items.json lists ${itemIds.length} ids for ${rows} rows`);
  let o = 5;
  const take = <T extends Uint32Array | Float32Array>(src: T, n: number): T => {
    const out = src.slice(o, o + n) as T;
    o += n;
    return out;
  };
  const neighbours = take(u32, rows * k);
  const weights = take(f32, rows * k);
  const next = take(u32, rows * kt);
  const nextWeights = take(f32, rows * kt);
  const popularity = take(f32, rows);
  for (const idx of [neighbours, next]) for (let i = 0; i < idx.length; i++) if (idx[i] >= rows) throw bad('a neighbour index is out of range');
  return { itemIds, rows, k, neighbours, weights, kt, next, nextWeights, popularity };
}

// ---- version 2: the compact asset -------------------------------------------------------------

/** The encoder's settings (tools/global/write-asset.ts); the defaults were chosen by measurement (README "Global asset"). */
export interface GlobalAssetOptions {
  /** Most co-visitation (EASE) neighbours a row keeps: the strongest of the build's. */
  k: number;
  /** Most next-item transitions a row keeps. */
  kt: number;
  /** Most co-purchase neighbours a row keeps (when the build has them). */
  boughtK: number;
  /**
   * Mean entries per row of each list (neighbours, next, bought), the asset's size budget: entries go
   * where they are read, to popular rows (a visitor's history is mostly popular items) and strong
   * weights, by utility popularity(row) x weight / the row's strongest weight; every row keeps at least
   * `minPerRow` of each list. 0: no budget, every row keeps up to k / kt / boughtK.
   */
  meanK: number;
  meanKt: number;
  meanBoughtK: number;
  minPerRow: number;
  /** Weight levels per list (2-256): log-scale quantization between the list's smallest and largest weight. */
  levels: number;
}

export const DEFAULT_ASSET_OPTIONS: GlobalAssetOptions = {
  k: 100,
  kt: 30,
  boughtK: 50,
  meanK: 12,
  meanKt: 6,
  meanBoughtK: 4,
  minPerRow: 3,
  levels: 16,
};

/**
 * How many of its strongest entries each row keeps (`strongest(r)`: row r's entries, strongest first)
 * so that they add up to about `mean` per row: every row its first `min`, then the entries of highest
 * utility popularity x weight / the row's strongest weight. A histogram of log utility finds the
 * threshold, so memory stays per row, not per entry, at a million rows.
 */
function allocate(rows: number, strongest: (r: number) => [number, number][], popularity: ArrayLike<number>, mean: number, min: number): Uint32Array {
  const counts = new Uint32Array(rows);
  if (mean <= 0) {
    for (let r = 0; r < rows; r++) counts[r] = strongest(r).length;
    return counts;
  }
  const BINS = 4096;
  const LOW = -40; // ln of the smallest utility told apart
  const bin = (u: number): number => (u > 0 ? Math.min(BINS - 1, Math.max(0, Math.floor(((Math.log(u) - LOW) / -LOW) * BINS))) : 0);
  const hist = new Float64Array(BINS);
  let taken = 0;
  for (let r = 0; r < rows; r++) {
    const row = strongest(r);
    taken += Math.min(min, row.length);
    for (let t = min; t < row.length; t++) hist[bin(popularity[r] * (row[t][1] / row[0][1]))]++;
  }
  let threshold = BINS;
  while (threshold > 0 && taken + hist[threshold - 1] <= mean * rows) taken += hist[--threshold];
  for (let r = 0; r < rows; r++) {
    const row = strongest(r);
    let n = Math.min(min, row.length);
    // utilities fall along a row (strongest first), so a row keeps a prefix
    while (n < row.length && bin(popularity[r] * (row[n][1] / row[0][1])) >= threshold) n++;
    counts[r] = n;
  }
  return counts;
}

export type GlobalListKind = 'neighbours' | 'next' | 'bought';
const LISTS: readonly GlobalListKind[] = ['neighbours', 'next', 'bought'];

/**
 * The global model as the device holds it (decoded from version 2, or converted from a dense model):
 * the row records stay bit-coded in `data`; read one row with readGlobalRow().
 */
export interface GlobalAsset {
  itemIds: string[];
  rows: number;
  /** Most co-visitation neighbours / next items a row holds. */
  k: number;
  kt: number;
  /** Present when the asset has co-purchase neighbours ("bought together"). */
  bought?: { k: number };
  /** Time-decayed popularity in [0, 1] per row. */
  popularity: Float32Array;
  /** Row r's record is data[offsets[r], offsets[r + 1]). */
  offsets: Uint32Array;
  data: Uint8Array;
  /** Weight of each code, per list (empty when the list is absent). */
  lut: Record<GlobalListKind, Float32Array>;
}

/** Scratch space for readGlobalRow() (one per caller; big enough for every list of the asset). */
export interface GlobalRow {
  ids: Uint32Array;
  weights: Float32Array;
}

export function globalRowBuffer(m: GlobalAsset): GlobalRow {
  const n = Math.max(m.k, m.kt, m.bought?.k ?? 0, 1);
  return { ids: new Uint32Array(n), weights: new Float32Array(n) };
}

/** Typed-array bytes the decoded asset holds (the item ids' strings not counted). */
export function globalAssetBytes(m: GlobalAsset): number {
  return m.popularity.byteLength + m.offsets.byteLength + m.data.byteLength + LISTS.reduce((s, l) => s + m.lut[l].byteLength, 0);
}

/** Reads a record's bits (see the file comment); `pos` is a bit position in `d`. */
class BitReader {
  pos = 0;
  constructor(private readonly d: Uint8Array) {}
  /** At least 25 bits from `pos` on, the next bit lowest (zeros past the end). */
  private window(): number {
    const p = this.pos >>> 3;
    const d = this.d;
    return ((d[p] | (d[p + 1] << 8) | (d[p + 2] << 16) | (d[p + 3] << 24)) >>> (this.pos & 7)) >>> 0;
  }
  bits(n: number): number {
    if (n === 0) return 0;
    if (n > 24) return this.bits(16) + this.bits(n - 16) * 65536;
    const v = this.window() & ((1 << n) - 1);
    this.pos += n;
    return v;
  }
  /** Exp-Golomb of order `b`; -1 when the zero run exceeds `limit` (a malformed stream). */
  expGolomb(b: number, limit = 40): number {
    let z = 0;
    for (;;) {
      const w = this.window() & 0xffffff;
      if (w !== 0) {
        const t = 31 - Math.clz32(w & -w);
        z += t;
        this.pos += t + 1;
        break;
      }
      z += 24;
      this.pos += 24;
      if (z > limit) return -1;
    }
    if (z > limit) return -1;
    return 2 ** (z + b) + this.bits(z + b) - 2 ** b;
  }
}

/** Bits per weight code of a list with `levels` levels. */
const codeBits = (levels: number): number => (levels > 1 ? Math.ceil(Math.log2(levels)) : 0);

/**
 * Row `r`'s entries of one list into `out` (row ids ascending, their weights); returns how many.
 * 0 when the asset lacks the list.
 */
export function readGlobalRow(m: GlobalAsset, list: GlobalListKind, r: number, out: GlobalRow): number {
  const want = LISTS.indexOf(list);
  if (want === 2 && !m.bought) return 0;
  const bits = new BitReader(m.data);
  bits.pos = m.offsets[r] * 8;
  const lists = m.bought ? 3 : 2;
  const counts = [0, 0, 0];
  for (let l = 0; l < lists; l++) counts[l] = bits.expGolomb(0);
  for (let l = 0; l < want; l++) {
    if (counts[l] === 0) continue;
    const b = bits.bits(5);
    for (let i = 0; i < counts[l]; i++) bits.expGolomb(b);
    bits.pos += counts[l] * codeBits(m.lut[LISTS[l]].length);
  }
  const n = counts[want];
  if (n === 0) return 0;
  const b = bits.bits(5);
  let id = -1;
  for (let i = 0; i < n; i++) {
    id += bits.expGolomb(b) + 1;
    out.ids[i] = id;
  }
  const lut = m.lut[list];
  const w = codeBits(lut.length);
  for (let i = 0; i < n; i++) out.weights[i] = lut[bits.bits(w)];
  return n;
}

/** Writes bits as BitReader reads them. */
class BitWriter {
  private buf = new Uint8Array(1 << 16);
  private pos = 0;
  /** The low `n` bits of `v`, lowest first. */
  bits(v: number, n: number): void {
    if (((this.pos + n) >>> 3) + 1 >= this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    for (let i = 0; i < n; i++) {
      if (Math.floor(v / 2 ** i) % 2) this.buf[this.pos >>> 3] |= 1 << (this.pos & 7);
      this.pos++;
    }
  }
  expGolomb(v: number, b: number): void {
    const w = v + 2 ** b;
    const high = log2Floor(w);
    this.bits(0, high - b);
    this.bits(1, 1);
    this.bits(w - 2 ** high, high);
  }
  /** Ends the record on a byte. */
  align(): void {
    this.pos = Math.ceil(this.pos / 8) * 8;
  }
  /** The bytes written (whole records). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos >>> 3);
  }
}

/** floor(log2(x)) for 1 <= x < 2^32. */
const log2Floor = (x: number): number => 31 - Math.clz32(x);
const expGolombBits = (v: number, b: number): number => 2 * log2Floor(v + 2 ** b) + 1 - b;

interface Quantizer {
  levels: number;
  logLow: number;
  logStep: number;
}

/** Log-scale levels between the smallest and the largest positive value (or one level when they are equal). */
function quantizer(values: Iterable<number>, levels: number): Quantizer {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!(v > 0)) continue;
    lo = Math.min(lo, Math.log(v));
    hi = Math.max(hi, Math.log(v));
  }
  if (!Number.isFinite(lo)) return { levels, logLow: 0, logStep: 0 };
  return { levels, logLow: lo, logStep: levels > 1 && hi > lo ? (hi - lo) / (levels - 1) : 0 };
}

const code = (q: Quantizer, v: number): number =>
  q.logStep > 0 ? Math.min(q.levels - 1, Math.max(0, Math.round((Math.log(v) - q.logLow) / q.logStep))) : 0;

/** The dense model's list of one row: entries with a positive weight, the strongest `k` (ties: the lower row). */
function denseRow(k: number, ids: Uint32Array, ws: Float32Array, r: number, keep: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0; t < k; t++) {
    const w = ws[r * k + t];
    if (w > 0) out.push([ids[r * k + t], w]);
  }
  out.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return out.slice(0, keep);
}

/**
 * Encodes a dense (build-side) model as version 2 with `options`. Returns the bytes and the row
 * order they use (the ids for items.json): rows by descending popularity, ties in the build's order.
 */
export function encodeGlobalAsset(m: GlobalModel, options: Partial<GlobalAssetOptions> = {}): { bytes: Uint8Array; itemIds: string[] } {
  const o = { ...DEFAULT_ASSET_OPTIONS, ...options };
  for (const [name, v, lo, hi] of [
    ['k', o.k, 0, 65535],
    ['kt', o.kt, 0, 65535],
    ['boughtK', o.boughtK, 0, 65535],
    ['levels', o.levels, 2, 256],
    ['meanK', o.meanK, 0, 65535],
    ['meanKt', o.meanKt, 0, 65535],
    ['meanBoughtK', o.meanBoughtK, 0, 65535],
    ['minPerRow', o.minPerRow, 0, 65535],
  ] as const) {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new RangeError(`Global asset option ${name} must be an integer in ${lo}-${hi}, not ${v}.`);
  }
  if (m.rows >= 2 ** 28) throw new RangeError(`The global model has ${m.rows} rows; the asset holds fewer than 2^28.`);
  for (let r = 0; r < m.rows; r++)
    if (!(m.popularity[r] >= 0 && m.popularity[r] <= 1))
      throw new RangeError(`The global model's popularity of row ${r} is ${m.popularity[r]}, not in [0, 1].`);
  const order = Array.from({ length: m.rows }, (_, r) => r).sort((a, b) => m.popularity[b] - m.popularity[a] || a - b);
  const newRow = new Uint32Array(m.rows);
  order.forEach((old, r) => (newRow[old] = r));
  const dense: [number, Uint32Array, Float32Array, number][] = [
    [m.k, m.neighbours, m.weights, o.k],
    [m.kt, m.next, m.nextWeights, o.kt],
  ];
  const boughtK = m.bought ? Math.min(o.boughtK, m.bought.k) : 0;
  if (m.bought && boughtK > 0) dense.push([m.bought.k, m.bought.neighbours, m.bought.weights, boughtK]);
  const popularity = Float32Array.from(order, (old) => m.popularity[old]);
  const means = [o.meanK, o.meanKt, o.meanBoughtK];
  // each list's rows in the asset's order: the strongest entries (computed again in each pass, so memory stays per row)
  const lists = dense.map(([k, ids, ws, keep]) => (r: number): [number, number][] => {
    const row = denseRow(k, ids, ws, order[r], keep);
    for (const [id] of row) if (id >= m.rows) throw new RangeError(`The global model's row ${order[r]} points at row ${id} of ${m.rows}.`);
    return row;
  });
  const counts = lists.map((strongest, l) => allocate(m.rows, strongest, popularity, means[l], o.minPerRow));
  const kept = (l: number, r: number): [number, number][] =>
    lists[l](r)
      .slice(0, counts[l][r])
      .map(([id, w]) => [newRow[id], w] as [number, number])
      .sort((a, b) => a[0] - b[0]);
  const quant = lists.map((strongest, l) =>
    quantizer(
      (function* () {
        for (let r = 0; r < m.rows; r++) for (const [, w] of strongest(r).slice(0, counts[l][r])) yield w;
      })(),
      o.levels,
    ),
  );
  while (quant.length < 3) quant.push({ levels: 0, logLow: 0, logStep: 0 });
  const popQ = quantizer(m.popularity, 65535);
  const w = new BitWriter();
  for (let r = 0; r < m.rows; r++) {
    const rows = lists.map((_, l) => kept(l, r));
    for (const row of rows) w.expGolomb(row.length, 0);
    rows.forEach((row, l) => {
      if (row.length === 0) return;
      const gaps = row.map(([id], i) => id - (i ? row[i - 1][0] : -1) - 1);
      // the shortest order lies near log2 of the mean gap
      const around = log2Floor(Math.max(1, Math.floor(gaps.reduce((a, g) => a + g, 0) / gaps.length)));
      let best = 0;
      let bestBits = Infinity;
      for (let b = Math.max(0, around - 3); b <= Math.min(31, around + 2); b++) {
        const n = gaps.reduce((s, g) => s + expGolombBits(g, b), 0);
        if (n < bestBits) [best, bestBits] = [b, n];
      }
      w.bits(best, 5);
      for (const g of gaps) w.expGolomb(g, best);
      for (const [, x] of row) w.bits(code(quant[l], x), codeBits(o.levels));
    });
    w.align();
  }
  const bytes = w.finish();
  const popBytes = Math.ceil((2 * m.rows) / 4) * 4;
  const out = new Uint8Array(HEADER_BYTES + popBytes + bytes.length);
  const view = new DataView(out.buffer);
  [MAGIC, 2, m.rows, Math.min(o.k, m.k), Math.min(o.kt, m.kt), boughtK].forEach((v, i) => view.setUint32(4 * i, v, true));
  quant.forEach((q, l) => {
    view.setUint32(24 + 12 * l, q.levels, true);
    view.setFloat32(28 + 12 * l, q.logLow, true);
    view.setFloat32(32 + 12 * l, q.logStep, true);
  });
  view.setFloat32(60, popQ.logLow, true);
  view.setFloat32(64, popQ.logStep, true);
  view.setUint32(68, bytes.length, true);
  view.setUint32(72, 0, true);
  let prev = 65535;
  order.forEach((old, r) => {
    const p = m.popularity[old];
    const c = p > 0 ? 1 + code(popQ, p) : 0;
    view.setUint16(HEADER_BYTES + 2 * r, prev - c, true);
    prev = c;
  });
  out.set(bytes, HEADER_BYTES + popBytes);
  return { bytes: out, itemIds: order.map((old) => m.itemIds[old]) };
}

const HEADER_BYTES = 76;

/** The version a global model file declares (1 dense, 2 compact), or null when it is not one. */
export function globalModelVersion(bin: Uint8Array): number | null {
  if (bin.byteLength < 8) return null;
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  return view.getUint32(0, true) === MAGIC ? view.getUint32(4, true) : null;
}

/**
 * Decodes a version 2 file (`file` names it in errors). Every row is walked once: counts within the
 * header's k, ids ascending and below rows, codes below the levels, the data ending where the header
 * says; anything else is RecommenderError model_load_failed naming the file and the fix.
 */
export function decodeGlobalAsset(bin: Uint8Array, itemIds: string[], file = 'global.bin'): GlobalAsset {
  const bad = (why: string): RecommenderError =>
    new RecommenderError('model_load_failed', `The global model file ${file} is malformed: ${why}.`, 'Rebuild it with npm run build:global.');
  if (bin.byteLength < HEADER_BYTES) throw bad(`truncated file (${bin.byteLength} bytes, the header alone is ${HEADER_BYTES})`);
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const u32 = (o: number): number => view.getUint32(o, true);
  if (u32(0) !== MAGIC) throw bad('unknown header (not a global model file)');
  if (u32(4) !== 2) throw bad(`it is version ${u32(4)}, this engine reads versions 1 and 2`);
  const [rows, k, kt, boughtK] = [u32(8), u32(12), u32(16), u32(20)];
  const popBytes = Math.ceil((2 * rows) / 4) * 4;
  const dataBytes = u32(68);
  if (HEADER_BYTES + popBytes + dataBytes !== bin.byteLength)
    throw bad(`it is ${bin.byteLength} bytes, its header says ${HEADER_BYTES + popBytes + dataBytes} (truncated or extended)`);
  if (itemIds.length !== rows) throw bad(`items.json lists ${itemIds.length} ids for ${rows} rows`);
  const lut = {} as Record<GlobalListKind, Float32Array>;
  LISTS.forEach((list, l) => {
    const levels = u32(24 + 12 * l);
    const [logLow, logStep] = [view.getFloat32(28 + 12 * l, true), view.getFloat32(32 + 12 * l, true)];
    const present = list !== 'bought' || boughtK > 0;
    if (present && (levels < 1 || levels > 256 || !Number.isFinite(logLow) || !Number.isFinite(logStep)))
      throw bad(`the ${list} weight levels are invalid`);
    lut[list] = Float32Array.from({ length: present ? levels : 0 }, (_, c) => Math.exp(logLow + c * logStep));
  });
  const [popLow, popStep] = [view.getFloat32(60, true), view.getFloat32(64, true)];
  if (!Number.isFinite(popLow) || !Number.isFinite(popStep)) throw bad('the popularity levels are invalid');
  const popularity = new Float32Array(rows);
  for (let r = 0, c = 65535; r < rows; r++) {
    c -= view.getUint16(HEADER_BYTES + 2 * r, true);
    if (c < 0) throw bad(`row ${r}'s popularity is below zero (rows must come in descending popularity)`);
    popularity[r] = c === 0 ? 0 : Math.min(1, Math.exp(popLow + (c - 1) * popStep));
  }
  const data = bin.slice(HEADER_BYTES + popBytes);
  const offsets = new Uint32Array(rows + 1);
  const maxOf = [k, kt, boughtK];
  const lists = boughtK > 0 ? 3 : 2;
  const bits = new BitReader(data);
  const end = data.length * 8;
  const past = (r: number): RecommenderError => bad(`row ${r} runs past the end of the data`);
  for (let r = 0; r < rows; r++) {
    offsets[r] = bits.pos >>> 3;
    const counts: number[] = [];
    for (let l = 0; l < lists; l++) {
      const n = bits.expGolomb(0, 32);
      if (n < 0) throw bad(`row ${r} holds an overlong number`);
      if (bits.pos > end) throw past(r);
      if (n > maxOf[l]) throw bad(`row ${r} holds ${n} ${LISTS[l]} entries, the header allows ${maxOf[l]}`);
      counts.push(n);
    }
    for (let l = 0; l < lists; l++) {
      if (counts[l] === 0) continue;
      const b = bits.bits(5);
      let id = -1;
      for (let i = 0; i < counts[l]; i++) {
        const gap = bits.expGolomb(b, 32);
        if (gap < 0) throw bad(`row ${r} holds an overlong number`);
        if (bits.pos > end) throw past(r);
        id += gap + 1;
        if (id >= rows) throw bad(`row ${r} points at row ${id} of ${rows} (an index out of range)`);
      }
      const levels = lut[LISTS[l]].length;
      const w = codeBits(levels);
      if (bits.pos + counts[l] * w > end) throw past(r);
      for (let i = 0; i < counts[l]; i++)
        if (bits.bits(w) >= levels) throw bad(`row ${r} holds a ${LISTS[l]} weight code beyond its ${levels} levels`);
    }
    bits.pos = Math.ceil(bits.pos / 8) * 8;
  }
  const p = bits.pos >>> 3;
  if (p !== data.length) throw bad(`${data.length - p} bytes follow the last row`);
  offsets[rows] = p;
  return { itemIds, rows, k, kt, ...(boughtK > 0 ? { bought: { k: boughtK } } : {}), popularity, offsets, data, lut };
}

/** A dense (build-side) model as the device holds it: encoded with `options` and decoded, so the quantization is the asset's. */
export function toGlobalAsset(m: GlobalModel, options: Partial<GlobalAssetOptions> = {}): GlobalAsset {
  const { bytes, itemIds } = encodeGlobalAsset(m, options);
  return decodeGlobalAsset(bytes, itemIds);
}
