/**
 * Durability under unload, in Chromium: a burst of track() calls is sent and the tab
 * goes away in the middle of it, before the engine's worker has written them all:
 * closed (page.close without beforeunload), reloaded, or its renderer killed
 * (DevTools' Page.crash). On the next
 * load every event of the burst is either stored in IndexedDB or reported lost by
 * one `events_lost` error event (the pending-write marker, src/pending-writes.ts):
 * stored + reported lost == sent, every repetition.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { CatalogItem, Recommender } from '../src/types';
import { DIST, readStoredEvents, useBrowser } from './harness';

declare global {
  interface Window {
    __recs: Recommender;
  }
}

const env = useBrowser({ webgpu: false });
const ids = (JSON.parse(readFileSync(join(DIST, 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]).slice(0, 50).map((it) => it.id);
const SENT = 300;
const REPETITIONS = 3;
type Ending = 'close' | 'reload' | 'crash';

/** Loads the demo in `page` (`go`), recording the events_lost counts its console reports (the demo logs every error event). */
async function openDemoCounting(page: Page, go: () => Promise<unknown>): Promise<{ page: Page; lost: number[] }> {
  const lost: number[] = [];
  page.on('console', (m) => {
    const found = /events_lost: (\d+) events? tracked on this device never reached its storage/.exec(m.text());
    if (found) lost.push(Number(found[1]));
  });
  await go();
  await page.waitForFunction(() => document.body.dataset.ready === 'true', undefined, { timeout: 180_000 });
  return { page, lost };
}

async function newDemoPage(context: BrowserContext): Promise<{ page: Page; lost: number[] }> {
  const page = await context.newPage();
  return openDemoCounting(page, () => page.goto(env.server().url));
}

/**
 * Sends the burst: a third, then (once the first of it is stored: the worker is writing) the
 * rest, all made before this returns and none of the rest awaited.
 */
async function burst(page: Page, tag: string): Promise<void> {
  await page.evaluate(
    ({ ids, tag, sent }) => {
      const calls = Array.from(
        { length: sent },
        (_, i) => () => window.__recs.track({ type: 'view', itemId: ids[i % ids.length], context: { burst: tag } }).catch(() => undefined),
      );
      const first = calls.slice(0, sent / 3).map((c) => c());
      return first[0].then(() => void calls.slice(sent / 3).forEach((c) => c()));
    },
    { ids, tag, sent: SENT },
  );
}

/** Events of the burst in IndexedDB, read directly (not through the engine). */
async function storedOf(page: Page, tag: string): Promise<number> {
  const records = (await readStoredEvents(page)) as { context?: { burst?: unknown } }[];
  return records.filter((e) => e.context?.burst === tag).length;
}

/** Waits until no page's marker is left in localStorage (the new page checked and reported every one it found). */
async function markersChecked(page: Page): Promise<void> {
  await page.waitForFunction(() => !Object.keys(localStorage).some((k) => k.startsWith('on-device-recs:pending:')), undefined, {
    timeout: 60_000,
  });
}

async function endThenCount(context: BrowserContext, ending: Ending, tag: string): Promise<{ stored: number; lost: number }> {
  const { page } = await newDemoPage(context);
  await burst(page, tag);
  let next: { page: Page; lost: number[] };
  if (ending === 'reload') {
    next = await openDemoCounting(page, () => page.reload()); // the same tab, counted from the reloaded page's first line
  } else {
    if (ending === 'crash') {
      const cdp = await context.newCDPSession(page);
      const crashed = new Promise<void>((resolve) => page.once('crash', () => resolve()));
      void cdp.send('Page.crash').catch(() => undefined);
      await crashed;
    }
    await page.close({ runBeforeUnload: false });
    next = await newDemoPage(context);
  }
  await markersChecked(next.page);
  const stored = await storedOf(next.page, tag);
  const lost = next.lost.reduce((a, b) => a + b, 0);
  await next.page.close();
  return { stored, lost };
}

for (const ending of ['close', 'reload', 'crash'] as const) {
  test(
    `a burst of ${SENT} track() calls, then the tab ends (${ending}): stored + reported lost == sent, ${REPETITIONS} times`,
    { timeout: 600_000 },
    async () => {
      const context = await env.browser().newContext();
      const figures: string[] = [];
      for (let r = 0; r < REPETITIONS; r++) {
        const { stored, lost } = await endThenCount(context, ending, `${ending}-${r}`);
        figures.push(`stored ${stored} + lost ${lost}`);
        assert.equal(stored + lost, SENT, `${ending} #${r + 1}: every event is stored or reported lost (${figures.join('; ')})`);
        assert.ok(stored > 0, 'the first call of the burst had been stored before the tab ended');
      }
      process.stdout.write(`# ${ending}: ${figures.join('; ')}\n`);
      await context.close();
    },
  );
}
