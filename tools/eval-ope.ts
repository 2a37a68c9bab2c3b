/**
 * node --import tsx tools/eval-ope.ts <dir> --campaign <name> [--json]
 *   [--learn-from random|random+bts] [--exploration 0.1] [--ridge 1] [--thompson-draws 200] [--resamples 1000] [--seed 42]
 *
 * Off-policy evaluation on Open Bandit logs (../shared/EVALUATION.md section 2).
 */
import { runOpe, type OpeOptions } from './eval/ope';

const args = process.argv.slice(2);
const usage = 'usage: node --import tsx tools/eval-ope.ts <open-bandit-dir> --campaign <name> [--json] [--learn-from random|random+bts] [--exploration 0.1] [--ridge 1] [--thompson-draws 200] [--resamples 1000] [--seed 42]';
let dir: string | undefined;
let campaign = 'men';
let json = false;
const options: OpeOptions = {};
const numeric: Record<string, keyof OpeOptions> = {
  '--exploration': 'exploration',
  '--ridge': 'ridge',
  '--thompson-draws': 'thompsonDraws',
  '--resamples': 'resamples',
  '--seed': 'seed',
};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
  const value = (): string => {
    const v = inline ?? args[++i];
    if (v === undefined) throw new Error(`${flag} needs a value\n${usage}`);
    return v;
  };
  if (flag === '--json') json = true;
  else if (flag === '--campaign') campaign = value();
  else if (flag === '--learn-from') {
    const v = value();
    if (v !== 'random' && v !== 'random+bts') throw new Error(`--learn-from is random or random+bts, got ${v}\n${usage}`);
    options.learnFrom = v;
  }
  else if (flag in numeric) {
    const v = Number(value());
    if (!Number.isFinite(v)) throw new Error(`${flag} needs a number\n${usage}`);
    (options as Record<string, unknown>)[numeric[flag]] = v;
  } else if (flag === '--help' || flag === '-h') {
    console.log(usage);
    process.exit(0);
  } else if (!flag.startsWith('--') && dir === undefined) dir = flag;
  else throw new Error(`unknown argument ${a}\n${usage}`);
}
if (!dir) {
  console.error(usage);
  process.exit(2);
}
await runOpe(dir, campaign, json, options);
