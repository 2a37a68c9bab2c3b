/**
 * `npm run measure -- <reports.jsonl> [--json]`: the site-side estimator over the
 * measurement reports your endpoint received (one body per line, as POSTed). Prints,
 * per placement and per A/B variant, the click-through rate (visits with a click on a
 * recommendation), explored clicks, conversions and dismissals with 95% intervals,
 * and each variant's difference to variant 0.
 *
 * `npm run measure -- --plan` prints the README's table: reports needed for a given precision.
 */
import { readFileSync } from 'node:fs';
import { estimate, parseReports, reportsNeeded, type Interval } from '../src/measurement/estimator';
import { REPORT_BITS } from '../src/measurement/ldp';

const args = process.argv.slice(2);
const LABEL = { click: 'click-through', explored: 'explored click', conversion: 'conversion', dismiss: 'dismissal' } as const;
const fmt = (i: Interval, signed = false): string =>
  i.estimate === null || i.low === null || i.high === null
    ? 'not enough reports'
    : `${signed && i.estimate >= 0 ? '+' : ''}${i.estimate.toFixed(4)} [${i.low.toFixed(4)}, ${i.high.toFixed(4)}]`;

/** Reports needed for ±1 and ±2 percentage points (95%), 2 variants, per report epsilon; click-through 5% and 20%. */
export function planTable(): string {
  const rows = ['| ε per report | CTR | ±1 pt on a variant | ±1 pt on the difference | ±2 pt on the difference |', '| --- | --- | --- | --- | --- |'];
  for (const epsilon of [1, 2, 4, 8, Infinity])
    for (const rate of [0.05, 0.2]) {
      const one = reportsNeeded({ epsilon, variants: 2 }, rate, 0.01);
      const two = reportsNeeded({ epsilon, variants: 2 }, rate, 0.02);
      const n = (x: number): string => x.toLocaleString('en-US');
      rows.push(`| ${epsilon === Infinity ? 'no noise' : epsilon} | ${rate * 100}% | ${n(one.rate)} | ${n(one.difference)} | ${n(two.difference)} |`);
    }
  return rows.join('\n');
}

function main(): void {
  if (args.includes('--plan')) {
    console.log(planTable());
    return;
  }
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    console.error('usage: npm run measure -- <reports.jsonl> [--json]   |   npm run measure -- --plan');
    process.exit(2);
  }
  const { reports, skipped } = parseReports(readFileSync(file, 'utf8'));
  const result = estimate(reports);
  if (args.includes('--json')) {
    console.log(JSON.stringify({ ...result, skipped }, null, 2));
    return;
  }
  console.log(
    `${reports.length.toLocaleString('en-US')} reports${skipped.length ? `, ${skipped.length} lines skipped (first: line ${skipped[0].line}, ${skipped[0].reason})` : ''}`,
  );
  for (const p of result.placements) {
    console.log(
      `\nplacement ${p.placement}: ${p.reports.toLocaleString('en-US')} reports, ${p.days.first} to ${p.days.last}, ε ${p.epsilons.join(', ')} per report, ${p.variants} variant${p.variants > 1 ? 's' : ''}`,
    );
    for (const bit of REPORT_BITS) console.log(`  ${LABEL[bit].padEnd(15)} all visits   ${fmt(p.rates[bit])}`);
    for (const v of p.byVariant) {
      console.log(`  variant ${v.variant} (about ${Math.round(v.reports).toLocaleString('en-US')} reports)`);
      for (const bit of REPORT_BITS)
        console.log(`    ${LABEL[bit].padEnd(15)} ${fmt(v.rates[bit])}${v.difference ? `   vs variant 0: ${fmt(v.difference[bit], true)}` : ''}`);
    }
  }
  console.log('\nRates are shares of visits; intervals are 95%. Reports are randomized on each device: see README "Measuring without tracking".');
}

main();
