/**
 * The measurement report and its randomized response: what a device may send when
 * the integrator opts in (`measurement` option), and the exact probabilities with
 * which each field is perturbed. Pure and dependency-free: the device
 * (src/measurement/measurement.ts) and the site-side estimator
 * (src/measurement/estimator.ts, `npm run measure`) share it.
 *
 * A report describes one visit at one placement (slates shown until `visitGapMs`
 * without a new one, or the end of the UTC day). Its fields, in this order:
 *
 * | field | value |
 * | --- | --- |
 * | `v` | 1 (the format) |
 * | `placement` | the integrator's name of the placement, `[a-z0-9][a-z0-9_-]{0,31}` (not perturbed) |
 * | `day` | UTC day of the visit, `YYYY-MM-DD` (not perturbed) |
 * | `epsilon` | the report's epsilon (site configuration, not perturbed) |
 * | `variants` | how many A/B variants the site declared (1: none; site configuration) |
 * | `variant` | the visitor's variant, 0-based, randomized (k-ary randomized response) |
 * | `click` | 1 if a shown recommendation got a click, like, add-to-cart or purchase, randomized |
 * | `explored` | 1 if such a reaction landed on an explored slot (not the ranking's), randomized |
 * | `conversion` | 1 if a shown recommendation was added to the cart or bought, randomized |
 * | `dismiss` | 1 if a shown recommendation was dismissed, randomized |
 *
 * The JSON text is padded with spaces to exactly REPORT_BYTES bytes. The report's
 * epsilon is split evenly over its randomized fields (the four bits, plus the
 * variant when there are variants): each field is ε/F-differentially private, so
 * the whole report is ε-differentially private (sequential composition).
 */

export const REPORT_VERSION = 1;
/** Every report body is exactly this many bytes (JSON padded with spaces). */
export const REPORT_BYTES = 256;
/** The randomized behaviour bits of a report. */
export const REPORT_BITS = ['click', 'explored', 'conversion', 'dismiss'] as const;
export type ReportBit = (typeof REPORT_BITS)[number];
/** The fields of a report, in the order they are written. Nothing else is ever sent. */
export const REPORT_FIELDS = ['v', 'placement', 'day', 'epsilon', 'variants', 'variant', ...REPORT_BITS] as const;
export const MAX_VARIANTS = 8;
export const PLACEMENT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** Bounds of a report's epsilon (options refuse anything else). */
export const MIN_EPSILON = 0.1;
export const MAX_EPSILON = 10;

/** What a visit truly was (kept on the device) or what a report says (after randomization). */
export interface ReportValues {
  variant: number;
  click: 0 | 1;
  explored: 0 | 1;
  conversion: 0 | 1;
  dismiss: 0 | 1;
}

/** The site's configuration of the mechanism: the report's epsilon and the number of variants. */
export interface Mechanism {
  epsilon: number;
  variants: number;
}

export interface Report extends ReportValues, Mechanism {
  v: 1;
  placement: string;
  day: string;
}

/** How many fields share the report's epsilon: the four bits, and the variant when there are variants. */
export function randomizedFields(variants: number): number {
  return REPORT_BITS.length + (variants > 1 ? 1 : 0);
}

/** The epsilon of each randomized field. */
export function fieldEpsilon(m: Mechanism): number {
  return m.epsilon / randomizedFields(m.variants);
}

/** Probability that a bit is reported as it is (else it is flipped): e^ε/(1+e^ε). */
export function bitKeepProbability(m: Mechanism): number {
  const e = fieldEpsilon(m);
  return Number.isFinite(e) ? 1 / (1 + Math.exp(-e)) : 1;
}

/** k-ary randomized response: the true variant with probability `same`, each other variant with probability `other`. */
export function variantProbabilities(m: Mechanism): { same: number; other: number } {
  if (m.variants <= 1) return { same: 1, other: 0 };
  const e = fieldEpsilon(m);
  if (!Number.isFinite(e)) return { same: 1, other: 0 };
  const denom = Math.exp(e) + m.variants - 1;
  return { same: Math.exp(e) / denom, other: 1 / denom };
}

/** Probability that the mechanism reports `output` when the truth is `truth`: the product of the fields' probabilities. */
export function reportProbability(truth: ReportValues, output: ReportValues, m: Mechanism): number {
  const keep = bitKeepProbability(m);
  const { same, other } = variantProbabilities(m);
  let p = truth.variant === output.variant ? same : other;
  for (const bit of REPORT_BITS) p *= truth[bit] === output[bit] ? keep : 1 - keep;
  return p;
}

/** Randomized response on every field, with the probabilities of {@link reportProbability}. `random` returns [0, 1). */
export function randomize(truth: ReportValues, m: Mechanism, random: () => number): ReportValues {
  const keep = bitKeepProbability(m);
  const flip = (b: 0 | 1): 0 | 1 => (random() < keep ? b : ((1 - b) as 0 | 1));
  let variant = truth.variant;
  if (m.variants > 1 && random() >= variantProbabilities(m).same) {
    const j = Math.min(m.variants - 2, Math.floor(random() * (m.variants - 1)));
    variant = j >= truth.variant ? j + 1 : j;
  }
  return {
    variant,
    click: flip(truth.click),
    explored: flip(truth.explored),
    conversion: flip(truth.conversion),
    dismiss: flip(truth.dismiss),
  };
}

/** The UTC day of an epoch-ms time, YYYY-MM-DD: the finest time a report carries. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const utf8 = new TextEncoder();

/** The body of a report: its fields in order, as JSON, padded with spaces to exactly REPORT_BYTES bytes. */
export function encodeReport(r: Report): string {
  const ordered: Record<string, unknown> = {};
  for (const f of REPORT_FIELDS) ordered[f] = r[f];
  const json = JSON.stringify(ordered);
  const bytes = utf8.encode(json).length;
  if (bytes > REPORT_BYTES) throw new Error(`A measurement report of ${bytes} bytes does not fit ${REPORT_BYTES} bytes.`);
  return json + ' '.repeat(REPORT_BYTES - bytes);
}

const isBit = (v: unknown): v is 0 | 1 => v === 0 || v === 1;

/** A report body read back: the Report, or why it is not one (wrong fields, values out of range). */
export function parseReport(text: string): Report | string {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return 'not an object';
  const r = o as Record<string, unknown>;
  const keys = Object.keys(r);
  if (keys.length !== REPORT_FIELDS.length || !REPORT_FIELDS.every((f) => Object.hasOwn(r, f))) return `fields must be ${REPORT_FIELDS.join(', ')}`;
  if (r.v !== REPORT_VERSION) return `v must be ${REPORT_VERSION}`;
  if (typeof r.placement !== 'string' || !PLACEMENT_PATTERN.test(r.placement)) return 'bad placement';
  if (typeof r.day !== 'string' || !DAY_PATTERN.test(r.day)) return 'bad day';
  if (typeof r.epsilon !== 'number' || !(r.epsilon >= MIN_EPSILON && r.epsilon <= MAX_EPSILON)) return 'bad epsilon';
  if (typeof r.variants !== 'number' || !Number.isInteger(r.variants) || r.variants < 1 || r.variants > MAX_VARIANTS) return 'bad variants';
  if (typeof r.variant !== 'number' || !Number.isInteger(r.variant) || r.variant < 0 || r.variant >= r.variants) return 'bad variant';
  for (const b of REPORT_BITS) if (!isBit(r[b])) return `${b} must be 0 or 1`;
  return r as unknown as Report;
}
