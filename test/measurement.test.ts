/**
 * Opt-in measurement (src/measurement): the randomized response satisfies its
 * epsilon exactly; the sampler draws with the probabilities it documents; every
 * report body is exactly the documented fields in REPORT_BYTES bytes; on the
 * device, visits end by gap and by day, the daily privacy budget stops reports,
 * reports are sent in batches (or only shown, dry run), deletion forgets them;
 * the engine sends nothing unless measurement is configured.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import {
  bitKeepProbability,
  encodeReport,
  MAX_EPSILON,
  MAX_VARIANTS,
  parseReport,
  randomize,
  REPORT_BITS,
  REPORT_BYTES,
  REPORT_FIELDS,
  reportProbability,
  type Mechanism,
  type Report,
  type ReportValues,
} from '../src/measurement/ldp';
import { chooseVariant, Measurement, type MeasurementSettings } from '../src/measurement/measurement';
import { mulberry32 } from '../src/math/random';
import { openStore, type RecommenderStore } from '../src/store';
import { Engine } from '../src/engine/engine';
import { withVariant } from '../src/options';
import type { CatalogItem, EngineEvent, RecommenderOptions } from '../src/types';
import { engineOptions } from '../support/engine-options';
import { useSharedEncoder } from '../support/shared-encoder';

/** Every possible value of a report's randomized fields for `variants` variants. */
function allValues(variants: number): ReportValues[] {
  const out: ReportValues[] = [];
  for (let v = 0; v < variants; v++)
    for (let bits = 0; bits < 16; bits++)
      out.push({
        variant: v,
        click: (bits & 1) as 0 | 1,
        explored: ((bits >> 1) & 1) as 0 | 1,
        conversion: ((bits >> 2) & 1) as 0 | 1,
        dismiss: ((bits >> 3) & 1) as 0 | 1,
      });
  return out;
}

