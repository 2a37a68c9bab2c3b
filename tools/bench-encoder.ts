/**
 * npm run bench:encoder [-- --json]
 *
 * Encoder throughput (items/s) in headless Debian Chromium, WebGPU (SwiftShader
 * on machines without a GPU) and WASM side by side, for 1,000 and 10,000
 * catalog texts (MovieLens movie texts, repeated with a suffix to reach 10,000).
 */
import { itemText } from '../src/catalog/validate';
import { loadMovieLens, movieLensCatalog, MOVIELENS_DIR } from './data/movielens';
import { launch, serveStatic } from '../e2e/harness';

const json = process.argv.includes('--json');
const texts = movieLensCatalog(loadMovieLens(MOVIELENS_DIR)).map(itemText);
const sizes = [1_000, 10_000];
const corpus = (n: number): string[] => Array.from({ length: n }, (_, i) => (i < texts.length ? texts[i] : `${texts[i % texts.length]} ${i}`));

const server = await serveStatic();
const browser = await launch({ webgpu: true });
const results: Record<string, Record<string, { items_per_s: number; seconds: number }>> = { webgpu: {}, wasm: {} };
try {
  const page = await browser.newPage();
  await page.goto(new URL('lab.html', server.url).href);
  await page.waitForFunction(() => document.body.dataset.labReady === 'true');
  const adapter = await page.evaluate(() => window.lab.gpuAdapter());
  process.stderr.write(`GPU adapter: ${adapter ? `${adapter.vendor} ${adapter.architecture}` : 'none'}\n`);
  for (const backend of ['webgpu', 'wasm'] as const) {
    for (const n of sizes) {
      const r = await page.evaluate(({ t, b }) => window.lab.benchEncoder(t, b), { t: corpus(n), b: backend });
      if (r.backend !== backend) throw new Error(`asked for ${backend}, ${r.backend} ran`);
      results[backend][String(n)] = { items_per_s: Math.round(r.itemsPerSecond), seconds: Math.round(r.seconds * 1000) / 1000 };
      process.stderr.write(`${backend} ${n}: ${Math.round(r.itemsPerSecond)} items/s\n`);
    }
  }
  console.log('\nEncoder throughput, headless Chromium (items/s)');
  console.log(`| path   | ${sizes.map((n) => `${n} texts`).join(' | ')} |`);
  console.log(`| ---    | ${sizes.map(() => '---').join(' | ')} |`);
  for (const b of ['webgpu', 'wasm']) console.log(`| ${b.padEnd(6)} | ${sizes.map((n) => String(results[b][String(n)].items_per_s)).join(' | ')} |`);
  console.log(`GPU adapter: ${adapter ? `${adapter.vendor}/${adapter.architecture}` : 'none'}`);
  if (json) console.log(JSON.stringify({ bench: 'encoder', adapter, encoder: results }));
} finally {
  await browser.close();
  await server.close();
}
