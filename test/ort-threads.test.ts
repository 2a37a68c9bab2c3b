/**
 * onnxruntime's WASM thread count in the engine's worker (src/runtime/onnx.ts ortThreads):
 * threads only on a cross-origin isolated page, never in Firefox (its nested module workers
 * for onnxruntime's thread pool hung the worker now and then: issue 19).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ortThreads } from '../src/runtime/onnx';

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0';
const CHROMIUM = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
const WEBKIT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/60.5 Safari/605.1.15';

test('threads only where the page is cross-origin isolated, at most 4', () => {
  assert.equal(ortThreads({ crossOriginIsolated: false, navigator: { hardwareConcurrency: 8, userAgent: CHROMIUM } }), 1);
  assert.equal(ortThreads({ navigator: { hardwareConcurrency: 8, userAgent: CHROMIUM } }), 1);
  assert.equal(ortThreads({ crossOriginIsolated: true, navigator: { hardwareConcurrency: 2, userAgent: CHROMIUM } }), 2);
  assert.equal(ortThreads({ crossOriginIsolated: true, navigator: { hardwareConcurrency: 16, userAgent: WEBKIT } }), 4);
  assert.equal(ortThreads({ crossOriginIsolated: true, navigator: {} }), 1);
});

test('Firefox runs onnxruntime on one thread even when isolated (its thread pool start could hang the worker)', () => {
  assert.equal(ortThreads({ crossOriginIsolated: true, navigator: { hardwareConcurrency: 8, userAgent: FIREFOX } }), 1);
});

test('Node (tools, unit tests): one thread', () => {
  assert.equal(ortThreads({}), 1);
});
