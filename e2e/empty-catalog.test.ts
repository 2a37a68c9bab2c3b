/**
 * An empty catalog (an empty array, or items that are all refused) in Chromium:
 * the integrator is told (an error event and the catalog report with code
 * empty_catalog and a fix, logged to the console with its code, message and fix),
 * visitors only see a neutral line. On the demo (dist/) and on the `<on-device-recs>`
 * element of the script-tag bundle (lib/embed.js).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DIST, launch, serveStatic, type StaticServer } from './harness';
import type {} from '../src/embed';
import { ROOT } from './package';

/** What each site's catalog holds: nothing, or only items the validation refuses. */
const CATALOGS = { empty: [], refused: [{ id: { nested: 1 }, title: 'no id' }, { id: 'no-title' }, 'not an item'] } as const;
const NEUTRAL = 'Recommendations are not available right now.';

let servers: StaticServer[] = [];
const sites: Record<string, { demo: string; element: string }> = {};
let browser: Browser;

before(async () => {
  for (const [name, items] of Object.entries(CATALOGS)) {
    // the demo's build with its catalog replaced (every other file is the build's own)
    const demo = mkdtempSync(join(tmpdir(), `odr-empty-demo-${name}-`));
    for (const entry of readdirSync(DIST)) if (entry !== 'catalog') symlinkSync(join(DIST, entry), join(demo, entry));
    mkdirSync(join(demo, 'catalog'));
    writeFileSync(join(demo, 'catalog', 'movielens-demo.json'), JSON.stringify(items));
    // a page with the script tag and the element, as the README's quick start
    const element = mkdtempSync(join(tmpdir(), `odr-empty-element-${name}-`));
    symlinkSync(join(ROOT, 'lib'), join(element, 'recs'));
    writeFileSync(join(element, 'catalog.json'), JSON.stringify(items));
    writeFileSync(
      join(element, 'index.html'),
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title><script src="/recs/embed.js" data-catalog="/catalog.json"></script></head><body><on-device-recs id="a" k="4"></on-device-recs></body></html>',
    );
    const [d, e] = await Promise.all([serveStatic(demo), serveStatic(element, {}, { isolated: false })]);
    servers.push(d, e);
    sites[name] = { demo: d.url, element: e.url };
  }
  browser = await launch({ webgpu: false });
});
after(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function openWithConsole(url: string): Promise<{ page: Page; warnings: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext();
  await context.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __recsErrors: string[] }).__recsErrors = seen;
    document.addEventListener('recs-error', (ev) => seen.push(String((ev as CustomEvent<{ error: { code?: string } }>).detail.error?.code)));
  });
  const page = await context.newPage();
  const warnings: string[] = [];
  page.on('console', (m) => (m.type() === 'warning' || m.type() === 'error') && warnings.push(m.text()));
  page.on('pageerror', (e) => warnings.push(`[page error] ${e.message}`));
  await page.goto(url);
  return { page, warnings, close: () => context.close() };
}

function assertLogged(warnings: string[], what: RegExp, prefix: string): void {
  const line = warnings.find((w) => w.includes(`${prefix} empty_catalog:`));
  assert.ok(line, `the console has the code: ${warnings.join(' | ')}`);
  assert.match(line, what, 'and what was wrong');
  assert.match(line, /JSON array of items/, 'and the fix');
}

for (const [name, what] of [
  ['empty', /The catalog is empty/],
  ['refused', /None of the catalog's 3 items were loaded/],
] as const) {
  test(
    `the demo on a catalog that is ${name}: a neutral line for the visitor, empty_catalog with its fix in the console`,
    { timeout: 240_000 },
    async () => {
      const { page, warnings, close } = await openWithConsole(sites[name].demo);
      await page.waitForFunction(() => !document.querySelector<HTMLElement>('#error-banner')?.hidden, undefined, { timeout: 180_000 });
      assert.equal((await page.textContent('#error-banner .error-text'))?.trim(), NEUTRAL);
      const text = (await page.textContent('body')) ?? '';
      assert.doesNotMatch(text, /empty_catalog|JSON array|refused|problems/, 'no integrator message on the page');
      // the error event (with the report's message) and the failed recommend() both reach the console
      assertLogged(warnings, what, '[on-device-recs demo]');
      assert.ok(
        warnings.some((w) => /empty_catalog: The loaded catalog has no items/.test(w)),
        `recommend()'s rejection is logged too: ${warnings.join(' | ')}`,
      );
      await close();
    },
  );

  test(`<on-device-recs> on a catalog that is ${name}: neutral status, console and recs-error say empty_catalog`, { timeout: 240_000 }, async () => {
    const { page, warnings, close } = await openWithConsole(sites[name].element);
    const report = await page.evaluate(() => window.onDeviceRecs!.ready);
    assert.equal(report.loaded, 0);
    assert.equal(report.error?.code, 'empty_catalog');
    assert.match(report.error.message, what);
    const status = await page.waitForFunction(
      () => {
        const t = document.getElementById('a')?.shadowRoot?.querySelector('[part="status"]')?.textContent ?? '';
        return t && !/Loading/.test(t) ? t : null;
      },
      undefined,
      { timeout: 120_000 },
    );
    assert.equal(await status.jsonValue(), NEUTRAL);
    assert.equal(await page.evaluate(() => document.getElementById('a')?.shadowRoot?.querySelectorAll('li').length), 0);
    assertLogged(warnings, what, '[on-device-recs]'); // the report, logged by embed.js
    assert.ok(
      warnings.some((w) => /\[on-device-recs\] empty_catalog: The loaded catalog has no items.*JSON array of items/.test(w)),
      `the element logs its failed slate with code, message and fix: ${warnings.join(' | ')}`,
    );
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __recsErrors: string[] }).__recsErrors), ['empty_catalog'], 'recs-error');
    await close();
  });
}
