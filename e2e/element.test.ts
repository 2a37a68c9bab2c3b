/**
 * The <on-device-recs> element from the script-tag bundle (lib/embed.js), on
 * pages served under a strict Content-Security-Policy: accessibility (ARIA,
 * keyboard, reduced motion), theming, the modes, hostile catalog text, and
 * errors: clear for the integrator (console, recs-error), neutral for visitors.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ELEMENT_ARIA_IN_PAGE, FOCUSED_CARD_IN_PAGE, STRICT_CSP, launch, serveStatic, type StaticServer } from './harness';
import { ROOT } from './package';

let server: StaticServer;
let browser: Browser;
const HOSTILE = '<img src=x onerror="window.__xss=1">Evil <b>title</b>';

before(async () => {
  const site = mkdtempSync(join(tmpdir(), 'odr-element-'));
  symlinkSync(join(ROOT, 'lib'), join(site, 'recs'));
  const demo = JSON.parse(readFileSync(join(ROOT, 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as { id: string; title: string }[];
  const items = [{ id: 'evil', title: HOSTILE, category: '<script>window.__xss=2</script>' }, ...demo.slice(0, 200)];
  writeFileSync(join(site, 'catalog.json'), JSON.stringify(items));
  writeFileSync(join(site, 'theme.css'), 'on-device-recs { --recs-accent: rgb(1, 2, 3); }\n');
  const page = (body: string, script = '<script src="/recs/embed.js" data-catalog="/catalog.json" data-autotrack="off"></script>'): string =>
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title><link rel="stylesheet" href="/theme.css">${script}</head><body>${body}</body></html>`;
  writeFileSync(
    join(site, 'index.html'),
    page(
      '<on-device-recs id="a" k="5"></on-device-recs><on-device-recs id="s" mode="similar" item-id="evil" k="3"></on-device-recs><on-device-recs id="q" mode="search" query="space adventure" k="4"></on-device-recs><on-device-recs id="u" mode="similar" item-id="no-such-item"></on-device-recs>',
    ),
  );
  mkdirSync(join(site, 'nocatalog'));
  writeFileSync(join(site, 'nocatalog', 'index.html'), page('<on-device-recs></on-device-recs>', '<script src="/recs/embed.js"></script>'));
  server = await serveStatic(site, { 'Content-Security-Policy': STRICT_CSP }, { isolated: false });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const count = (page: Page, id: string): Promise<number> =>
  page.evaluate((i) => document.getElementById(i)?.shadowRoot?.querySelectorAll('li').length ?? 0, id);

async function open(
  reducedMotion: 'reduce' | 'no-preference',
): Promise<{ page: Page; violations: string[]; warnings: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext({ reducedMotion });
  await context.addInitScript(() => {
    const seen: { id: string; code: string; message: string }[] = [];
    (window as unknown as { __recsErrors: typeof seen }).__recsErrors = seen;
    document.addEventListener('recs-error', (ev) => {
      const error = (ev as CustomEvent<{ error: { code?: string; message?: string } }>).detail.error;
      seen.push({ id: (ev.target as Element).id, code: String(error?.code), message: String(error?.message) });
    });
  });
  const page = await context.newPage();
  const violations: string[] = [];
  const warnings: string[] = [];
  page.on('console', (m) => m.text().includes('Content Security Policy') && violations.push(m.text()));
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  page.on('pageerror', (e) => violations.push(e.message));
  await page.goto(server.url);
  await page.waitForFunction(() => (document.getElementById('a')?.shadowRoot?.querySelectorAll('li').length ?? 0) === 5, undefined, {
    timeout: 180_000,
  });
  return { page, violations, warnings, close: () => context.close() };
}

test('modes, ARIA, keyboard, theming and hostile text under a strict CSP', { timeout: 240_000 }, async () => {
  const { page, violations, warnings, close } = await open('no-preference');
  await page.waitForFunction(
    () => ['s', 'q'].every((i) => (document.getElementById(i)?.shadowRoot?.querySelectorAll('li').length ?? 0) > 0),
    undefined,
    { timeout: 60_000 },
  );
  assert.equal(await count(page, 's'), 3, 'similar: 3 cards');
  assert.equal(await count(page, 'q'), 4, 'search: 4 cards');

  // an unknown item for "similar": a neutral line in that element only for the visitor; the integrator's
  // message (which item, what to do) in recs-error and the console
  await page.waitForFunction(
    () => /not available/.test(document.getElementById('u')?.shadowRoot?.querySelector('[role="status"]')?.textContent ?? ''),
    undefined,
    { timeout: 30_000 },
  );
  const unknown = await page.evaluate(() => document.getElementById('u')!.shadowRoot!.querySelector('[role="status"]')!.textContent!);
  assert.equal(unknown, 'Recommendations are not available right now.');
  const others = await page.evaluate(() =>
    ['a', 's', 'q'].map((i) => document.getElementById(i)!.shadowRoot!.querySelector('[role="status"]')!.textContent),
  );
  assert.ok(
    others.every((t) => !/not available/.test(t ?? '')),
    `only that element says so: ${others.join(' | ')}`,
  );
  const reported = await page.evaluate(() => (window as unknown as { __recsErrors: { id: string; code: string; message: string }[] }).__recsErrors);
  assert.ok(
    reported.some((r) => r.id === 'u' && r.code === 'unknown_item' && r.message.includes('no-such-item')),
    `recs-error names the item: ${JSON.stringify(reported)}`,
  );
  assert.ok(
    reported.every((r) => r.id === 'u'),
    `recs-error from that element only: ${JSON.stringify(reported)}`,
  );
  assert.ok(
    warnings.some((w) => w.includes('unknown_item') && w.includes('no-such-item')),
    `console: ${warnings.join(' | ')}`,
  );

  // ARIA: a labelled region and list, native buttons, a live status
  const aria = await page.evaluate(ELEMENT_ARIA_IN_PAGE, 'a');
  assert.equal(aria.role, 'list');
  assert.equal(aria.heading, 'Recommended for you');
  assert.equal(aria.region, 'heading');
  assert.deepEqual(aria.cards, ['BUTTON', 'BUTTON', 'BUTTON', 'BUTTON', 'BUTTON']);
  assert.match(aria.dismissLabel ?? '', /^Not interested in /);
  assert.ok(aria.status);

  // keyboard: Tab reaches the first card; arrows, Home and End move between cards
  const focusedIndex = (): Promise<number> => page.evaluate(FOCUSED_CARD_IN_PAGE);
  await page.evaluate(() => (document.getElementById('a')!.shadowRoot!.querySelector('.card') as HTMLElement).focus());
  assert.equal(await focusedIndex(), 0);
  await page.keyboard.press('ArrowRight');
  assert.equal(await focusedIndex(), 1);
  await page.keyboard.press('End');
  assert.equal(await focusedIndex(), 4);
  await page.keyboard.press('ArrowLeft');
  assert.equal(await focusedIndex(), 3);
  await page.keyboard.press('Home');
  assert.equal(await focusedIndex(), 0);

  // theming through a CSS custom property from the page's stylesheet; motion on by default
  const style = await page.evaluate(() => {
    const root = document.getElementById('a')!.shadowRoot!;
    return {
      color: getComputedStyle(root.querySelector('.title')!).color,
      transition: getComputedStyle(root.querySelector('.card')!).transitionDuration,
    };
  });
  assert.equal(style.color, 'rgb(1, 2, 3)');
  assert.notEqual(style.transition.split(',')[0].trim(), '0s');

  // hostile catalog text is text: the similar element for the "evil" item shows nothing executable
  const evil = await page.evaluate(() => {
    const all = [...document.querySelectorAll('on-device-recs')].map((el) => el.shadowRoot!);
    return {
      xss: (window as unknown as { __xss?: number }).__xss ?? 0,
      imgs: all.reduce((n, r) => n + r.querySelectorAll('img[src="x"], script, b').length, 0),
    };
  });
  assert.deepEqual(evil, { xss: 0, imgs: 0 });
  await page.evaluate(() => window.onDeviceRecs!.recommender.track({ type: 'click', itemId: 'evil' }));
  await page.waitForFunction(
    async () => (await window.onDeviceRecs!.recommender.recommend({ k: 5 })).some((r) => r.reasons[0]?.text.includes('<img')),
    undefined,
    { timeout: 30_000 },
  );
  await page.evaluate(() => window.onDeviceRecs!.refresh());
  await page.waitForFunction(
    () => [...document.getElementById('a')!.shadowRoot!.querySelectorAll('[part="reason"]')].some((r) => r.textContent!.includes('<img')),
    undefined,
    { timeout: 30_000 },
  );
  assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss ?? 0), 0, 'the reason naming the hostile title is text');
  assert.equal(await page.evaluate(() => document.getElementById('a')!.shadowRoot!.querySelectorAll('img[src="x"]').length), 0);

  assert.deepEqual(violations, [], 'no CSP violation (styles are constructed stylesheets)');
  await close();
});

test('prefers-reduced-motion turns the card motion off', { timeout: 240_000 }, async () => {
  const { page, close } = await open('reduce');
  const transition = await page.evaluate(
    () => getComputedStyle(document.getElementById('a')!.shadowRoot!.querySelector('.card')!).transitionProperty,
  );
  assert.equal(transition, 'none');
  await close();
});

test('a script tag without data-catalog says what to add', { timeout: 60_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const logged: string[] = [];
  page.on('console', (m) => m.type() === 'error' && logged.push(m.text()));
  await page.goto(`${server.url}nocatalog/`);
  await page.waitForTimeout(500);
  assert.ok(
    logged.some((l) => l.includes('data-catalog="/your-catalog.json"')),
    `console: ${logged.join(' | ')}`,
  );
  await context.close();
});
