import { createReadStream, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';
import { STRICT_CSP } from './support/csp';
import { ALL_ORT_FILES } from './src/runtime/ort-files';

const ORT_DIST = resolve(import.meta.dirname, 'node_modules', 'onnxruntime-web', 'dist');

/** Serves onnxruntime-web's wasm from the site's own origin under /ort/ (dev) and copies it into the build. */
function onnxRuntimeAssets(): Plugin {
  return {
    name: 'on-device-recs:ort-assets',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const name = req.url?.split('?')[0].replace(/^.*\/ort\//, '');
        if (!req.url?.includes('/ort/') || !name || !ALL_ORT_FILES.includes(name)) return next();
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        createReadStream(join(ORT_DIST, name)).pipe(res);
      });
    },
    generateBundle() {
      for (const name of ALL_ORT_FILES) this.emitFile({ type: 'asset', fileName: `ort/${name}`, source: readFileSync(join(ORT_DIST, name)) });
    },
  };
}

/** Cross-origin isolation lets onnxruntime use threads; everything is same-origin so it costs nothing. */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  base: './',
  plugins: [onnxRuntimeAssets()],
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: { headers: isolation },
  // the production preview (npm run demo) is served under the same strict CSP the e2e tests use
  preview: { headers: { ...isolation, 'Content-Security-Policy': STRICT_CSP } },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: { main: resolve(import.meta.dirname, 'index.html'), lab: resolve(import.meta.dirname, 'lab.html') },
    },
  },
});
