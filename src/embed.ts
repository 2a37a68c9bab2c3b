/**
 * The script-tag bundle (`embed.js`). One tag starts the engine, loads the
 * catalog and registers `<on-device-recs>`:
 *
 * ```html
 * <script src="/recs/embed.js" data-catalog="/catalog.json"></script>
 * <on-device-recs k="8"></on-device-recs>
 * ```
 *
 * The worker, onnxruntime's wasm and the models are loaded from the folder
 * embed.js came from (the package's `lib/` folder, copied to your site) unless
 * `data-base` / `data-models` / `data-wasm` say otherwise. Attributes:
 *
 * | attribute | meaning |
 * | --- | --- |
 * | `data-catalog` | URL of the catalog JSON (required) |
 * | `data-vectors` | folder of ahead-of-time catalog vectors (`npm run embed:catalog`) |
 * | `data-base` | folder holding `engine.worker.js`, `ort/`, `models/` (default: embed.js's folder) |
 * | `data-models`, `data-wasm` | override the models / onnxruntime folder |
 * | `data-encoder`, `data-global-model`, `data-ranking-heads` | model folders inside the models folder |
 * | `data-exploration` | exploration rate 0-1, or `off` |
 * | `data-autotrack` | `on` (default: clicks and views), `clicks`, `views` or `off` |
 * | `data-offline` | URL of the service worker to register for offline use (e.g. `/recs-sw.js`) |
 * | `data-store-name` | IndexedDB database name |
 * | `data-measurement-endpoint` | opt-in measurement: URL the private reports are POSTed to (off without it) |
 * | `data-measurement-placement`, `data-measurement-epsilon`, `data-measurement-daily-epsilon` | the placement's name, epsilon per report, per visitor per day |
 * | `data-measurement-variants` | A/B variants as JSON, e.g. `[{"name":"a"},{"name":"b","exploration":{"rate":0.4}}]` |
 * | `data-measurement-dry-run` | present: build the reports, send none |
 *
 * Afterwards `window.onDeviceRecs` holds `{ recommender, ready, refresh }` and
 * `document` receives an `on-device-recs:ready` event (or `on-device-recs:error`).
 */
import { createRecommender } from './index';
import { defineRecsElement, refreshRecsElements } from './element';
import { autoTrack } from './autotrack';
import { registerOffline } from './offline';
import type { CatalogReport, Recommender, RecommenderOptions } from './types';

export interface EmbedHandle {
  recommender: Recommender;
  /** Resolves with the catalog report once the catalog is loaded (rejects with a RecommenderError). */
  ready: Promise<CatalogReport>;
  /** Makes every `<on-device-recs>` on the page fetch again. */
  refresh: () => void;
  /** With `data-offline`: resolves once the service worker holds everything this page needs offline. */
  offline?: Promise<ServiceWorkerRegistration | undefined>;
}

declare global {
  interface Window {
    onDeviceRecs?: EmbedHandle;
  }
}

function scriptElement(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  // loaded async/deferred in some setups: find ourselves by name
  const all = [...document.querySelectorAll<HTMLScriptElement>('script[src][data-catalog]')];
  return all.find((s) => /embed(\.min)?\.js(\?|#|$)/.test(s.src)) ?? all[0] ?? null;
}

function start(): EmbedHandle | undefined {
  if (window.onDeviceRecs) return window.onDeviceRecs;
  const script = scriptElement();
  const data = script?.dataset ?? {};
  const here = script?.src ? new URL('./', script.src).href : document.baseURI;
  const fail = (message: string): void => {
    console.error(`[on-device-recs] ${message}`);
    document.dispatchEvent(new CustomEvent('on-device-recs:error', { detail: { message } }));
  };
  if (!data.catalog) {
    fail('embed.js needs a catalog: add data-catalog="/your-catalog.json" to its <script> tag.');
    return undefined;
  }
  const options: RecommenderOptions = { baseUrl: data.base ?? here };
  if (data.models) options.modelsUrl = data.models;
  if (data.wasm) options.wasmUrl = data.wasm;
  if (data.encoder) options.encoder = data.encoder;
  if (data.globalModel) options.globalModel = data.globalModel;
  if (data.rankingHeads) options.rankingHeads = data.rankingHeads;
  if (data.storeName) options.storeName = data.storeName;
  if (data.exploration) {
    const rate = Number(data.exploration);
    options.exploration = data.exploration === 'off' ? { policy: 'off' } : Number.isFinite(rate) ? { rate } : undefined;
    if (!options.exploration) fail(`data-exploration="${data.exploration}" is neither a rate between 0 and 1 nor "off"; the default is used.`);
  }
  if (data.measurementEndpoint) {
    const m: NonNullable<RecommenderOptions['measurement']> = { endpoint: data.measurementEndpoint };
    if (data.measurementPlacement) m.placement = data.measurementPlacement;
    // numbers are checked by createRecommender(): a wrong one is refused there (NaN included)
    if (data.measurementEpsilon) m.epsilon = Number(data.measurementEpsilon);
    if (data.measurementDailyEpsilon) m.dailyEpsilon = Number(data.measurementDailyEpsilon);
    if (data.measurementDryRun !== undefined) m.dryRun = data.measurementDryRun !== 'false';
    let variantsOk = true;
    if (data.measurementVariants) {
      try {
        m.variants = JSON.parse(data.measurementVariants) as typeof m.variants;
      } catch {
        variantsOk = false;
        fail('data-measurement-variants is not JSON (e.g. [{"name":"a"},{"name":"b","diversity":0.4}]); measurement stays off.');
      }
    }
    if (variantsOk) options.measurement = m;
  }
  let recommender: Recommender;
  try {
    // a wrong data-* value is refused here, synchronously (invalid_options), as is a browser without Web Workers
    recommender = createRecommender(options);
  } catch (e) {
    fail(`the recommender could not start: ${(e as Error).message}`);
    return undefined;
  }
  const ready = recommender.setCatalog(data.catalog, data.vectors ? { vectors: data.vectors } : undefined);
  ready.then(
    (report) => {
      // loaded, with nothing in it: the integrator's to fix (visitors see the element's neutral line)
      if (report.error) console.warn(`[on-device-recs] ${report.error.code}: ${report.error.message} ${report.error.fix}`);
      document.dispatchEvent(new CustomEvent('on-device-recs:ready', { detail: report }));
    },
    (e: unknown) => fail(`the catalog could not be loaded: ${(e as Error).message}`),
  );
  defineRecsElement({ recommender, ready });
  const mode = (data.autotrack ?? 'on').toLowerCase();
  if (mode !== 'off') {
    const begin = (): void => void autoTrack(recommender, { clicks: mode !== 'views', views: mode !== 'clicks' });
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', begin, { once: true });
    else begin();
  }
  const handle: EmbedHandle = { recommender, ready, refresh: () => refreshRecsElements(0) };
  if (data.offline) {
    const swUrl = data.offline;
    // once the catalog is loaded the engine has fetched everything it needs: keep those files too
    handle.offline = ready.then(
      () => registerOffline(swUrl, { recommender }),
      () => undefined,
    );
    handle.offline.catch((e: unknown) => fail(`offline support is off: ${(e as Error).message}`));
  }
  window.onDeviceRecs = handle;
  return handle;
}

start();
