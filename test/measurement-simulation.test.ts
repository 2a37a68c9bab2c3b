/**
 * Simulation of the measurement end to end: 100,000 simulated visitors with known
 * click-through rates per A/B variant go through the device's own reporting code
 * (variant draw, visit counting, daily budget, randomized response, padded report
 * bodies, the send path), the bodies are read back as JSON lines by the estimator
 * (the same code as `npm run measure`), which must recover every rate and the variant
 * difference within their 95% intervals. Over repeated seeds, the intervals' coverage
 * must be close to nominal, and their width match the planning formula behind the
 * README's table.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { SimulationTruth } from '../support/measurement-simulation';
import { randomize, REPORT_BITS, type Report, type ReportBit, type ReportValues } from '../src/measurement/ldp';
import { estimate, parseReports, perReportVariance, type Interval } from '../src/measurement/estimator';
import { mulberry32 } from '../src/math/random';

/** True click-through rate (a visit with a click on a recommendation) per variant. */
const CTR = [0.1, 0.13];
/** Given a click: it lands on an explored slot, it converts. Dismissals are independent. */
const EXPLORED_GIVEN_CLICK = 0.3;
const CONVERSION_GIVEN_CLICK = 0.25;
const DISMISS = 0.05;
const truth = (v: number): Record<ReportBit, number> => ({
  click: CTR[v],
  explored: CTR[v] * EXPLORED_GIVEN_CLICK,
  conversion: CTR[v] * CONVERSION_GIVEN_CLICK,
  dismiss: DISMISS,
});

const covers = (i: Interval, x: number): boolean => i.low !== null && i.high !== null && i.low <= x && x <= i.high;

/** Runs the simulated visitors in a worker thread (see support/measurement-simulation.ts). */
function simulate(visitors: number, seed: number): Promise<string[]> {
  const truth: SimulationTruth = {
    ctr: CTR,
    exploredGivenClick: EXPLORED_GIVEN_CLICK,
    conversionGivenClick: CONVERSION_GIVEN_CLICK,
    dismiss: DISMISS,
  };
  const url = new URL('../support/measurement-simulation.ts', import.meta.url).href;
  // a worker thread does not inherit tsx's loader: register it, then load the simulation
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { simulation: { visitors, seed, truth } } });
  return new Promise((resolve, reject) => {
    worker.once('message', (sent: string[]) => void worker.terminate().then(() => resolve(sent)));
    worker.once('error', reject);
  });
}

describe('measurement simulation', () => {
  test('100,000 visitors through the device code: the estimator recovers each rate and the variant difference within their intervals', async () => {
    const N = 100_000;
    const sent = await simulate(N, 20250303);
    assert.equal(sent.length, N, 'one report per visitor');
    const { reports, skipped } = parseReports(sent.join('\n'));
    assert.deepEqual(skipped, []);
    const [home] = estimate(reports).placements;
    assert.equal(home.placement, 'home');
    assert.equal(home.byVariant.length, 2);
    const lines: string[] = [];
    for (const v of [0, 1])
      for (const bit of REPORT_BITS) {
        const i = home.byVariant[v].rates[bit];
        lines.push(
          `variant ${v} ${bit}: truth ${truth(v)[bit].toFixed(4)}, estimate ${i.estimate?.toFixed(4)} [${i.low?.toFixed(4)}, ${i.high?.toFixed(4)}]`,
        );
        assert.ok(covers(i, truth(v)[bit]), lines.at(-1));
      }
    const d = home.byVariant[1].difference!.click;
    lines.push(
      `difference click: truth ${(CTR[1] - CTR[0]).toFixed(4)}, estimate ${d.estimate?.toFixed(4)} [${d.low?.toFixed(4)}, ${d.high?.toFixed(4)}]`,
    );
    assert.ok(covers(d, CTR[1] - CTR[0]), lines.at(-1));
    // the interval's width is what the planning formula (the README's table) predicts
    const predicted = Math.sqrt(perReportVariance({ epsilon: 4, variants: 2 }, CTR[0]).rate / N);
    const observed = home.byVariant[0].rates.click.standardError!;
    lines.push(`standard error of variant 0's click-through: ${observed.toFixed(5)}, planning formula ${predicted.toFixed(5)}`);
    assert.ok(Math.abs(observed / predicted - 1) < 0.1, lines.at(-1));
    console.log(lines.join('\n'));
  });

  test("over 200 seeds, the 95% intervals cover the truth close to 95% of the time (each variant's rates and the difference)", () => {
    const SEEDS = 200;
    const VISITORS = 4000;
    const hits: Record<string, number> = {};
    const count = (key: string, ok: boolean): void => void (hits[key] = (hits[key] ?? 0) + (ok ? 1 : 0));
    for (let seed = 1; seed <= SEEDS; seed++) {
      const random = mulberry32(seed);
      const reports: Report[] = [];
      for (let i = 0; i < VISITORS; i++) {
        const variant = random() < 0.5 ? 0 : 1;
        const click = random() < CTR[variant];
        const explored = click && random() < EXPLORED_GIVEN_CLICK;
        const values: ReportValues = {
          variant,
          click: click ? 1 : 0,
          explored: explored ? 1 : 0,
          conversion: click && random() < CONVERSION_GIVEN_CLICK ? 1 : 0,
          dismiss: random() < DISMISS ? 1 : 0,
        };
        const noisy = randomize(values, { epsilon: 4, variants: 2 }, random);
        reports.push({ v: 1, placement: 'home', day: '2025-03-03', epsilon: 4, variants: 2, ...noisy });
      }
      const [home] = estimate(reports).placements;
      for (const v of [0, 1]) for (const bit of REPORT_BITS) count(`variant ${v} ${bit}`, covers(home.byVariant[v].rates[bit], truth(v)[bit]));
      count('difference click', covers(home.byVariant[1].difference!.click, CTR[1] - CTR[0]));
      count('all visits click', covers(home.rates.click, (CTR[0] + CTR[1]) / 2));
    }
    const rates = Object.entries(hits).map(([k, n]) => `${k}: ${((100 * n) / SEEDS).toFixed(1)}%`);
    console.log(`coverage of the 95% intervals over ${SEEDS} seeds of ${VISITORS} visitors:\n${rates.join('\n')}`);
    // 200 seeds: a binomial standard deviation of 1.5 points around 95%
    for (const [k, n] of Object.entries(hits)) assert.ok(n / SEEDS >= 0.9 && n / SEEDS <= 0.99, `${k}: coverage ${n / SEEDS}`);
  });
});
