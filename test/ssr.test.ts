/**
 * Server-side rendering safety (the sources): each public entry point imported
 * in a fresh Node process with no DOM globals, as Next.js, Nuxt, SvelteKit and
 * Astro do when they render a page, touches no browser global and defines none;
 * calling it in Node fails clearly (createRecommender) or does nothing
 * (defineRecsElement, autoTrack). e2e/package-contents.test.ts runs the same
 * probe on the installed tarball.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { BROWSER_GLOBALS, probeSsrImport } from '../support/ssr-probe';

const ROOT = resolve(import.meta.dirname, '..');
const probe = (file: string) => probeSsrImport(pathToFileURL(resolve(ROOT, 'src', file)).href, { cwd: ROOT, tsx: true });

test('this test process has no DOM globals either', () => {
  for (const n of ['window', 'document', 'indexedDB', 'Worker'] as const) assert.equal((globalThis as Record<string, unknown>)[n], undefined, n);
});

test('on-device-recs: importing touches no browser global; createRecommender() in Node throws a RecommenderError saying what to do', () => {
  const p = probe('index.ts');
  assert.equal(p.importError, undefined, 'the import does not throw');
  assert.deepEqual(p.definedBefore, [], 'no DOM globals before the import');
  assert.deepEqual(p.touched, [], `the import touched no browser global (${BROWSER_GLOBALS.join(', ')})`);
  assert.deepEqual(p.definedAfter, [], 'no DOM globals after the import');
  assert.ok(p.exports.includes('createRecommender') && p.exports.includes('RecommenderError'), p.exports.join());
  assert.equal(p.call.name, 'createRecommender');
  assert.equal(p.call.threw, true);
  assert.equal(p.call.errorName, 'RecommenderError', `not a ${p.call.errorName}: ${p.call.message}`);
  assert.equal(p.call.code, 'backend_unavailable');
  assert.match(p.call.message ?? '', /outside a browser/);
  assert.match(p.call.fix ?? '', /in the browser only/);
});

test('on-device-recs/element: importing touches no browser global; defineRecsElement() in Node registers nothing and does not throw', () => {
  const p = probe('element.ts');
  assert.equal(p.importError, undefined, 'the import does not throw');
  assert.deepEqual(p.definedBefore, []);
  assert.deepEqual(p.touched, [], `the import touched no browser global (${BROWSER_GLOBALS.join(', ')})`);
  assert.deepEqual(p.definedAfter, []);
  assert.ok(p.exports.includes('RecsElement') && p.exports.includes('defineRecsElement'), p.exports.join());
  assert.deepEqual(p.call, { name: 'defineRecsElement', threw: false, returned: 'RecsElement' }, JSON.stringify(p.call));
});

test('on-device-recs/autotrack: importing touches no browser global; autoTrack() in Node does nothing and returns a stop function', () => {
  const p = probe('autotrack.ts');
  assert.equal(p.importError, undefined, 'the import does not throw');
  assert.deepEqual(p.definedBefore, []);
  assert.deepEqual(p.touched, [], `the import touched no browser global (${BROWSER_GLOBALS.join(', ')})`);
  assert.deepEqual(p.definedAfter, []);
  assert.deepEqual(p.exports, ['autoTrack']);
  assert.deepEqual(p.call, { name: 'autoTrack', threw: false, returned: 'function' }, JSON.stringify(p.call));
});
