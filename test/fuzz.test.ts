/**
 * Bad input, generated: catalog loading and track() (and the read calls) with
 * malformed and hostile values: wrong types, NaN and infinities, 1 MB strings,
 * `__proto__` / `constructor` keys, HTML and script in text, unknown ids, huge
 * batches. Each bad value gets a clear error; nothing stored is corrupted; the
 * engine keeps serving. Seeded, so a failure replays exactly.
 */
import { engineOptions } from '../support/engine-options';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { CATALOG_LIMITS, validateCatalog } from '../src/catalog/validate';
import { RecommenderError, type RecommenderErrorCode } from '../src/errors';
import { mulberry32 } from '../src/math/random';
import { isStoredEvent, openStore } from '../src/store';
import { Engine } from '../src/engine/engine';
import { EVENT_TYPES } from '../src/vocabulary';
import type { CatalogItem, EngineEvent, StoredEvent, TrackEvent } from '../src/types';
import { fromWireError, toWireError } from '../src/workers/protocol';
import { useSharedEncoder } from '../support/shared-encoder';

const catalog = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]
).slice(0, 300);
const encoder = useSharedEncoder();

const MB = 'x'.repeat(1 << 20);
const HTML = [
  '<img src=x onerror="globalThis.__xss=1">',
  '<script>globalThis.__xss=2</script>',
  '"><svg onload=alert(1)>',
  "'); DROP TABLE events; --",
  '{{constructor.constructor("return 1")()}}',
];
/** Values of every wrong type and shape a caller (or another script) might pass. */
const HOSTILE: unknown[] = [
  undefined,
  null,
  Number.NaN,
  Infinity,
  -Infinity,
  -0,
  -1,
  1e308,
  2 ** 53 + 1,
  true,
  false,
  '',
  '   ',
  MB,
  '\u0000',
  '\ud800', // lone surrogate
  '🙂'.repeat(300),
  'javascript:alert(1)',
  '__proto__',
  'constructor',
  'prototype',
  ...HTML,
  [],
  [1, 'two', null],
  {},
  JSON.parse('{"__proto__": {"polluted": "yes"}}'),
  { constructor: { prototype: { polluted: 'yes' } } },
  new Date(0),
  /regex/,
  () => 'function',
  Symbol('s'),
  10n,
  new Float32Array(3),
  Object.create(null),
];
const KNOWN_CODES: RecommenderErrorCode[] = ['invalid_catalog', 'invalid_event', 'unknown_item', 'not_ready', 'invalid_options', 'storage'];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)];
}

