/**
 * npm run bench's behaviour-model row (issue 14): the model's own run inside the engine's worker for
 * a 200-event history, timed by the worker's `sequence_model` span (the graph run only; the catalog
 * scan and everything else of recommend() excluded), p50 / p95 over the runs, on WASM and on WebGPU
 * where an adapter exists; beside it the `sequence_attribution` span (the leave-one-out rows for
 * "why this", one batched run, only in calls whose slate has a slot the model drove).
 *
 * The model is trained here (cached under .cache/bench-v1 by the trainer's hash) with the shipped
 * architecture (2 blocks of 64, 2 heads, 200 events, int8 weights) on synthetic walks over the bench's
 * 10,000-item catalog, so its folder is also the size figure for 10k items (gzip of its files).
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { mulberry32 } from '../src/math/random';
import { ATTRIBUTION_ITEMS } from '../src/ranking/sequence-model';
import type { CatalogItem } from '../src/types';
import { loadNodeEncoder } from '../support/node-models';
import { percentile } from '../support/percentile';
import { openLab } from './bench-side-by-side';
import { runTrainer, TRAINER, writeCatalogTrainerInput } from './sequence-model';

export const SEQUENCE_HISTORY = 200;
const TRAINING = [
  ...['--dims', '64', '--blocks', '2', '--heads', '2', '--max-len', String(SEQUENCE_HISTORY)],
  ...['--epochs', '1', '--negatives', '256', '--batch', '32', '--max-minutes', '2', '--name', 'bench-sequence'],
];

type Latency = { p50_ms: number; p95_ms: number };
type Row = Latency & { backend: string; attribution: (Latency & { runs: number }) | null };
export interface SequenceBench {
  history_events: number;
  /** Batch rows of the attribution run (one per left-out history item). */
  attribution_rows: number;
  wasm?: Row;
  webgpu?: Row;
  /** gzip of the folder's files (manifest, graph, int8 item table, projection, ids) for 10,000 items. */
  model_gzip_kb: number;
}

const log = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);

/** Trains (or takes from the cache) the bench model for the 10k-item catalog in `cache`/10000; returns its folder. */
async function benchModel(cache: string): Promise<string> {
  const key = createHash('sha256').update(readFileSync(TRAINER)).update(JSON.stringify(TRAINING)).digest('hex').slice(0, 12);
  const dir = join(cache, `sequence-${key}`);
  const out = join(dir, 'model');
  if (existsSync(join(out, 'manifest.json'))) return out;
  const catalog = JSON.parse(readFileSync(join(cache, '10000', 'catalog.json'), 'utf8')) as CatalogItem[];
  log(`training the bench behaviour model on synthetic walks over ${catalog.length} items (cached in ${dir})`);
  const rand = mulberry32(17);
  const users = Array.from({ length: 200 }, () => {
    let at = Math.floor(rand() * catalog.length);
    const items = Array.from({ length: 60 + Math.floor(rand() * 150) }, () => (at = (at + 1 + Math.floor(rand() * 3)) % catalog.length));
    const types = items.map(() => 1 + Math.floor(rand() * 2));
    return { items: items.slice(0, -1), types: types.slice(0, -1), validation: { item: items[items.length - 1], type: types[types.length - 1] } };
  });
  const encoder = await loadNodeEncoder();
  await writeCatalogTrainerInput(join(dir, 'input'), catalog, encoder, users);
  await encoder.dispose();
  runTrainer(join(dir, 'input'), out, TRAINING);
  return out;
}

