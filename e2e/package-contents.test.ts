/**
 * The packed tarball as an integrator gets it: the right files (and nothing
 * of the repository's sources, tests or demo data), types that typecheck in a
 * strict consumer project without skipLibCheck, and entry points that tree-shake.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { build } from 'vite';
import { ROOT, installPackage, packPackage, run } from './package';
import { BROWSER_GLOBALS, probeSsrImport } from '../support/ssr-probe';

let tarball: string;
let consumer: string;

before(() => {
  tarball = packPackage();
  consumer = mkdtempSync(join(tmpdir(), 'odr-consumer-'));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  installPackage(consumer, tarball);
});

test('the tarball holds the browser files, types and default models, and no sources, tests or demo data', () => {
  const listing = run('tar', ['-tzf', tarball], ROOT)
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''));
  for (const f of [
    'package.json',
    'README.md',
    'LICENSE',
    'SECURITY.md',
    'lib/index.js',
    'lib/index.d.ts',
    'lib/element.js',
    'lib/element.d.ts',
    'lib/autotrack.js',
    'lib/offline.js',
    'lib/vite.js',
    'lib/vite-plugin.d.ts',
    'lib/embed.js',
    'lib/engine.worker.js',
    'lib/sw.js',
    'lib/ort/ort-wasm-simd-threaded.wasm',
    'lib/ort/ort-wasm-simd-threaded.mjs',
    'lib/ort/ort-wasm-simd-threaded.asyncify.wasm',
    'lib/ort/ort-wasm-simd-threaded.asyncify.mjs',
    'lib/models/glove-sif-100d/manifest.json',
    'lib/models/glove-sif-100d/model.onnx',
    'lib/models/glove-sif-100d/vocab.txt',
    'lib/models/ranking-heads/model.onnx',
  ])
    assert.ok(listing.includes(f), `${f} is in the tarball`);
  const stray = listing.filter(
    (f) => /^(src|test|e2e|tools|public|dist|examples|docs)\//.test(f) || (/\.wasm$/.test(f) && !f.startsWith('lib/ort/')),
  );
  assert.deepEqual(stray, [], 'no repository sources, tests, demo data or duplicate wasm');
  const pkg = JSON.parse(readFileSync(join(consumer, 'node_modules', 'on-device-recs', 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  assert.deepEqual(Object.keys(pkg.dependencies), ['comlink'], 'the engine is prebuilt: one small runtime dependency');
});

test('types: a strict consumer project typechecks against every entry point, without skipLibCheck', () => {
  writeFileSync(
    join(consumer, 'main.ts'),
    `import { createRecommender, RecommenderError, type Recommendation } from 'on-device-recs';
import { defineRecsElement, RecsElement } from 'on-device-recs/element';
import { autoTrack } from 'on-device-recs/autotrack';
import { registerOffline } from 'on-device-recs/offline';
import { onDeviceRecs } from 'on-device-recs/vite';
const recs = createRecommender({ baseUrl: '/recs/', taskWeights: { conversion: 0.5 }, exploration: { rate: 0.1 } });
defineRecsElement({ recommender: recs, ready: recs.setCatalog('/catalog.json') });
const stop: () => void = autoTrack(recs, { views: false });
const shown: Promise<Recommendation[]> = recs.recommend({ k: 4 });
void shown.catch((e: unknown) => e instanceof RecommenderError && console.log(e.code, e.fix));
void registerOffline('/recs-sw.js', { recommender: recs });
const el: RecsElement | null = document.querySelector<RecsElement>('on-device-recs');
console.log(el?.recommendations.length, stop, onDeviceRecs().name);
`,
  );
  writeFileSync(
    join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'ESNext',
        moduleResolution: 'bundler',
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        types: [],
        skipLibCheck: false,
      },
      files: ['main.ts'],
    }),
  );
  // vite's own types are needed for the plugin entry (an optional peer dependency)
  run(
    'bash',
    [
      '-c',
      `mkdir -p node_modules && ln -sfn ${join(ROOT, 'node_modules', 'vite')} node_modules/vite && ln -sfn ${join(ROOT, 'node_modules', 'rollup')} node_modules/rollup 2>/dev/null; true`,
    ],
    consumer,
  );
  try {
    run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], consumer);
  } catch (e) {
    assert.fail(`tsc failed in the consumer project:\n${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? ''}`);
  }
});

test('server-side rendering: each entry point of the installed package imports in plain Node without touching a browser global', () => {
  const expected = {
    'on-device-recs': 'createRecommender',
    'on-device-recs/element': 'defineRecsElement',
    'on-device-recs/autotrack': 'autoTrack',
  };
  for (const [entry, call] of Object.entries(expected)) {
    const p = probeSsrImport(entry, { cwd: consumer });
    assert.equal(p.importError, undefined, `${entry}: the import does not throw`);
    assert.deepEqual(p.definedBefore, [], `${entry}: no DOM globals before the import`);
    assert.deepEqual(p.touched, [], `${entry}: the import touched none of ${BROWSER_GLOBALS.join(', ')}`);
    assert.deepEqual(p.definedAfter, [], `${entry}: no DOM globals after the import`);
    assert.equal(p.call.name, call);
    if (call === 'createRecommender') {
      assert.equal(p.call.errorName, 'RecommenderError', `${entry}: ${p.call.errorName}: ${p.call.message}`);
      assert.equal(p.call.code, 'backend_unavailable');
    } else assert.equal(p.call.threw, false, `${call}() does nothing in Node: ${p.call.message}`);
  }
});

test('tree-shaking: importing createRecommender alone leaves out the element, auto-tracking and offline code', async () => {
  writeFileSync(join(consumer, 'only-facade.js'), `import { createRecommender } from 'on-device-recs';\nwindow.r = createRecommender();\n`);
  const out = await build({
    configFile: false,
    root: consumer,
    logLevel: 'silent',
    build: {
      write: false,
      minify: false,
      lib: { entry: join(consumer, 'only-facade.js'), formats: ['es'], fileName: 'out' },
      rollupOptions: { external: [/engine\.worker/] },
    },
  });
  const outputs = (Array.isArray(out) ? out : [out]) as { output: { type: string; code?: string; fileName: string }[] }[];
  const code = outputs
    .flatMap((o) => o.output)
    .filter((c) => c.type === 'chunk')
    .map((c) => c.code ?? '')
    .join('\n');
  assert.ok(code.includes('createRecommender') || code.includes('engine_restarted'), 'the facade is there');
  for (const marker of ['recs-select', 'IntersectionObserver', 'serviceWorker.register', 'adoptedStyleSheets'])
    assert.ok(!code.includes(marker), `"${marker}" was shaken out`);
});