/** A clear error: a RecommenderError with a known code, a message and a fix; never a TypeError from deep inside. */
function assertClearError(e: unknown, what: string): void {
  assert.ok(e instanceof RecommenderError, `${what}: expected a RecommenderError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  assert.ok(KNOWN_CODES.includes(e.code), `${what}: code ${e.code}`);
  assert.ok(e.message.length > 10 && e.fix.length > 5, `${what}: says what was wrong and what to do`);
  assert.ok(e.message.length < 2_000, `${what}: the message does not echo a huge value (${e.message.length} chars)`);
}

function assertPrototypesClean(): void {
  for (const proto of [Object.prototype, Array.prototype, Function.prototype]) {
    assert.equal((proto as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  }
  assert.equal((globalThis as { __xss?: unknown }).__xss, undefined, 'no catalog text was executed');
}

/** One random catalog entry: mostly objects with hostile field values, some hostile non-objects. */
function hostileItem(rand: () => number, i: number): unknown {
  if (rand() < 0.1) return pick(rand, HOSTILE);
  const item: Record<string, unknown> = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}');
  const field = (good: () => unknown): unknown => (rand() < 0.35 ? pick(rand, HOSTILE) : good());
  item.id = field(() => `item-${i}`);
  item.title = field(() => pick(rand, [`Title ${i}`, ...HTML.map((h) => `${h} ${i}`)]));
  if (rand() < 0.5) item.description = field(() => `${pick(rand, HTML)} a story about space and love`);
  if (rand() < 0.5) item.category = field(() => pick(rand, ['Comedy', 'Horror', '<b>Drama</b>']));
  if (rand() < 0.5) item.tags = field(() => [pick(rand, ['fun', '<i>tag</i>', '__proto__']), 'Action']);
  if (rand() < 0.5) item.price = field(() => Math.round(rand() * 100));
  if (rand() < 0.5)
    item.imageUrl = field(() =>
      pick(rand, [
        '/img/a.png',
        'https://cdn.example/b.jpg',
        'javascript:alert(1)',
        ' \u0001javascript:alert(1)',
        'data:text/html,<script>alert(1)</script>',
        'java\nscript:alert(1)',
      ]),
    );
  if (rand() < 0.5) item.available = field(() => rand() < 0.5);
  if (rand() < 0.3) {
    // prototype keys with object values (pollution attempts) and with string values (must not be copied as own keys)
    const proto = rand() < 0.5 ? '{"polluted": "yes"}' : '"shadow"';
    item.text = field(() => JSON.parse(`{"__proto__": ${proto}, "constructor": "c", "director": ${JSON.stringify(pick(rand, HTML))}}`));
  }
  if (rand() < 0.2) item.unknownField = pick(rand, HOSTILE);
  return item;
}

const ALLOWED_KEYS = new Set(['id', 'title', 'description', 'category', 'tags', 'price', 'imageUrl', 'available', 'text']);

function assertCleanItem(it: CatalogItem): void {
  assert.equal(Object.getPrototypeOf(it), Object.prototype);
  for (const k of Object.keys(it)) assert.ok(ALLOWED_KEYS.has(k), `unexpected key ${k}`);
  assert.ok(typeof it.id === 'string' && it.id.length > 0 && it.id.length <= CATALOG_LIMITS.idLength);
  assert.ok(typeof it.title === 'string' && it.title.trim() !== '' && it.title.length <= CATALOG_LIMITS.titleLength);
  if (it.description !== undefined) assert.ok(typeof it.description === 'string' && it.description.length <= CATALOG_LIMITS.descriptionLength);
  if (it.tags !== undefined) assert.ok(Array.isArray(it.tags) && it.tags.every((t) => typeof t === 'string'));
  if (it.price !== undefined) assert.ok(Number.isFinite(it.price) && it.price >= 0);
  if (it.imageUrl !== undefined) assert.match(new URL(it.imageUrl, 'https://shop.example/').protocol, /^https?:$/);
  if (it.available !== undefined) assert.equal(typeof it.available, 'boolean');
  if (it.text !== undefined) {
    for (const k of ['__proto__', 'constructor', 'prototype']) assert.ok(!Object.prototype.hasOwnProperty.call(it.text, k), `text.${k} copied`);
    for (const v of Object.values(it.text)) assert.equal(typeof v, 'string');
  }
  assert.doesNotThrow(() => structuredClone(it), 'crosses the worker boundary');
}

describe('fuzz: catalog loading', () => {
  test('3,000 generated hostile items: every entry is loaded clean or reported; nothing throws, nothing is polluted', { timeout: 120_000 }, () => {
    const rand = mulberry32(1234);
    const input = Array.from({ length: 3_000 }, (_, i) => hostileItem(rand, i));
    const { items, problems } = validateCatalog(input);
    assert.equal(items.length + problems.length, input.length, 'every entry is either loaded or reported');
    assert.ok(items.length > 100 && problems.length > 100, `a mix (${items.length} loaded, ${problems.length} problems)`);
    for (const it of items) assertCleanItem(it);
    for (const p of problems) {
      assert.ok(Number.isInteger(p.index) && p.index >= 0 && p.index < input.length);
      assert.equal(typeof p.field, 'string');
      assert.ok(typeof p.message === 'string' && p.message.length > 5 && p.message.length < 500, `short, clear message: ${p.message.slice(0, 80)}`);
    }
    assert.equal(new Set(problems.map((p) => p.index)).size, problems.length, 'one problem per bad entry');
    // HTML in titles is kept as text, exactly (the engine never interprets it; the UI renders it as text)
    assert.ok(items.some((it) => it.title.includes('<script>')));
    assertPrototypesClean();
  });

  test('a catalog that is not an array, or over the size limit, is refused with invalid_catalog', { timeout: 120_000 }, () => {
    for (const bad of [...HOSTILE.filter((v) => !Array.isArray(v)), new Array(CATALOG_LIMITS.items + 1)]) {
      assert.throws(
        () => validateCatalog(bad),
        (e: unknown) => {
          assertClearError(e, `catalog ${typeof bad}`);
          return (e as RecommenderError).code === 'invalid_catalog';
        },
      );
    }
  });

  test('1 MB strings in every field are refused per item with the limit named', { timeout: 120_000 }, () => {
    const fields = ['id', 'title', 'description', 'category', 'imageUrl'];
    const { items, problems } = validateCatalog([
      ...fields.map((f) => ({ id: `big-${f}`, title: 'ok', [f]: MB })),
      { id: 'big-tag', title: 'ok', tags: [MB] },
      { id: 'big-text', title: 'ok', text: { review: MB } },
    ]);
    assert.equal(items.length, 0);
    assert.equal(problems.length, fields.length + 2);
    for (const p of problems) assert.ok(p.message.length < 200, p.message);
  });

  test('the engine loads a hostile catalog, reports the bad entries and serves from the good ones', { timeout: 120_000 }, async () => {
    const rand = mulberry32(99);
    const hostile = Array.from({ length: 400 }, (_, i) => hostileItem(rand, i));
    const engine = new Engine(engineOptions({ seed: 1 }), {
      store: () => openStore({ indexedDB: new IDBFactory() }),
      encoder: async () => encoder(),
    });
    const report = await engine.setCatalog([...catalog.slice(0, 100), ...hostile] as CatalogItem[]);
    assert.equal(report.loaded + report.problems.length, 500);
    assert.ok(report.loaded >= 100);
    const recs = await engine.recommend({ k: 10 });
    assert.equal(recs.length, 10);
    for (const r of recs) assertCleanItem(r.item);
    const found = await engine.search('<script>globalThis.__xss=2</script>', 5);
    assert.ok(found.length > 0, 'HTML in a query is just words');
    await assert.rejects(engine.setCatalog({ items: 'nope' } as never), (e: unknown) => (assertClearError(e, 'setCatalog(object)'), true));
    assert.equal((await engine.recommend({ k: 3 })).length, 3, 'a refused catalog leaves the loaded one serving');
    assertPrototypesClean();
    await engine.close();
  });
});

describe('empty catalog', () => {
  test(
    'an empty array, or a catalog whose every item is refused: empty_catalog in the report and an error event; ranking calls reject with it; stored data intact; a catalog with items serves again',
    { timeout: 120_000 },
    async () => {
      const factory = new IDBFactory();
      const seen: EngineEvent[] = [];
      const engine = new Engine(engineOptions({ seed: 5 }), { store: () => openStore({ indexedDB: factory }), encoder: async () => encoder() });
      engine.on((e) => seen.push(e));
      await engine.setCatalog(catalog.slice(0, 50));
      assert.equal((await engine.setCatalog(catalog.slice(0, 50))).error, undefined, 'a catalog with items has no error');
      await engine.track({ type: 'click', itemId: catalog[0].id });
      for (const [input, what] of [
        [[], /The catalog is empty/],
        [[{ id: { x: 1 }, title: 'x' }, { id: 'y' }, 'z'], /None of the catalog's 3 items were loaded/],
      ] as const) {
        seen.length = 0;
        const report = await engine.setCatalog(input as unknown as CatalogItem[]);
        assert.equal(report.loaded, 0);
        assert.equal(report.error?.code, 'empty_catalog', JSON.stringify(report));
        assert.match(report.error.message, what);
        assert.match(report.error.fix, /JSON array of items/);
        const errors = seen.filter((e) => e.type === 'error');
        assert.deepEqual(errors, [{ type: 'error', ...report.error }], 'the same error reaches the listeners');
        for (const [call, run] of [
          ['recommend', () => engine.recommend({ k: 3 })],
          ['similar', () => engine.similar(catalog[0].id, 3)],
          ['search', () => engine.search('space', 3)],
          ['explain', () => engine.explain(catalog[0].id)],
        ] as const) {
          await assert.rejects(run(), (e: unknown) => {
            assert.ok(e instanceof RecommenderError && e.code === 'empty_catalog', `${call}: ${String(e)}`);
            const onPage = fromWireError(structuredClone(toWireError(e)));
            assert.ok(onPage instanceof RecommenderError && onPage.code === 'empty_catalog' && onPage.fix === e.fix, `${call} across the boundary`);
            return true;
          });
        }
      }
      assert.equal(await (await openStore({ indexedDB: factory })).countEvents(), 1, 'the stored history is untouched');
      const back = await engine.setCatalog(catalog.slice(0, 50));
      assert.equal(back.error, undefined);
      assert.equal((await engine.recommend({ k: 3 })).length, 3, 'serving again');
      await engine.close();
    },
  );
});

describe('fuzz: track() and the read calls', () => {
  test(
    '4,000 generated hostile events: each is stored clean or refused with a clear error; the log stays valid; the engine keeps serving',
    { timeout: 120_000 },
    async () => {
      const factory = new IDBFactory();
      const engine = new Engine(engineOptions({ seed: 2 }), { store: () => openStore({ indexedDB: factory }), encoder: async () => encoder() });
      await engine.setCatalog(catalog);
      const ids = catalog.map((c) => c.id);
      const rand = mulberry32(4321);
      const hostileContext = (): unknown => {
        if (rand() < 0.3) return pick(rand, HOSTILE);
        const ctx: Record<string, unknown> = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}');
        ctx.page = pick(rand, HOSTILE);
        ctx[pick(rand, ['slot', MB, '<b>k</b>', 'prototype'])] = pick(rand, HOSTILE);
        for (let i = 0; i < Math.floor(rand() * 60); i++) ctx[`k${i}`] = i;
        return ctx;
      };
      const events: unknown[] = Array.from({ length: 4_000 }, () => {
        if (rand() < 0.05) return pick(rand, HOSTILE);
        const e: Record<string, unknown> = {};
        e.type = rand() < 0.7 ? pick(rand, EVENT_TYPES) : pick(rand, HOSTILE);
        e.itemId = rand() < 0.6 ? pick(rand, ids) : rand() < 0.5 ? `unknown-${Math.floor(rand() * 1e6)}` : pick(rand, HOSTILE);
        if (rand() < 0.3) e.query = rand() < 0.5 ? 'space adventure' : pick(rand, HOSTILE);
        if (rand() < 0.3) e.value = rand() < 0.5 ? Math.round(rand() * 300) : pick(rand, HOSTILE);
        if (rand() < 0.3) e.timestamp = rand() < 0.5 ? Date.now() - Math.floor(rand() * 1e9) : pick(rand, HOSTILE);
        if (rand() < 0.4) e.context = hostileContext();
        if (rand() < 0.1) e.eventId = 'forged-id';
        return e;
      });
      const retentionCutoff = Date.now() - 365 * 86_400_000; // the default maxEventAgeDays
      const outcomes = await Promise.all(
        events.map((ev, i) =>
          Promise.resolve()
            .then(() => engine.track(ev as TrackEvent))
            .then(
              () => true,
              (e: unknown) => {
                assertClearError(e, `event ${i}`);
                return false;
              },
            ),
        ),
      );
      const accepted = outcomes.filter(Boolean).length;
      assert.ok(accepted > 200 && accepted < events.length, `a mix (${accepted} stored)`);
      // accepted events dated before the retention window are deleted by the retention policy, as they should be
      const expired = events.filter(
        (ev, i) => outcomes[i] && typeof (ev as TrackEvent).timestamp === 'number' && ((ev as TrackEvent).timestamp as number) < retentionCutoff,
      ).length;
      await engine.flush();
      const store = await openStore({ indexedDB: factory });
      await store.pruneEvents({ maxAgeMs: 365 * 86_400_000 });
      const stored = await store.events();
      assert.equal(stored.length, accepted - expired, `exactly the accepted events were stored (${expired} beyond the retention age)`);
      assert.equal(new Set(stored.map((e) => e.eventId)).size, stored.length, 'ids are the engine’s own, never forged duplicates');
      const known = new Set(ids);
      for (const e of stored) assertStoredClean(e, known);
      assertPrototypesClean();
      // still serving, with personalisation from the accepted events
      const recs = await engine.recommend({ k: 10 });
      assert.equal(recs.length, 10);
      assert.ok((await engine.similar(ids[0], 5)).length === 5);
      assert.ok((await engine.search('space adventure', 5)).length > 0);
      await engine.close();
    },
  );

  test(
    'recommend(), similar(), search(), explain() and history() with hostile arguments: results or a clear error, never a crash',
    { timeout: 120_000 },
    async () => {
      const engine = new Engine(engineOptions({ seed: 3 }), {
        store: () => openStore({ indexedDB: new IDBFactory() }),
        encoder: async () => encoder(),
      });
      await engine.setCatalog(catalog);
      await engine.track({ type: 'click', itemId: catalog[0].id });
      const rand = mulberry32(777);
      const hostileOptions = (): unknown => {
        if (rand() < 0.3) return pick(rand, HOSTILE);
        const o: Record<string, unknown> = JSON.parse('{"__proto__": {"polluted": "yes"}}');
        if (rand() < 0.6) o.k = pick(rand, [5, ...HOSTILE]);
        if (rand() < 0.5) o.exclude = pick(rand, [[catalog[1].id], ...HOSTILE]);
        if (rand() < 0.5) {
          o.filters =
            rand() < 0.3
              ? pick(rand, HOSTILE)
              : {
                  categories: pick(rand, [['Comedy'], ...HOSTILE]),
                  maxPrice: pick(rand, [10, ...HOSTILE]),
                  minPrice: pick(rand, HOSTILE),
                  available: pick(rand, HOSTILE),
                  tags: pick(rand, HOSTILE),
                };
        }
        if (rand() < 0.3) o.context = pick(rand, HOSTILE);
        return o;
      };
      const calls: [string, () => Promise<unknown>][] = [];
      for (let i = 0; i < 300; i++) {
        const opts = hostileOptions();
        const arg = pick(rand, [catalog[2].id, ...HOSTILE]);
        const k = pick(rand, [3, ...HOSTILE]);
        calls.push([`recommend(${i})`, () => engine.recommend(opts as never)]);
        calls.push([`similar(${i})`, () => engine.similar(arg as never, k as never)]);
        calls.push([`search(${i})`, () => engine.search(arg as never, k as never)]);
        calls.push([`explain(${i})`, () => engine.explain(arg as never)]);
        calls.push([`history(${i})`, () => engine.history(k as never)]);
      }
      let answered = 0;
      for (const [what, call] of calls) {
        try {
          const r = await call();
          assert.ok(Array.isArray(r), `${what} returns a list`);
          answered++;
        } catch (e) {
          assertClearError(e, what);
        }
      }
      assert.ok(answered > 100, `${answered} answered`);
      assertPrototypesClean();
      assert.equal((await engine.recommend({ k: 10 })).length, 10, 'still serving');
      await engine.close();
    },
  );

  test('a huge batch: 20,000 track() calls at once are all stored while storage works', { timeout: 120_000 }, async () => {
    const factory = new IDBFactory();
    const engine = new Engine(engineOptions({ seed: 4, maxEvents: 50_000 }), {
      store: () => openStore({ indexedDB: factory }),
      encoder: async () => encoder(),
    });
    await engine.setCatalog(catalog);
    const N = 20_000;
    const results = await Promise.allSettled(
      Array.from({ length: N }, (_, i) => engine.track({ type: 'view', itemId: catalog[i % catalog.length].id })),
    );
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const r of rejected.slice(0, 5)) assertClearError(r.reason, 'a rejected track()');
    await engine.flush();
    const stored = await (await openStore({ indexedDB: factory })).countEvents();
    assert.equal(rejected.length, 0, rejected[0] ? String(rejected[0].reason) : '');
    assert.equal(stored, N);
    assert.equal((await engine.history()).length, stored, 'the history holds exactly the stored events');
    assert.equal((await engine.similar(catalog[0].id, 5)).length, 5, 'still serving');
    await engine.close();
  });
});

function assertStoredClean(e: StoredEvent, known: Set<string>): void {
  assert.ok(isStoredEvent(e));
  assert.ok(EVENT_TYPES.includes(e.type), e.type);
  assert.ok(Number.isFinite(e.timestamp) && e.timestamp >= 0);
  if (e.type === 'search') assert.ok(typeof e.query === 'string' && e.query.length <= 1_000);
  else assert.ok(typeof e.itemId === 'string' && known.has(e.itemId), `item ${String(e.itemId).slice(0, 40)} is in the catalog`);
  if (e.value !== undefined) assert.ok(Number.isFinite(e.value));
  if (e.context !== undefined) {
    assert.equal(Object.getPrototypeOf(e.context), Object.prototype);
    const entries = Object.entries(e.context);
    assert.ok(entries.length <= 32, `${entries.length} context keys`);
    for (const [k, v] of entries) {
      assert.ok(!['__proto__', 'constructor', 'prototype'].includes(k), `context key ${k}`);
      assert.ok(k.length <= 64, `context key of ${k.length} characters`);
      assert.ok(['string', 'number', 'boolean'].includes(typeof v));
      if (typeof v === 'string') assert.ok(v.length <= 256);
      if (typeof v === 'number') assert.ok(Number.isFinite(v));
    }
  }
  assert.ok(JSON.stringify(e).length < 20_000, 'an event stays small');
}
