/**
 * Rebuilds the encoder from GloVe into a temp folder: the output must be
 * byte-identical to the committed model (deterministic build, shipped model is fresh).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { ModelManifest } from '../src/model/manifest';

const ROOT = resolve(import.meta.dirname, '..');
const SHIPPED = join(ROOT, 'public', 'models', 'glove-sif-100d');

test('npm run build:models is deterministic and the committed encoder is what it builds', { timeout: 600_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'recs-build-'));
  try {
    execFileSync(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', 'tools/build-models.ts', '--out', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const files = readdirSync(SHIPPED).sort();
    assert.deepEqual(readdirSync(out).sort(), files);
    for (const f of files) assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(SHIPPED, f))), `${f} differs from the committed file`);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as ModelManifest & { quality: Record<string, number> };
    assert.ok(manifest.quality.quantizedVsFloatMeanCosine >= 0.99, `int8 vs float cosine ${manifest.quality.quantizedVsFloatMeanCosine}`);
    assert.ok(manifest.quality.genreJaccardAt10 > 2 * manifest.quality.genreJaccardRandom10, 'neighbours share genres far more than random movies');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
