/**
 * Vite plugin for apps that install the npm package (`on-device-recs/vite`):
 *
 * ```ts
 * // vite.config.ts
 * import { onDeviceRecs } from 'on-device-recs/vite';
 * export default defineConfig({ plugins: [onDeviceRecs()] });
 * ```
 *
 * It serves (dev) and copies (build) the package's `models/` and `ort/`
 * folders to `<base>models/` and `<base>ort/` of your site, where
 * `createRecommender()` looks for them by default, and keeps Vite's dependency
 * pre-bundling away from the package so its worker is bundled from
 * `new Worker(new URL('./engine.worker.js', import.meta.url))`.
 *
 * @module on-device-recs/vite
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'vite';

export interface OnDeviceRecsPluginOptions {
  /** Model folders to ship (default: every folder in the package's `models/`). */
  models?: string[];
  /** Also copy the offline service worker to `<base><serviceWorker>` (e.g. `'recs-sw.js'`); default: not copied. */
  serviceWorker?: string;
}

const LIB = fileURLToPath(new URL('./', import.meta.url));
const TYPES: Record<string, string> = {
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.md': 'text/markdown',
};

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

export function onDeviceRecs(options: OnDeviceRecsPluginOptions = {}): Plugin {
  const modelDirs = options.models ?? (existsSync(join(LIB, 'models')) ? readdirSync(join(LIB, 'models')) : []);
  /** site path (without base) -> file in the package */
  const assets = new Map<string, string>();
  for (const f of filesUnder(join(LIB, 'ort'))) assets.set(relative(LIB, f).split(sep).join('/'), f);
  for (const m of modelDirs) {
    const dir = join(LIB, 'models', m);
    if (!existsSync(dir))
      throw new Error(
        `on-device-recs/vite: no model folder "${m}" in ${join(LIB, 'models')}; available: ${readdirSync(join(LIB, 'models')).join(', ')}`,
      );
    for (const f of filesUnder(dir)) assets.set(relative(LIB, f).split(sep).join('/'), f);
  }
  if (options.serviceWorker) assets.set(options.serviceWorker.replace(/^\//, ''), join(LIB, 'sw.js'));
  let base = '/';
  let ssr = false;
  return {
    name: 'on-device-recs',
    config: () => ({ optimizeDeps: { exclude: ['on-device-recs'] }, worker: { format: 'es' as const } }),
    configResolved(config) {
      base = config.base.endsWith('/') ? config.base : `${config.base}/`;
      ssr = Boolean(config.build.ssr);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = (req.url ?? '').split('?')[0];
        const key = path.startsWith(base) ? decodeURIComponent(path.slice(base.length)) : '';
        const file = assets.get(key);
        if (!file) return next();
        res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
        createReadStream(file).pipe(res);
      });
    },
    generateBundle() {
      // a server build (SSR, prerendering) runs no engine: the browser build ships the files
      if (ssr) return;
      for (const [fileName, file] of assets) this.emitFile({ type: 'asset', fileName, source: readFileSync(file) });
    },
  };
}

export default onDeviceRecs;
