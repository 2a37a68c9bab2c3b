/**
 * The engine's worker dies (killed, crashed, out of memory): createRecommender's
 * facade notices (a Web Lock the worker held is released), starts a new worker,
 * which reloads the history from IndexedDB and the catalog vectors from the
 * IndexedDB cache; running calls are retried, a running track() gets a clear
 * 'engine_restarted' error; a crash loop stops after a few restarts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import type { CatalogItem, Recommender } from '../src/types';
import { DIST, openDemo, readStoredEvents, useBrowser } from './harness';

declare global {
  interface Window {
    __recs: Recommender;
    __engineWorkers: Worker[];
  }
}

const catalog = JSON.parse(readFileSync(join(DIST, 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[];
const title = (id: string): string => catalog.find((c) => c.id === id)?.title ?? id;
const HORROR = ['1258', '1997', '1982'];

const env = useBrowser({ webgpu: false });

interface CrashOutcome {
  recommend: { ok: true; items: { id: string; reason: string }[] } | { ok: false; code: string; message: string };
  track: { ok: true } | { ok: false; code: string; message: string };
  errors: string[];
  progress: { phase: string; done: number; total: number }[];
}

/** Starts recommend() and track(), then kills the engine worker before either is answered. */
function crashDuringCalls(page: Page, clickId: string): Promise<CrashOutcome> {
  return page.evaluate(async (clickId) => {
    const errors: string[] = [];
    const progress: { phase: string; done: number; total: number }[] = [];
    const off = window.__recs.on((e) => {
      if (e.type === 'error') errors.push(e.message);
      if (e.type === 'progress') progress.push(e.progress);
    });
    const rec = window.__recs.recommend({ k: 10 });
    const tracked = window.__recs.track({ type: 'click', itemId: clickId });
    window.__engineWorkers[window.__engineWorkers.length - 1].terminate(); // the worker is gone, without a word
    const [r, t] = await Promise.allSettled([rec, tracked]);
    off();
    // (no named helper functions in here: the test runner's transpiler would wrap them in a helper the page lacks)
    return {
      recommend:
        r.status === 'fulfilled'
          ? { ok: true as const, items: r.value.map((x) => ({ id: x.itemId, reason: x.reasons[0]?.text ?? '' })) }
          : { ok: false as const, code: String((r.reason as { code?: unknown }).code), message: String((r.reason as Error).message) },
      track:
        t.status === 'fulfilled'
          ? { ok: true as const }
          : { ok: false as const, code: String((t.reason as { code?: unknown }).code), message: String((t.reason as Error).message) },
      errors,
      progress,
    };
  }, clickId);
}

test(
  'the engine worker dies mid-call: restarted, history reloaded from IndexedDB, recommend() retried, track() told',
  { timeout: 240_000 },
  async () => {
    const context = await env.browser().newContext();
    await context.addInitScript(() => {
      // keep a handle on the page's workers, to kill the engine's like a crash would
      const Native = window.Worker;
      window.__engineWorkers = [];
      window.Worker = class extends Native {
        constructor(url: string | URL, options?: WorkerOptions) {
          super(url, options);
          if (options?.name === 'on-device-recs') window.__engineWorkers.push(this);
        }
      };
    });
    const page = await openDemo(context, env.server().url);
    await page.evaluate((ids) => Promise.all(ids.map((id) => window.__recs.track({ type: 'click', itemId: id }))), HORROR);
    const before = await page.evaluate(() => window.__recs.history());
    assert.equal(before.length, 3);

    const out = await crashDuringCalls(page, '2571');
    assert.equal(await page.evaluate(() => window.__engineWorkers.length), 2, 'a new worker was started');
    assert.ok(
      out.errors.some((m) => /stopped unexpectedly; it was restarted/.test(m)),
      `the page is told: ${out.errors.join(' | ')}`,
    );
    // the running recommend() was answered by the new worker, from the history it reloaded
    assert.ok(out.recommend.ok, JSON.stringify(out.recommend));
    const items = (out.recommend as { items: { id: string; reason: string }[] }).items;
    assert.equal(items.length, 10);
    const titles = HORROR.map(title);
    assert.ok(
      items.filter((r) => titles.some((t) => r.reason.includes(t))).length >= 6,
      `recommendations name the clicks made before the crash: ${items.map((r) => r.reason).join(' | ')}`,
    );
    assert.ok(
      items.every((r) => !HORROR.includes(r.id)),
      'the clicked items are still known as seen',
    );
    // the running track() gets a clear error, and nothing half-stored
    assert.equal(out.track.ok, false);
    assert.equal((out.track as { code: string }).code, 'engine_restarted');
    assert.match((out.track as { message: string }).message, /stopped before confirming that this event was stored.*Track the event again/);
    // the catalog came back from the IndexedDB vector cache: nothing embedded again
    const embeds = out.progress.filter((p) => p.phase === 'embed');
    assert.ok(embeds.length > 0 && embeds.every((p) => p.total === 0), `re-embedded after restart: ${JSON.stringify(embeds)}`);
    assert.deepEqual(
      (await page.evaluate(() => window.__recs.history())).map((e) => e.eventId),
      before.map((e) => e.eventId),
      'the history after the restart is the stored one',
    );

    // the restarted engine keeps working and storing
    await page.evaluate(() => window.__recs.track({ type: 'like', itemId: '2571' }));
    const stored = await readStoredEvents(page);
    assert.deepEqual(
      stored.map((e) => [e.type, e.itemId]),
      [...HORROR.map((id) => ['click', id]), ['like', '2571']],
    );

    // a crash from inside the worker (it closes itself) is noticed the same way
    const engineWorker = page
      .workers()
      .filter((w) => w.url().includes('engine.worker'))
      .at(-1); // the newest: a killed one may still be listed
    assert.ok(
      engineWorker,
      `engine worker among ${page
        .workers()
        .map((w) => w.url())
        .join(', ')}`,
    );
    await engineWorker.evaluate(() => self.close()).catch(() => undefined);
    assert.equal(await page.evaluate(() => window.__recs.similar('1258', 5).then((r) => r.length)), 5);
    assert.equal(await page.evaluate(() => window.__engineWorkers.length), 3);

    // a crash loop: after three restarts the facade stops and says so
    const loop = await page.evaluate(async () => {
      window.__engineWorkers[window.__engineWorkers.length - 1].terminate();
      await window.__recs.stats(); // restart 3 answers
      window.__engineWorkers[window.__engineWorkers.length - 1].terminate();
      return window.__recs.recommend().then(
        () => ({ code: 'none', message: 'answered' }),
        (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
      );
    });
    assert.equal(loop.code, 'engine_restarted');
    assert.match(loop.message, /stopped 4 times .* not restarted again; the data stored on this device is intact/);
    assert.equal((await readStoredEvents(page)).length, 4, 'stored data intact');
    await context.close();
  },
);
