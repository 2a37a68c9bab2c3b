/**
 * e2e helpers for the npm package: pack the tarball exactly as `npm publish`
 * would (from the lib/ folder `npm run build:package` wrote), and install it
 * into a scratch project.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** `npm pack` of this repository into a fresh temporary folder; returns the tarball's path. */
export function packPackage(): string {
  if (!existsSync(join(ROOT, 'lib', 'index.js')) || !existsSync(join(ROOT, 'lib', 'embed.js'))) {
    throw new Error('lib/ is missing: run "npm run build:package" first (npm run test:e2e does).');
  }
  const dest = mkdtempSync(join(tmpdir(), 'odr-pack-'));
  // --ignore-scripts: lib/ is already built by test:e2e; prepack would build it again
  const out = JSON.parse(run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dest], ROOT)) as { filename: string }[];
  return join(dest, out[0].filename);
}

/** Installs the tarball (and the folder's own package.json dependencies) into `dir`. */
export function installPackage(dir: string, tarball: string): void {
  run(NPM, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], dir);
}

/** The README's quick-start section: its shell block and its HTML block, as written. */
export function readmeQuickStart(): { sh: string; html: string } {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Quick start');
  if (start < 0) throw new Error('README.md has no "## Quick start" section');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
  const block = (lang: string): string => {
    const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
    if (!m) throw new Error(`README quick start has no \`\`\`${lang} block`);
    return m[1];
  };
  return { sh: block('sh'), html: block('html') };
}

/**
 * The README's quick start followed literally on a blank site: packs the package, runs the
 * README's shell lines in a fresh folder (the one substitution: the package comes from the
 * packed tarball, not the registry), writes a catalog at /catalog.json (400 demo movies) and a
 * page that holds only the README's HTML snippet (`head` is put in its <head>, e.g. a test probe).
 * Returns the folder and its public/ folder (the site's root).
 */
export function quickStartSite(head = ''): { site: string; publicDir: string } {
  const tarball = packPackage();
  const site = mkdtempSync(join(tmpdir(), 'odr-quickstart-'));
  const publicDir = join(site, 'public');
  writeFileSync(join(site, 'package.json'), JSON.stringify({ name: 'blank-site', private: true, version: '1.0.0' }));
  mkdirSync(publicDir);
  const { sh, html } = readmeQuickStart();
  const lines = sh
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
  if (!lines.includes('npm install on-device-recs')) throw new Error(`the README quick start no longer installs the package: ${lines.join(' / ')}`);
  for (const line of lines) {
    const cmd = line === 'npm install on-device-recs' ? `npm install --no-audit --no-fund --prefer-offline --loglevel=error ${tarball}` : line;
    run('bash', ['-c', cmd], site);
  }
  const demo = JSON.parse(readFileSync(join(ROOT, 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as unknown[];
  writeFileSync(join(publicDir, 'catalog.json'), JSON.stringify(demo.slice(0, 400)));
  writeFileSync(
    join(publicDir, 'index.html'),
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Blank page</title>${head}</head>\n<body>\n${html}</body></html>\n`,
  );
  return { site, publicDir };
}