describe('randomized response', () => {
  test('for every pair of true inputs and every report, the ratio of report probabilities is at most exp(epsilon), computed exactly', () => {
    for (const epsilon of [0.1, 0.5, 1, 2, 4, 8, MAX_EPSILON])
      for (const variants of [1, 2, 3, MAX_VARIANTS]) {
        const m: Mechanism = { epsilon, variants };
        const values = allValues(variants);
        let worst = 0;
        for (const t of values) {
          const total = values.reduce((s, o) => s + reportProbability(t, o, m), 0);
          assert.ok(Math.abs(total - 1) < 1e-9, `probabilities of truth ${JSON.stringify(t)} sum to ${total}`);
        }
        for (const o of values) {
          const ps = values.map((t) => reportProbability(t, o, m));
          const ratio = Math.max(...ps) / Math.min(...ps);
          worst = Math.max(worst, ratio);
          assert.ok(ratio <= Math.exp(epsilon) * (1 + 1e-12), `ε=${epsilon}, k=${variants}: ratio ${ratio} > e^ε = ${Math.exp(epsilon)}`);
        }
        // the bound is reached: the budget is spent, not wasted
        assert.ok(Math.abs(worst - Math.exp(epsilon)) < 1e-9 * Math.exp(epsilon), `ε=${epsilon}, k=${variants}: worst ratio ${worst}`);
      }
  });

  test('the sampler draws every report with the probability reportProbability() gives', () => {
    const m: Mechanism = { epsilon: 4, variants: 3 };
    const random = mulberry32(7);
    const values = allValues(3);
    const key = (v: ReportValues): string => `${v.variant}${REPORT_BITS.map((b) => v[b]).join('')}`;
    const N = 200_000;
    for (const truth of [values[0], values[37]]) {
      const counts = new Map<string, number>();
      for (let i = 0; i < N; i++) {
        const k = key(randomize(truth, m, random));
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      for (const o of values) {
        const p = reportProbability(truth, o, m);
        const freq = (counts.get(key(o)) ?? 0) / N;
        assert.ok(Math.abs(freq - p) < 4.5 * Math.sqrt((p * (1 - p)) / N) + 1e-6, `truth ${key(truth)}, report ${key(o)}: ${freq} vs ${p}`);
      }
    }
  });

  test('keep probability: e^(ε/F)/(1+e^(ε/F)), F = 4 bits plus the variant when there are variants', () => {
    assert.ok(Math.abs(bitKeepProbability({ epsilon: 4, variants: 1 }) - Math.E / (1 + Math.E)) < 1e-12);
    assert.ok(Math.abs(bitKeepProbability({ epsilon: 5, variants: 2 }) - Math.E / (1 + Math.E)) < 1e-12);
  });
});

describe('report bodies', () => {
  const base: Report = {
    v: 1,
    placement: 'home',
    day: '2025-01-31',
    epsilon: 4,
    variants: 2,
    variant: 1,
    click: 1,
    explored: 0,
    conversion: 0,
    dismiss: 1,
  };

  test('exactly the documented fields, in order, padded to REPORT_BYTES bytes; the longest possible report fits', () => {
    const body = encodeReport(base);
    assert.equal(new TextEncoder().encode(body).length, REPORT_BYTES);
    assert.deepEqual(Object.keys(JSON.parse(body)), [...REPORT_FIELDS]);
    assert.deepEqual(parseReport(body), base);
    const longest: Report = { ...base, placement: 'a'.repeat(32), epsilon: 0.30000000000000004, variants: MAX_VARIANTS, variant: MAX_VARIANTS - 1 };
    assert.equal(new TextEncoder().encode(encodeReport(longest)).length, REPORT_BYTES);
  });

  test('anything else is refused when read back: extra or missing fields, values out of range', () => {
    const json = JSON.parse(encodeReport(base)) as Record<string, unknown>;
    assert.match(String(parseReport(JSON.stringify({ ...json, itemId: '42' }))), /fields/);
    const { dismiss: _d, ...missing } = json;
    void _d;
    assert.match(String(parseReport(JSON.stringify(missing))), /fields/);
    assert.match(String(parseReport(JSON.stringify({ ...json, click: 2 }))), /click/);
    assert.match(String(parseReport(JSON.stringify({ ...json, variant: 2 }))), /variant/);
    assert.match(String(parseReport(JSON.stringify({ ...json, day: '2025-01-31T10:00' }))), /day/);
    assert.match(String(parseReport('not json')), /JSON/);
  });
});

// ------------------------------------------------------------------ on the device

const DAY = 24 * 3600_000;
const T0 = Date.UTC(2025, 0, 31, 8);

function settings(over: Partial<MeasurementSettings> = {}): MeasurementSettings {
  return {
    endpoint: 'https://shop.example/measure',
    placement: 'home',
    epsilon: 4,
    dailyEpsilon: 8,
    visitGapMs: 10 ** 9, // visits end when the test says (checkVisit) or when the day changes
    maxDelayMs: 0,
    dryRun: false,
    variants: [],
    variant: 0,
    ...over,
  };
}

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function device(over: Partial<MeasurementSettings> = {}, factory = new IDBFactory()) {
  let now = T0;
  const sent: string[] = [];
  const events: EngineEvent[] = [];
  const store = (): Promise<RecommenderStore> => openStore({ indexedDB: factory });
  const m = new Measurement(settings(over), {
    store,
    emit: (e) => events.push(e),
    now: () => now,
    send: async (_url, body) => (sent.push(body), true),
    random: mulberry32(3),
  });
  const visit = async (clickOn: string | null): Promise<void> => {
    m.slate([
      { itemId: 'a', source: 'ranked' },
      { itemId: 'b', source: 'explore' },
    ]);
    if (clickOn) m.event({ type: 'click', itemId: clickOn, eventId: `e${now}`, timestamp: now });
    now += 1000;
    await m.settled();
  };
  return { m, sent, events, store, visit, advance: (ms: number) => (now += ms), factory };
}

describe('measurement on the device', () => {
  test('the daily privacy budget stops reports once spent: two reports a day at ε 4 of 8, none more; the next day reports again', async () => {
    const d = device({ visitGapMs: 1800_000 });
    for (let i = 0; i < 5; i++) {
      await d.visit('a');
      d.advance(3600_000);
      d.m.checkVisit(); // a visit ends after a quiet hour here
      await d.m.settled();
    }
    await until(() => d.sent.length >= 2, 'two reports');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(d.sent.length, 2, 'the budget allows two reports on this day');
    const saved = (await (
      await d.store()
    ).getState<{ days: { visits: number; reported: number; unreported: number }[]; budget: { spent: number }[] }>('measurement'))!;
    assert.deepEqual(
      saved.days.map((x) => [x.visits, x.reported, x.unreported]),
      [[5, 2, 3]],
    );
    assert.equal(saved.budget[0].spent, 8);
    // the next day has its own budget
    d.advance(DAY);
    await d.visit('a');
    d.advance(DAY);
    d.m.checkVisit();
    await until(() => d.sent.length === 3, 'a report about the next day');
    for (const body of d.sent) {
      const r = parseReport(body) as Report;
      assert.equal(typeof r, 'object');
      assert.equal(new TextEncoder().encode(body).length, REPORT_BYTES);
      assert.match(r.day, /^2025-0[12]-\d\d$/);
    }
    assert.equal((parseReport(d.sent[2]) as Report).day, '2025-02-01');
  });

  test('a visit ends after visitGapMs without a slate, or when the day changes; reactions to items not shown are not counted', async () => {
    const d = device();
    await d.visit(null);
    d.m.event({ type: 'click', itemId: 'not-shown', eventId: 'x', timestamp: T0 });
    d.advance(DAY); // next day: the open visit is reported first
    await d.visit('b');
    await until(() => d.sent.length === 1, 'the first day reported');
    const saved = (await (await d.store()).getState<{ days: { day: string; clicks: Record<string, number> }[] }>('measurement'))!;
    assert.deepEqual(
      saved.days.map((x) => [x.day, x.clicks.ranked + x.clicks.explored]),
      [['2025-01-31', 0]],
    );
    assert.equal(saved.days.length, 1, 'the second visit is still open');
  });

  test('dry run: reports are built, budgeted and shown in a measurement event, and nothing is sent', async () => {
    const d = device({ dryRun: true });
    await d.visit('a');
    d.advance(DAY);
    d.m.checkVisit();
    await until(() => d.events.some((e) => e.type === 'measurement'), 'a measurement event');
    const e = d.events.find((x) => x.type === 'measurement') as Extract<EngineEvent, { type: 'measurement' }>;
    assert.equal(e.sent, false);
    assert.equal(new TextEncoder().encode(e.report).length, REPORT_BYTES);
    assert.deepEqual(d.sent, []);
  });

  test('reset (the visitor deleted their data) drops the open visit and the pending reports: nothing is sent afterwards', async () => {
    const d = device({ maxDelayMs: 200 });
    await d.visit('a');
    d.advance(DAY);
    d.m.checkVisit();
    await d.m.settled();
    d.m.reset();
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(d.sent, []);
  });

  test('the variant is drawn once and kept on the device; drawn again when the site declares other variants', async () => {
    const factory = new IDBFactory();
    const store = await openStore({ indexedDB: factory });
    const seen = new Set<number>();
    for (let seed = 0; seed < 40; seed++)
      seen.add(await chooseVariant(await openStore({ indexedDB: new IDBFactory() }), ['a', 'b', 'c'], mulberry32(seed)));
    assert.deepEqual([...seen].sort(), [0, 1, 2], 'every variant is drawn');
    const first = await chooseVariant(store, ['a', 'b'], () => 0.9);
    assert.equal(first, 1);
    assert.equal(await chooseVariant(store, ['a', 'b'], () => 0.1), 1, 'kept');
    assert.equal(await chooseVariant(store, ['a', 'b', 'c'], () => 0.1), 0, 'other variants: drawn again');
  });
});

// ------------------------------------------------------------------ in the engine

const catalog = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]
).slice(0, 300);
const sharedEncoder = useSharedEncoder();

