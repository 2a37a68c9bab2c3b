/**
 * Rebuilds the default encoder from GloVe into a temp folder (the one slow
 * build of the suite, ~1 minute and ~3 GB of memory): the output must be
 * byte-identical to the committed public/models/glove-sif-100d (the build is
 * deterministic and the shipped model is what the current code builds), and
 * its measured quality figures must clear their bars.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import type { ModelManifest } from '../src/formats/manifest';

const ROOT = resolve(import.meta.dirname, '..');
const SHIPPED = join(ROOT, 'public', 'models', 'glove-sif-100d');
const BUILD_TIMEOUT_MS = 15 * 60_000;

interface Quality {
  quantizedVsFloatMeanCosine: number;
  quantizedVsFloatMinCosine: number;
  genreJaccardAt10: number;
  genreJaccardRandom10: number;
}

test('the model build is deterministic and the committed encoder is exactly what it builds', { timeout: BUILD_TIMEOUT_MS + 60_000 }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'recs-build-'));
  try {
    const started = Date.now();
    try {
      await promisify(execFile)(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', 'tools/build-models.ts', '--out', out], {
        cwd: ROOT,
        timeout: BUILD_TIMEOUT_MS,
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (e) {
      const err = e as Error & { stderr?: string; code?: unknown; signal?: unknown };
      assert.fail(`tools/build-models.ts failed (code ${String(err.code)}, signal ${String(err.signal)}):\n${err.stderr ?? err.message}`);
    }
    t.diagnostic(`build took ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const shippedFiles = readdirSync(SHIPPED).sort();
    assert.deepEqual(readdirSync(out).sort(), shippedFiles, 'same file names');
    for (const f of ['model.onnx', 'vocab.txt', 'manifest.json', 'MODEL_CARD.md']) assert.ok(shippedFiles.includes(f), `${f} is shipped`);
    for (const f of shippedFiles) {
      const built = readFileSync(join(out, f));
      const committed = readFileSync(join(SHIPPED, f));
      assert.ok(
        built.equals(committed),
        `${f} differs from the committed file (${built.length} vs ${committed.length} bytes): rerun npm run build:models and commit the result`,
      );
    }

    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as ModelManifest & { quality: Quality };
    const q = manifest.quality;
    t.diagnostic(`quality: ${JSON.stringify(q)}`);
    assert.ok(q.quantizedVsFloatMeanCosine >= 0.99, `int8 vs float mean cosine ${q.quantizedVsFloatMeanCosine}`);
    assert.ok(q.quantizedVsFloatMinCosine > 0.9, `int8 vs float min cosine ${q.quantizedVsFloatMinCosine}`);
    assert.ok(
      q.genreJaccardAt10 > q.genreJaccardRandom10,
      `neighbours share genres (${q.genreJaccardAt10}) more than random movies (${q.genreJaccardRandom10})`,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
