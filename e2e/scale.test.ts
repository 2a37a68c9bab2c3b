/**
 * A real site's scale on the device (issue 12): a 100,000-item synthetic site (tools/scale/generate.ts,
 * seeded; 300,000 events here to keep the test short), its global asset built in the test, and the
 * engine in Chromium through the public API: it loads the asset and the catalog, embeds the 100,000
 * items once on the device (the default at this size, see README "A real site's scale"), keeps their
 * vectors in IndexedDB, and the next pages (same origin, same store) read all 100,000 back from the
 * cache; recommend() gives the same slate on the WebGPU, WASM and TypeScript scoring paths.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { readCsvObjects } from '../tools/data/csv';
import { generateScaleSite } from '../tools/scale/generate';
import { SCALE_DATA, SCALE_GLOBAL_MODEL, scaleSiteRoot } from '../tools/scale/site';
import { launch, serveStatic, type StaticServer } from './harness';

const ITEMS = 100_000;
let work = '';
let server: StaticServer;
let browser: Browser;
/** The most logged items: the clicks of the visitor in every path. */
let clicks: string[] = [];

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'odr-scale-'));
  const site = await generateScaleSite({ items: ITEMS, events: 300_000, holdout: 0, seed: 5 }, { dir: join(work, 'site'), log: () => undefined });
  const counts = new Map<string, number>();
  for (const x of readCsvObjects(site.eventsCsv)) counts.set(x.item, (counts.get(x.item) ?? 0) + 1);
  clicks = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
    .map(([id]) => id);
  // the site-side build as a site runs it (npm run build:global)
  const build = spawnSync(
    process.execPath,
    ['--max-old-space-size=4096', '--import', 'tsx', 'tools/build-global.ts', site.eventsCsv, join(work, 'global'), '--catalog', site.catalog],
    { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' },
  );
  assert.equal(build.status, 0, `npm run build:global failed: ${build.stderr}`);
  scaleSiteRoot(join(work, 'root'), { globalDir: join(work, 'global'), dataDir: site.dir, copy: false });
  server = await serveStatic(join(work, 'root'));
  browser = await launch({ webgpu: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('100,000 items: the engine loads the global asset, embeds once and reads every vector back from IndexedDB, and recommends the same slate on webgpu, wasm and js', async () => {
  const slates: Record<string, string[]> = {};
  const context = await browser.newContext(); // one profile: its IndexedDB is what the later pages read
  for (const [i, scoring] of (['webgpu', 'wasm', 'js'] as const).entries()) {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(new URL('lab.html', server.url).href);
    await page.waitForFunction(() => document.body.dataset.labReady === 'true');
    const t0 = Date.now();
    const opened = await page.evaluate((o) => window.lab.openCatalog(o), {
      options: { storeName: 'scale-e2e', scoring, globalModel: SCALE_GLOBAL_MODEL, backend: 'wasm' as const, exploration: { rate: 0 } },
      catalogUrl: `${SCALE_DATA}/catalog.json`,
    });
    process.stderr.write(`[scale] ${scoring}: catalog loaded in ${Date.now() - t0} ms (${opened.report.embedded} embedded)\n`);
    assert.deepEqual(
      opened.events.filter((e) => e.type === 'error'),
      [],
      `${scoring}: no error event (a global asset or vector cache that failed would say so)`,
    );
    assert.equal(opened.report.loaded, ITEMS);
    assert.equal(opened.stats.items, ITEMS);
    if (i === 0) {
      assert.equal(opened.report.embedded, ITEMS, 'the first page embeds every item on the device');
      assert.equal(opened.report.fromCache, 0);
    } else {
      assert.equal(opened.report.fromCache, ITEMS, `${scoring}: every one of the ${ITEMS} vectors comes back from the IndexedDB cache`);
      assert.equal(opened.report.embedded, 0);
    }
    assert.ok(opened.stats.cachedVectors >= ITEMS, `${opened.stats.cachedVectors} vectors cached`);
    assert.equal(opened.stats.scoring?.path, scoring, `${scoring} runs (${opened.stats.scoring?.reason})`);
    const files = await page.evaluate(() => window.labRecs!.loadedFiles());
    assert.ok(
      files.some((f) => f.includes(`models/${SCALE_GLOBAL_MODEL}/`) && f.endsWith('.bin')),
      `the global asset was loaded: ${files.filter((f) => f.includes('models/')).join(', ')}`,
    );
    slates[scoring] = await page.evaluate(async (ids) => {
      const recs = window.labRecs!;
      for (const id of ids) await recs.track({ type: 'click', itemId: id });
      const slate = (await recs.recommend({ k: 10 })).map((r) => r.itemId);
      // the next page starts with no history again; deleteData() would also drop the vector cache it must read
      for (const id of ids) await recs.forget(id);
      return slate;
    }, clicks);
    assert.deepEqual(errors, []);
    await page.close();
  }
  await context.close();
  assert.equal(slates.webgpu.length, 10);
  assert.ok(!slates.webgpu.some((id) => clicks.includes(id)), 'no clicked item comes back');
  assert.deepEqual(slates.wasm, slates.webgpu);
  assert.deepEqual(slates.js, slates.webgpu);
});