describe('measurement in the engine', () => {
  function engine(options: RecommenderOptions, sent: string[], factory = new IDBFactory(), variant = 0): Engine {
    return new Engine(withVariant(engineOptions(options), variant), {
      store: () => openStore({ indexedDB: factory }),
      encoder: async () => sharedEncoder(),
      measurement: { send: async (_url, body) => (sent.push(body), true), random: mulberry32(1) },
    });
  }

  test('off by default: no measurement is built and nothing is sent, whatever the visitor does', async () => {
    const sent: string[] = [];
    const e = engine({ seed: 1 }, sent);
    assert.equal(e.measurement, null);
    await e.setCatalog(catalog);
    const recs = await e.recommend({ k: 6 });
    await e.track({ type: 'click', itemId: recs[0].itemId });
    await e.recommend({ k: 6 });
    const exported = await e.exportData();
    assert.ok(!Object.keys(exported.settings).some((k) => k.startsWith('measurement')), Object.keys(exported.settings).join(', '));
    assert.deepEqual(sent, []);
    await e.close();
  });

  test('on: a visit with a click on a recommendation becomes one report of the documented fields; export shows it; delete removes the counts', async () => {
    const sent: string[] = [];
    const factory = new IDBFactory();
    const options: RecommenderOptions = {
      seed: 2,
      measurement: {
        endpoint: '/measure',
        placement: 'home',
        visitGapMs: 150,
        maxDelayMs: 0,
        variants: [{ name: 'control' }, { name: 'more', diversity: 0.5 }],
      },
    };
    const e = engine(options, sent, factory, 1);
    await e.setCatalog(catalog);
    const recs = await e.recommend({ k: 6 });
    await e.track({ type: 'purchase', itemId: recs[1].itemId });
    await until(() => sent.length === 1, 'one report');
    const report = parseReport(sent[0]) as Report;
    assert.equal(typeof report, 'object', String(report));
    assert.deepEqual(
      { placement: report.placement, epsilon: report.epsilon, variants: report.variants },
      { placement: 'home', epsilon: 4, variants: 2 },
    );
    const strings = Object.values(JSON.parse(sent[0]) as Record<string, unknown>).filter((x) => typeof x === 'string');
    assert.deepEqual(strings, ['home', report.day], 'the only strings are the placement and the day');
    for (const r of recs) assert.ok(!sent[0].includes(`"${r.itemId}"`) && !sent[0].includes(r.item.title), 'no item id or title');
    const exported = await e.exportData();
    const state = exported.settings.measurement as {
      sent: { body: string }[];
      days: { addToCart: number; purchases: number; clicks: Record<string, number> }[];
    };
    assert.deepEqual(
      state.sent.map((s) => s.body),
      sent,
      'export shows the reports sent',
    );
    assert.equal(state.days[0].purchases, 1);
    assert.deepEqual(exported.settings['measurement:variant'], undefined, 'the variant was drawn by the worker, not here');
    await e.deleteData();
    const after = await e.exportData();
    assert.deepEqual(after.settings, {}, 'delete removes the counts');
    await e.close();
  });
});
