/**
 * Errors keep their code, message and fix across the worker boundary: a
 * worker-side call's error goes through toWireError, structured cloning (what
 * postMessage does) and fromWireError, and the page gets a RecommenderError
 * it can branch on (quota_exceeded is not blocked).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as Comlink from 'comlink';
import { ERROR_FIX, RecommenderError, type RecommenderErrorCode } from '../src/errors';
import { StoreError, toStoreError, type StoreErrorCode } from '../src/store/errors';
import { fromWireError, toWireError } from '../src/workers/protocol';

const STORE_CODES: StoreErrorCode[] = ['quota_exceeded', 'blocked', 'corrupt_record', 'unavailable', 'version_error', 'unknown'];

/** What the engine worker does with a call's failure (engine.worker.ts wrap()). */
async function workerCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toWireError(e);
  }
}

/** A worker-side call failing with `error`, as the page sees it: wire form, structured clone, rebuilt. */
async function acrossBoundary(error: unknown): Promise<unknown> {
  try {
    await workerCall(async () => {
      throw error;
    });
  } catch (wire) {
    return fromWireError(structuredClone(wire));
  }
  assert.fail('the worker call rejects');
}

function assertRecommenderError(e: unknown, code: RecommenderErrorCode): asserts e is RecommenderError {
  assert.ok(e instanceof RecommenderError, `a RecommenderError on the page, got ${String(e)}`);
  assert.equal(e.name, 'RecommenderError');
  assert.equal(e.code, code);
  assert.ok(e.fix.trim().length > 10, `${code}: says what to do (${JSON.stringify(e.fix)})`);
  assert.ok(e.message.trim().length > 10, `${code}: says what was wrong`);
}

test('a StoreError(quota_exceeded) from the worker reaches the page as RecommenderError quota_exceeded with its fix', async () => {
  const thrown = toStoreError(new DOMException('disk full', 'QuotaExceededError'), 'writing 50 events');
  const e = await acrossBoundary(thrown);
  assertRecommenderError(e, 'quota_exceeded');
  assert.equal(e.message, thrown.message);
  assert.equal(e.fix, thrown.fix);
  assert.match(e.fix, /free disk space or lower maxEvents/i);
  assert.doesNotMatch(e.fix, /quota exceeded while/, 'the fix says what to do, not what happened');
});

test('every store code keeps its own code and a non-empty fix across the boundary', async () => {
  const seen = new Set<string>();
  for (const code of STORE_CODES) {
    // created the way store.ts creates them (a message, no fix of its own) ...
    const plain = await acrossBoundary(new StoreError(code, `the store failed (${code}) while testing`));
    assertRecommenderError(plain, code);
    assert.equal(plain.message, `the store failed (${code}) while testing`);
    seen.add(plain.code);
    // ... and with a fix of its own
    const withFix = await acrossBoundary(new StoreError(code, `the store failed (${code})`, { fix: 'Do the specific thing, then retry.' }));
    assertRecommenderError(withFix, code);
    assert.equal(withFix.fix, 'Do the specific thing, then retry.');
    assert.equal(withFix.message, `the store failed (${code}): do the specific thing, then retry.`);
  }
  assert.equal(seen.size, STORE_CODES.length, 'no two store codes collapse into one (quota_exceeded is not blocked)');
  assert.ok(!seen.has('storage'));
});

test('StoreErrors mapped from IndexedDB failures keep their code and fix across the boundary', async () => {
  const cases: [string, StoreErrorCode][] = [
    ['QuotaExceededError', 'quota_exceeded'],
    ['VersionError', 'version_error'],
    ['NotFoundError', 'version_error'],
    ['InvalidStateError', 'unavailable'],
    ['DataCloneError', 'corrupt_record'],
    ['AbortError', 'unknown'],
    ['SomethingElse', 'unknown'],
  ];
  for (const [name, code] of cases) {
    const thrown = toStoreError(new DOMException('x', name), 'reading');
    assert.equal(thrown.code, code, name);
    assert.ok(thrown.message.includes(thrown.fix.slice(1)), `${name}: the message ends with the fix (${thrown.message})`);
    const e = await acrossBoundary(thrown);
    assertRecommenderError(e, code);
    assert.equal(e.fix, thrown.fix, name);
    assert.equal(e.message, thrown.message, name);
  }
});

test('a RecommenderError keeps code, message and fix', async () => {
  const thrown = new RecommenderError('unknown_item', 'No item with id "x" in the catalog.', 'Use an id from the loaded catalog.');
  const e = await acrossBoundary(thrown);
  assertRecommenderError(e, 'unknown_item');
  assert.equal(e.message, thrown.message);
  assert.equal(e.fix, 'Use an id from the loaded catalog.');
});

test('the codes with a fixed fix (empty_catalog, events_lost) keep code, message and fix', async () => {
  for (const code of Object.keys(ERROR_FIX) as (keyof typeof ERROR_FIX)[]) {
    const thrown = new RecommenderError(code, `It went wrong (${code}).`, ERROR_FIX[code]);
    const e = await acrossBoundary(thrown);
    assertRecommenderError(e, code);
    assert.equal(e.message, thrown.message);
    assert.equal(e.fix, ERROR_FIX[code]);
  }
  assert.deepEqual(Object.keys(ERROR_FIX).sort(), ['empty_catalog', 'events_lost']);
});

test('a plain Error stays an Error (not a RecommenderError) with its message', async () => {
  const e = await acrossBoundary(new TypeError('x is not a function'));
  assert.ok(e instanceof Error);
  assert.ok(!(e instanceof RecommenderError));
  assert.equal(e.message, 'x is not a function');
  const fromString = await acrossBoundary('just a string');
  assert.ok(fromString instanceof Error && !(fromString instanceof RecommenderError));
  assert.equal(fromString.message, 'just a string');
});

test('the wire form is plain data: structured cloning keeps every field', () => {
  const wire = toWireError(new StoreError('blocked', 'Opening the on-device database is blocked by another tab'));
  assert.ok(!(wire instanceof Error));
  assert.deepEqual(structuredClone(wire), wire);
  assert.deepEqual(Object.keys(wire).sort(), ['__recommenderError', 'code', 'fix', 'message']);
});

test('through comlink over a MessageChannel: quota_exceeded and blocked arrive apart', async () => {
  const { port1, port2 } = new MessageChannel();
  const api = {
    write: () =>
      workerCall(async () => {
        throw toStoreError(new DOMException('disk full', 'QuotaExceededError'), 'writing 1 event');
      }),
    remove: () =>
      workerCall(async () => {
        throw new StoreError('blocked', 'Deleting the on-device data waits for another open tab');
      }),
  };
  Comlink.expose(api, port1 as unknown as Comlink.Endpoint);
  const remote = Comlink.wrap<typeof api>(port2 as unknown as Comlink.Endpoint);
  try {
    const codes: string[] = [];
    for (const call of [(): Promise<unknown> => remote.write(), (): Promise<unknown> => remote.remove()]) {
      const e = await call().then(
        () => assert.fail('rejects'),
        (err: unknown) => fromWireError(err),
      );
      assert.ok(e instanceof RecommenderError, String(e));
      assert.ok(e.fix.length > 10);
      codes.push(e.code);
    }
    assert.deepEqual(codes, ['quota_exceeded', 'blocked']);
  } finally {
    remote[Comlink.releaseProxy]();
    port1.close();
    port2.close();
  }
});
