/**
 * The site-side estimator of measurement reports (`npm run measure`): small,
 * dependency-free (it imports only the report format next to it), for Node and
 * browsers. It debiases the randomized response of every report and estimates,
 * per placement and per A/B variant, the rate of visits with a click (the
 * click-through rate), an explored click, a conversion and a dismissal, each with
 * a 95% confidence interval, and each variant's difference to variant 0.
 *
 * Per report and field, the unbiased estimate of a true bit b from the reported
 * bit b' is (b' - (1 - p)) / (2p - 1), p the keep probability; of "the true
 * variant is j" from the reported variant v' it is (1[v' = j] - q) / (s - q), s and
 * q the k-ary probabilities. Fields are randomized independently, so the product
 * of two such estimates is unbiased for the product of the truths. A variant's
 * rate is the ratio Σ V̂ⱼ·b̂ / Σ V̂ⱼ; its standard error, and the difference's, come
 * from the linearization (delta method) over the reports, which are taken as
 * independent (one report per visit; the reports carry nothing that links them).
 */
import { bitKeepProbability, parseReport, REPORT_BITS, variantProbabilities, type Mechanism, type Report, type ReportBit } from './ldp';

export const Z95 = 1.959963984540054;

export interface Interval {
  /** The estimate (unbiased numerator over unbiased denominator); null without enough reports. */
  estimate: number | null;
  low: number | null;
  high: number | null;
  standardError: number | null;
}

export interface VariantEstimate {
  variant: number;
  /** Estimated number of reports from visitors of this variant (debiased). */
  reports: number;
  rates: Record<ReportBit, Interval>;
  /** This variant's rate minus variant 0's (absent for variant 0). */
  difference?: Record<ReportBit, Interval>;
}

export interface PlacementEstimate {
  placement: string;
  reports: number;
  variants: number;
  /** Report epsilons seen (normally one). */
  epsilons: number[];
  days: { first: string; last: string };
  rates: Record<ReportBit, Interval>;
  byVariant: VariantEstimate[];
}

export interface Estimates {
  reports: number;
  placements: PlacementEstimate[];
}

/** Unbiased estimate of a true bit from its reported value. */
function bitHat(b: 0 | 1, m: Mechanism): number {
  const p = bitKeepProbability(m);
  return (b - (1 - p)) / (2 * p - 1);
}

/** Unbiased estimate of 1[true variant = j] from the reported variant. */
function variantHat(reported: number, j: number, m: Mechanism): number {
  if (m.variants <= 1) return 1;
  const { same, other } = variantProbabilities(m);
  return ((reported === j ? 1 : 0) - other) / (same - other);
}

const clip01 = (x: number): number => Math.min(1, Math.max(0, x));

function interval(estimate: number, variance: number, z: number): Interval {
  if (!Number.isFinite(estimate) || !Number.isFinite(variance)) return { estimate: null, low: null, high: null, standardError: null };
  const se = Math.sqrt(Math.max(0, variance));
  return { estimate, low: estimate - z * se, high: estimate + z * se, standardError: se };
}

/** A rate's interval clipped to [0, 1] (the estimate itself is left unbiased). */
const clipped = (i: Interval): Interval => (i.low === null || i.high === null ? i : { ...i, low: clip01(i.low), high: clip01(i.high) });

/**
 * Ratio Σa/Σb and its delta-method variance Σ(a - R·b)² / (Σb)², with a small-sample factor n/(n-1).
 * Returns the per-report influence (a - R·b)/Σb too, for differences.
 */
function ratio(a: Float64Array, b: Float64Array): { r: number; variance: number; influence: Float64Array } {
  const n = a.length;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i];
    sb += b[i];
  }
  const influence = new Float64Array(n);
  if (n < 2 || !(sb > 0)) return { r: NaN, variance: NaN, influence };
  const r = sa / sb;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    influence[i] = (a[i] - r * b[i]) / sb;
    ss += influence[i] * influence[i];
  }
  return { r, variance: (ss * n) / (n - 1), influence };
}

