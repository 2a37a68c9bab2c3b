/**
 * Builds the npm package's `lib/` folder (run by `npm run build:package`, and by
 * `npm pack` / `npm publish` through `prepack`):
 *
 *   lib/index.js, element.js, autotrack.js, offline.js   ESM library (+ .d.ts), tree-shakable
 *   lib/engine.worker.js (+ lib/chunks/)                  the engine's worker, prebuilt
 *   lib/embed.js                                          the script-tag bundle (IIFE)
 *   lib/sw.js                                             the offline service worker
 *   lib/vite.js                                           Vite plugin for integrators
 *   lib/ort/                                              onnxruntime-web's wasm (WASM + WebGPU build)
 *   lib/models/glove-sif-100d/, lib/models/ranking-heads/ the default encoder and ranking heads
 *
 * Prints each bundle's size and gzip size.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type InlineConfig, type Plugin } from 'vite';

import { ALL_ORT_FILES } from '../src/runtime/ort-files';
const ROOT = resolve(import.meta.dirname, '..');
const LIB = join(ROOT, 'lib');
const SRC = join(ROOT, 'src');
const ORT_DIST = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
/** Models that are generic enough to ship in the package (the MovieLens global model is the demo's own). */
const MODELS = ['glove-sif-100d', 'ranking-heads'];

/** onnxruntime's and transformers' own fallback copies of their wasm: the engine always passes wasmPaths, so they are never loaded. */
function dropBundledWasm(): Plugin {
  return {
    name: 'on-device-recs:drop-bundled-wasm',
    generateBundle(_options, bundle) {
      for (const name of Object.keys(bundle)) if (name.endsWith('.wasm')) delete bundle[name];
    },
  };
}

/** Writes the worker pattern integrators' bundlers recognise (see src/worker-url.lib.ts). */
function workerPattern(): Plugin {
  return {
    name: 'on-device-recs:worker-pattern',
    renderChunk(code) {
      if (!code.includes('__ODR_WORKER__')) return null;
      return { code: code.replaceAll('__ODR_WORKER__', "new URL('./engine.worker.js', import.meta.url)"), map: null };
    },
  };
}

/** One Vite build into lib/ (never emptied between the builds), ES2022, no source maps unless asked. */
const common = (extra: InlineConfig): InlineConfig => ({
  configFile: false,
  root: ROOT,
  logLevel: 'warn',
  publicDir: false,
  base: './',
  ...extra,
  build: { outDir: LIB, emptyOutDir: false, target: 'es2022', sourcemap: false, ...extra.build },
});

async function main(): Promise<void> {
  rmSync(LIB, { recursive: true, force: true });
  mkdirSync(LIB, { recursive: true });
  const libAlias = [{ find: /^\.\/worker-url$/, replacement: join(SRC, 'worker-url.lib.ts') }];

  // 1. the ESM library: facade, element, auto-tracking, offline (comlink stays a dependency)
  await build(
    common({
      resolve: { alias: libAlias },
      plugins: [workerPattern()],
      build: {
        minify: false,
        sourcemap: true,
        lib: {
          entry: {
            index: join(SRC, 'index.ts'),
            element: join(SRC, 'element.ts'),
            autotrack: join(SRC, 'autotrack.ts'),
            offline: join(SRC, 'offline.ts'),
          },
          formats: ['es'],
        },
        rollupOptions: { external: ['comlink'], output: { chunkFileNames: 'chunks/[name]-[hash].js' } },
      },
    }),
  );

  // 2. the engine's worker, prebuilt (everything bundled; dynamic imports as chunks)
  await build(
    common({
      plugins: [dropBundledWasm()],
      build: {
        minify: true,
        modulePreload: false,
        // not lib mode: lib mode would inline onnxruntime's fallback wasm (28 MB) as base64
        rollupOptions: {
          input: { 'engine.worker': join(SRC, 'workers', 'engine.worker.ts') },
          preserveEntrySignatures: 'strict',
          output: {
            format: 'es',
            entryFileNames: '[name].js',
            chunkFileNames: 'chunks/[name]-[hash].js',
            assetFileNames: 'chunks/[name]-[hash][extname]',
          },
        },
      },
    }),
  );

  // 3. the script-tag bundle and 4. the service worker: single classic scripts
  for (const [name, entry] of [
    ['embed', join(SRC, 'embed.ts')],
    ['sw', join(SRC, 'sw.ts')],
  ] as const) {
    await build(
      common({
        resolve: { alias: libAlias },
        // embed.js always passes a workerUrl (from its own location); the default pattern is ESM-only
        define: { __ODR_WORKER__: '(() => { throw new Error("on-device-recs: no workerUrl") })()' },
        build: {
          minify: true,
          lib: { entry, formats: ['iife'], name: name === 'embed' ? 'OnDeviceRecsEmbed' : 'OnDeviceRecsSW', fileName: () => `${name}.js` },
        },
      }),
    );
  }

  // 5. the Vite plugin (Node)
  await build(
    common({
      build: {
        target: 'node20',
        ssr: true,
        minify: false,
        lib: { entry: { vite: join(SRC, 'vite-plugin.ts') }, formats: ['es'] },
        rollupOptions: { external: [/^node:/, 'vite'] },
      },
    }),
  );

  // 6. runtime assets
  mkdirSync(join(LIB, 'ort'), { recursive: true });
  for (const f of ALL_ORT_FILES) cpSync(join(ORT_DIST, f), join(LIB, 'ort', f));
  for (const m of MODELS) cpSync(join(ROOT, 'public', 'models', m), join(LIB, 'models', m), { recursive: true });

  // 7. type declarations
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.lib.json')], {
    stdio: 'inherit',
  });
  if (!existsSync(join(LIB, 'index.d.ts'))) throw new Error('tsc wrote no lib/index.d.ts');

  const rows = ['index.js', 'element.js', 'autotrack.js', 'offline.js', 'embed.js', 'engine.worker.js', 'sw.js'].map((f) => {
    const buf = readFileSync(join(LIB, f));
    return `${f.padEnd(18)} ${(buf.length / 1024).toFixed(1).padStart(8)} KB   gzip ${(gzipSync(buf, { level: 9 }).length / 1024).toFixed(1).padStart(7)} KB`;
  });
  const chunks = readdirSync(join(LIB, 'chunks')).filter((f) => f.endsWith('.js'));
  const total = (dir: string): number =>
    readdirSync(dir).reduce((n, f) => n + (statSync(join(dir, f)).isDirectory() ? total(join(dir, f)) : statSync(join(dir, f)).size), 0);
  console.log(
    [
      'lib/ built:',
      ...rows,
      `chunks/ (${chunks.length} files: worker's lazy parts)`,
      `lib/ total ${(total(LIB) / 1048576).toFixed(1)} MB (ort wasm and models included)`,
    ].join('\n'),
  );
  writeFileSync(join(LIB, 'BUILD.txt'), `${rows.join('\n')}\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
