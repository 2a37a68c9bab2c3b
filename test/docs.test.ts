/**
 * The API reference in docs/api is generated from the types; this fails when a
 * public type changed and `npm run docs` was not run again.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
}

test('docs/api is the TypeDoc output of the current types (npm run docs)', { timeout: 120_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'odr-docs-'));
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--out', out, '--logLevel', 'Error'], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  const fresh = files(out)
    .map((f) => relative(out, f))
    .sort();
  const committed = files(join(ROOT, 'docs', 'api'))
    .map((f) => relative(join(ROOT, 'docs', 'api'), f))
    .sort();
  assert.deepEqual(committed, fresh, 'the same pages');
  for (const f of fresh)
    assert.equal(readFileSync(join(ROOT, 'docs', 'api', f), 'utf8'), readFileSync(join(out, f), 'utf8'), `docs/api/${f} is stale: run npm run docs`);
});