function estimatePlacement(placement: string, reports: readonly Report[], z: number): PlacementEstimate {
  const n = reports.length;
  const k = Math.max(...reports.map((r) => r.variants));
  const ones = new Float64Array(n).fill(1);
  const bits = Object.fromEntries(REPORT_BITS.map((bit) => [bit, Float64Array.from(reports, (r) => bitHat(r[bit], r))])) as Record<
    ReportBit,
    Float64Array
  >;
  const rates = Object.fromEntries(
    REPORT_BITS.map((bit) => {
      const { r, variance } = ratio(bits[bit], ones);
      return [bit, clipped(interval(r, variance, z))];
    }),
  ) as Record<ReportBit, Interval>;

  const byVariant: VariantEstimate[] = [];
  if (k > 1) {
    const influences: Record<ReportBit, Float64Array>[] = [];
    const estimates: Record<ReportBit, number>[] = [];
    for (let j = 0; j < k; j++) {
      const vj = Float64Array.from(reports, (r) => variantHat(r.variant, j, r));
      const infl = {} as Record<ReportBit, Float64Array>;
      const est = {} as Record<ReportBit, number>;
      const vRates = {} as Record<ReportBit, Interval>;
      for (const bit of REPORT_BITS) {
        const a = Float64Array.from(vj, (x, i) => x * bits[bit][i]);
        const { r, variance, influence } = ratio(a, vj);
        infl[bit] = influence;
        est[bit] = r;
        vRates[bit] = clipped(interval(r, variance, z));
      }
      influences.push(infl);
      estimates.push(est);
      const entry: VariantEstimate = { variant: j, reports: vj.reduce((s, x) => s + x, 0), rates: vRates };
      if (j > 0) {
        entry.difference = Object.fromEntries(
          REPORT_BITS.map((bit) => {
            let ss = 0;
            for (let i = 0; i < n; i++) {
              const d = influences[j][bit][i] - influences[0][bit][i];
              ss += d * d;
            }
            return [bit, interval(estimates[j][bit] - estimates[0][bit], (ss * n) / Math.max(1, n - 1), z)];
          }),
        ) as Record<ReportBit, Interval>;
      }
      byVariant.push(entry);
    }
  }
  const days = reports.map((r) => r.day).sort();
  return {
    placement,
    reports: n,
    variants: k,
    epsilons: [...new Set(reports.map((r) => r.epsilon))].sort((a, b) => a - b),
    days: { first: days[0], last: days[days.length - 1] },
    rates,
    byVariant,
  };
}

/** Estimates per placement (reports declaring another number of variants are a placement of their own, "name (k variants)"). */
export function estimate(reports: readonly Report[], options: { z?: number } = {}): Estimates {
  const z = options.z ?? Z95;
  const groups = new Map<string, Report[]>();
  const ks = new Map<string, Set<number>>();
  for (const r of reports) ks.set(r.placement, (ks.get(r.placement) ?? new Set()).add(r.variants));
  for (const r of reports) {
    const key = (ks.get(r.placement)?.size ?? 1) > 1 ? `${r.placement} (${r.variants} variants)` : r.placement;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  const placements = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([p, list]) => estimatePlacement(p, list, z));
  return { reports: reports.length, placements };
}

/** Reads reports, one JSON body per line (blank lines ignored); lines that are not reports are listed, not guessed. */
export function parseReports(jsonl: string): { reports: Report[]; skipped: { line: number; reason: string }[] } {
  const reports: Report[] = [];
  const skipped: { line: number; reason: string }[] = [];
  jsonl.split('\n').forEach((text, i) => {
    if (text.trim() === '') return;
    const r = parseReport(text);
    if (typeof r === 'string') skipped.push({ line: i + 1, reason: r });
    else reports.push(r);
  });
  return { reports, skipped };
}

// ------------------------------------------------------------------ planning

/**
 * Second moments, per report, of the linearized estimators, computed exactly by
 * enumerating the truth and the mechanism's outputs: variants equally likely, every
 * variant with true rate `rate`. Returns the variance of one variant's rate and of a
 * difference of two variants' rates, times the number of reports.
 */
export function perReportVariance(m: Mechanism, rate: number): { rate: number; difference: number } {
  const k = Math.max(1, m.variants);
  const keep = bitKeepProbability(m);
  const { same, other } = variantProbabilities(m);
  const pv = 1 / k;
  let mRate = 0;
  let mDiff = 0;
  for (let tv = 0; tv < k; tv++)
    for (const tb of [0, 1] as const) {
      const pt = pv * (tb ? rate : 1 - rate);
      for (let ov = 0; ov < k; ov++)
        for (const ob of [0, 1] as const) {
          const po = (k > 1 ? (ov === tv ? same : other) : 1) * (ob === tb ? keep : 1 - keep);
          const b = bitHat(ob, m);
          const v0 = variantHat(ov, 0, m);
          const v1 = k > 1 ? variantHat(ov, 1, m) : 0;
          const a0 = v0 * (b - rate);
          const a1 = v1 * (b - rate);
          mRate += pt * po * a0 * a0;
          mDiff += pt * po * (a1 - a0) * (a1 - a0);
        }
    }
  // the denominator of a variant's ratio is the share of its reports, 1/k
  return { rate: mRate * k * k, difference: mDiff * k * k };
}

/**
 * Reports needed (all variants together, split evenly) for a 95% interval of ±halfWidth on
 * one variant's rate, and on the difference between two variants, when the rate is `rate`.
 */
export function reportsNeeded(m: Mechanism, rate: number, halfWidth: number, z = Z95): { rate: number; difference: number } {
  const v = perReportVariance(m, rate);
  const n = (x: number): number => Math.ceil((z * z * x) / (halfWidth * halfWidth));
  return { rate: n(v.rate), difference: m.variants > 1 ? n(v.difference) : NaN };
}
