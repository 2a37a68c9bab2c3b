/**
 * node --import tsx tools/eval-ope.ts <dir> --campaign <name> [--json]
 *   [--learn-from random|random+bts] [--exploration 0.1] [--ridge 1] [--thompson-draws 100] [--resamples 1000] [--seed 42]
 *
 * Off-policy evaluation on Open Bandit logs (docs/evaluation.md section 2);
 * the work is done by runOpe in ./eval/ope.ts.
 */
import { runOpe, type OpeOptions } from './eval/ope';

const usage =
  'usage: node --import tsx tools/eval-ope.ts <open-bandit-dir> --campaign <name> [--json] [--learn-from random|random+bts] [--exploration 0.1] [--ridge 1] [--thompson-draws 100] [--resamples 1000] [--seed 42]';

interface Command {
  dir: string;
  campaign: string;
  json: boolean;
  options: OpeOptions;
}

function parseArgs(args: readonly string[]): Command {
  let dir: string | undefined;
  let campaign = 'men';
  let json = false;
  const options: OpeOptions = {};
  const numeric: Record<string, 'exploration' | 'ridge' | 'thompsonDraws' | 'resamples' | 'seed'> = {
    '--exploration': 'exploration',
    '--ridge': 'ridge',
    '--thompson-draws': 'thompsonDraws',
    '--resamples': 'resamples',
    '--seed': 'seed',
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--json') json = true;
    else if (flag === '--campaign') campaign = value();
    else if (flag === '--learn-from') {
      const v = value();
      if (v !== 'random' && v !== 'random+bts') throw new Error(`--learn-from is random or random+bts, got ${v}`);
      options.learnFrom = v;
    } else if (flag in numeric) {
      const v = Number(value());
      if (!Number.isFinite(v)) throw new Error(`${flag} needs a number`);
      options[numeric[flag]] = v;
    } else if (!flag.startsWith('-') && dir === undefined) dir = flag;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!dir) throw new Error('the Open Bandit directory is missing');
  return { dir, campaign, json, options };
}

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(usage);
} else {
  try {
    const { dir, campaign, json, options } = parseArgs(argv);
    await runOpe(dir, campaign, json, options);
  } catch (e) {
    console.error(`eval-ope: ${(e as Error).message}\n${usage}`);
    process.exitCode = 1;
  }
}