/** The row: the model copied into the served site as models/bench-sequence, then timed in the worker per backend. */
export async function benchSequence(
  browser: Browser,
  serverUrl: string,
  site: string,
  cache: string,
  options: { runs: number; webgpu: boolean },
): Promise<SequenceBench> {
  const folder = await benchModel(cache);
  cpSync(folder, join(site, 'models', 'bench-sequence'), { recursive: true });
  const files = readdirSync(folder).filter((f) => !f.endsWith('.md'));
  const gzip = files.reduce((n, f) => n + gzipSync(readFileSync(join(folder, f)), { level: 9 }).length, 0);
  const ids = (JSON.parse(readFileSync(join(cache, '10000', 'catalog.json'), 'utf8')) as CatalogItem[]).map((it) => it.id);
  const history = Array.from({ length: SEQUENCE_HISTORY }, (_, k) => ({ itemId: ids[(k * 37) % ids.length], type: k % 3 ? 'view' : 'like' }));
  const result: SequenceBench = {
    history_events: SEQUENCE_HISTORY,
    attribution_rows: ATTRIBUTION_ITEMS,
    model_gzip_kb: Math.round((gzip / 1024) * 10) / 10,
  };
  for (const backend of options.webgpu ? (['wasm', 'webgpu'] as const) : (['wasm'] as const)) {
    const page = await openLab(browser, serverUrl);
    try {
      // the lab's recommender starts on the demo catalog (the model refuses it: another catalog), then takes the bench's
      await page.evaluate((o) => window.lab.open(o), { sequenceModel: 'bench-sequence', backend, scoring: 'js' as const });
      const loaded = await page.evaluate(
        async ({ history }) => {
          const recs = window.labRecs!;
          await recs.setCatalog('bench-data/10000/catalog.json', { vectors: 'bench-data/10000/vectors/' });
          for (const e of history) await recs.track({ type: e.type as 'view' | 'like', itemId: e.itemId });
          await recs.recommend({ k: 10 }); // warm-up: the model loads for this catalog, shaders compile
          return (await recs.stats()).encoder?.backend ?? 'unknown';
        },
        { history },
      );
      const worker = page.workers().find((w) => w.url().includes('engine.worker'));
      if (!worker) throw new Error('the engine worker is not running');
      type Debug = { __odrDebug: { recordSpans(on: boolean): void; takeSpans(): Record<string, number> } };
      await worker.evaluate(() => (self as unknown as Debug).__odrDebug.recordSpans(true));
      const times: number[] = [];
      const attribution: number[] = [];
      // WebGPU here is usually SwiftShader (a CPU): fewer runs keep the bench short
      for (let r = 0; r < (backend === 'webgpu' ? Math.min(10, options.runs) : options.runs); r++) {
        // one new event per call (the window of 200 slides): the model remembers its last inputs, so an unchanged history runs nothing
        const next = { type: 'view' as const, itemId: ids[((SEQUENCE_HISTORY + r) * 37) % ids.length] };
        await page.evaluate((e) => window.labRecs!.track(e), next);
        await page.evaluate(() => window.labRecs!.recommend({ k: 10 }));
        const spans = await worker.evaluate(() => (self as unknown as Debug).__odrDebug.takeSpans());
        if (spans.sequence_model === undefined) throw new Error('the behaviour model did not run in the worker (no sequence_model span)');
        times.push(spans.sequence_model);
        if (spans.sequence_attribution !== undefined) attribution.push(spans.sequence_attribution);
      }
      await worker.evaluate(() => (self as unknown as Debug).__odrDebug.recordSpans(false));
      const events = await page.evaluate(() =>
        (window.labEvents ?? []).filter((e) => e.type === 'error').map((e) => (e as { message?: string }).message),
      );
      result[backend] = {
        p50_ms: percentile(times, 0.5),
        p95_ms: percentile(times, 0.95),
        backend: loaded,
        attribution: attribution.length
          ? { p50_ms: percentile(attribution, 0.5), p95_ms: percentile(attribution, 0.95), runs: attribution.length }
          : null,
      };
      log(
        `  behaviour model (${SEQUENCE_HISTORY} events) on ${backend} (encoder ran on ${loaded}): p50 ${result[backend].p50_ms} / p95 ${result[backend].p95_ms} ms; attribution ${JSON.stringify(result[backend].attribution)}; errors seen: ${events.length}`,
      );
    } finally {
      await page.close();
    }
  }
  return result;
}
