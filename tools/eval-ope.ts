/**
 * node --import tsx tools/eval-ope.ts <dir> [--campaign <name>] [--json]
 *   [--learn-from random|random+bts] [--min-evidence-clicks 20] [--floor 0.1] [--exploration 0.1] [--ridge 1] [--thompson-draws 200] [--resamples 1000] [--seed 42]
 *
 * Off-policy evaluation on Open Bandit logs (docs/evaluation.md section 2);
 * the work is done by runOpe in ./eval/ope.ts.
 */
import { OPE_USAGE as usage, parseOpeArgs, runOpe } from './eval/ope';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(usage);
} else {
  try {
    const { dir, campaign, json, options } = parseOpeArgs(argv);
    await runOpe(dir, campaign, json, options);
  } catch (e) {
    console.error(`eval-ope: ${(e as Error).message}\n${usage}`);
    process.exitCode = 1;
  }
}
