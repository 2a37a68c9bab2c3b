/**
 * Business rules (src/catalog/business-rules.ts): pin, boost, bury, excludeWhere, freshness and
 * the category cap on recommend(), similar() and search(); live updateItems(); validation errors;
 * and the exploration propensity log under rules (src/engine/ruled-slate.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { Engine } from '../src/engine/engine';
import { openStore } from '../src/store';
import { RecommenderError } from '../src/errors';
import { validateRecommendOptions, validateSearchOptions, validateSimilarOptions } from '../src/options';
import type { SentenceEncoder } from '../src/encoding/encoder';
import type { CatalogItem, RecommenderOptions } from '../src/types';
import { engineOptions } from '../support/engine-options';
import { SlateMixer } from '../src/exploration/mixer';
import { DEFAULT_EXPLORATION } from '../src/exploration/config';
import { mulberry32 } from '../src/math/random';
import { rankForYou } from '../src/ranking/pipeline';
import { DEFAULT_RANKING_CONFIG } from '../src/ranking/score';
import { buildProfile, DEFAULT_PROFILE_CONFIG } from '../src/profile/profile';
import { composeRuledSlate } from '../src/engine/ruled-slate';
import type { CatalogIndex } from '../src/vectors/catalog-index';

const DIMS = 32;
/** A deterministic bag-of-words encoder: texts sharing words get similar vectors. */
function hashVector(text: string): Float32Array {
  const v = new Float32Array(DIMS);
  for (const w of text.toLowerCase().split(/\W+/).filter(Boolean)) {
    let h = 2166136261;
    for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    v[(h >>> 0) % DIMS] += 1;
    v[(h >>> 8) % DIMS] += 0.5;
  }
  const n = Math.hypot(...v) || 1;
  return v.map((x) => x / n);
}
const encoder: SentenceEncoder = {
  info: { name: 'hash', dimensions: DIMS, backend: 'wasm', modelHash: 'hash-test' },
  embed: async (texts) => texts.map(hashVector),
  dispose: async () => undefined,
};

const CATEGORIES = ['Drama', 'Comedy', 'Action', 'Horror'];
const DAY = 86_400_000;
const NOW = Date.UTC(2025, 0, 1);
const catalog: CatalogItem[] = Array.from({ length: 80 }, (_, i) => ({
  id: `m${i}`,
  title: `Movie ${i} ${['storm', 'river', 'night', 'fire', 'glass'][i % 5]}`,
  description: `a ${CATEGORIES[i % 4].toLowerCase()} story about ${['love', 'war', 'ghosts', 'money'][i % 4]} and ${['sea', 'city'][i % 2]}`,
  category: CATEGORIES[i % 4],
  price: 5 + (i % 10) * 5,
  attributes: { brand: i % 8 === 0 ? 'Acme' : 'Other', ageRestricted: i % 10 === 3 },
  publishedAt: new Date(NOW - (80 - i) * 7 * DAY).toISOString(),
}));

async function makeEngine(options: RecommenderOptions = {}): Promise<Engine> {
  const e = new Engine(engineOptions({ exploration: { policy: 'off' }, ...options }), {
    store: () => openStore({ indexedDB: new IDBFactory() }),
    encoder: async () => encoder,
    now: () => NOW,
  });
  await e.setCatalog(catalog);
  for (const id of ['m1', 'm5', 'm9', 'm2']) await e.track({ type: 'click', itemId: id });
  return e;
}

const item = (id: string): CatalogItem => catalog.find((c) => c.id === id) as CatalogItem;
const ids = (recs: { itemId: string }[]): string[] => recs.map((r) => r.itemId);

function invalid(fn: () => unknown, names: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RecommenderError, `not a RecommenderError: ${String(e)}`);
    assert.equal(e.code, 'invalid_options');
    assert.match(e.message, names);
    assert.ok(e.fix && e.fix.length > 5, 'a fix is given');
    return true;
  });
}

describe('business rules: validation', () => {
  test('every wrong rule is refused with invalid_options naming the rule and a fix', () => {
    invalid(() => validateRecommendOptions({ rules: 3 }), /rules must be an object/);
    invalid(() => validateRecommendOptions({ rules: { boosts: [] } }), /rules\.boosts is not a rule/);
    invalid(() => validateRecommendOptions({ rules: { pin: [{ itemId: 'a', slot: -1 }] } }), /rules\.pin\[0\]\.slot/);
    invalid(() => validateRecommendOptions({ rules: { pin: [{ slot: 0 }] } }), /rules\.pin\[0\] needs an itemId/);
    invalid(
      () =>
        validateRecommendOptions({
          rules: {
            pin: [
              { itemId: 'a', slot: 1 },
              { itemId: 'b', slot: 1 },
            ],
          },
        }),
      /second item to slot 1/,
    );
    invalid(
      () => validateRecommendOptions({ rules: { boost: [{ attribute: 'category', equals: 'Drama', multiply: 0.5 }] } }),
      /boost\[0\]\.multiply/,
    );
    invalid(() => validateRecommendOptions({ rules: { bury: [{ attribute: 'category', equals: 'Drama', add: 1 }] } }), /bury\[0\]\.add/);
    invalid(() => validateRecommendOptions({ rules: { boost: [{ attribute: 'category', equals: 'Drama' }] } }), /no weight/);
    invalid(() => validateRecommendOptions({ rules: { excludeWhere: [{ attribute: 'brand' }] } }), /excludeWhere\[0\] matches every item/);
    invalid(() => validateRecommendOptions({ rules: { excludeWhere: [{ attribute: 'price', min: 9, max: 3 }] } }), /min is above its max/);
    invalid(() => validateRecommendOptions({ rules: { excludeWhere: [{ attribute: 'brand', equals: { a: 1 } }] } }), /equals/);
    invalid(() => validateRecommendOptions({ rules: { freshness: { halfLifeDays: 0, weight: 1 } } }), /halfLifeDays/);
    invalid(() => validateRecommendOptions({ rules: { freshness: { halfLifeDays: 7, weight: Number.NaN } } }), /weight must be a finite number/);
    invalid(() => validateRecommendOptions({ rules: { maxPerCategory: 0 } }), /maxPerCategory/);
    invalid(() => validateSimilarOptions({ kind: 'bought' }), /kind must be one of/);
    invalid(() => validateSimilarOptions({ rules: { maxPerCategory: 1.5 } }), /maxPerCategory/);
    invalid(() => validateSearchOptions({ rules: { pin: {} } }), /rules\.pin must be an array/);
    // a valid set comes back as a clean copy
    const ok = validateRecommendOptions({ rules: { maxPerCategory: 2, boost: [{ attribute: 'tags', equals: ['x'], add: 0.5 }] } });
    assert.deepEqual(ok.rules, { maxPerCategory: 2, boost: [{ attribute: 'tags', equals: ['x'], add: 0.5 }] });
  });

  test('the engine refuses wrong rules before ranking, on every call', async () => {
    const e = await makeEngine();
    await assert.rejects(e.recommend({ rules: { maxPerCategory: -1 } } as never), { code: 'invalid_options' });
    await assert.rejects(e.similar('m1', { rules: { bury: [{ attribute: 'brand', equals: 'Acme', multiply: 2 }] } }), { code: 'invalid_options' });
    await assert.rejects(e.search('storm', { rules: { freshness: { halfLifeDays: 7 } } } as never), { code: 'invalid_options' });
    await assert.rejects(e.updateItems([{ id: 'm1', title: 'New title' }] as never), (err: RecommenderError) => {
      assert.equal(err.code, 'invalid_options');
      assert.match(err.message, /title cannot be updated in place/);
      return true;
    });
  });
});

describe('business rules: each rule', () => {
  test('pin puts the item at its slot in recommend(), similar() and search(); an excluded pin is dropped', async () => {
    const e = await makeEngine();
    const plain = ids(await e.recommend({ k: 8 }));
    const pinnedId = catalog.map((c) => c.id).find((id) => !plain.includes(id) && !['m1', 'm5', 'm9', 'm2'].includes(id)) as string;
    const recs = await e.recommend({ k: 8, rules: { pin: [{ itemId: pinnedId, slot: 2 }] } });
    assert.equal(recs.length, 8);
    assert.equal(recs[2].itemId, pinnedId);
    assert.equal(new Set(ids(recs)).size, 8);
    const sim = await e.similar('m20', { k: 6, rules: { pin: [{ itemId: 'm77', slot: 0 }] } });
    assert.equal(sim[0].itemId, 'm77');
    const found = await e.search('storm', { k: 5, rules: { pin: [{ itemId: 'm78', slot: 4 }] } });
    assert.equal(found[4].itemId, 'm78');
    // a pinned item the rules leave out (excluded id) is not shown
    const excluded = await e.recommend({ k: 8, exclude: [pinnedId], rules: { pin: [{ itemId: pinnedId, slot: 0 }] } });
    assert.ok(!ids(excluded).includes(pinnedId));
  });

  test('boost lifts matching items (multiplicative and additive), bury pushes them down', async () => {
    const e = await makeEngine();
    const plain = await e.recommend({ k: 10 });
    assert.ok(plain.some((r) => r.item.category !== 'Horror'));
    const boosted = await e.recommend({ k: 10, rules: { boost: [{ attribute: 'category', equals: 'Horror', add: 5 }] } });
    assert.ok(
      boosted.every((r) => r.item.category === 'Horror'),
      ids(boosted).join(),
    );
    const top = plain[0];
    const buried = await e.recommend({
      k: 10,
      rules: { bury: [{ attribute: 'category', equals: top.item.category as string, multiply: 0.1, add: -5 }] },
    });
    assert.ok(buried.every((r) => r.item.category !== top.item.category));
    // multiplicative alone: the boosted item's score grows by that factor (sign-aware)
    const factor = await e.recommend({ k: 10, rules: { boost: [{ attribute: 'brand', equals: 'Acme', multiply: 3 }] } });
    const before = new Map(plain.map((r) => [r.itemId, r.score]));
    for (const r of factor)
      if (r.item.attributes?.brand === 'Acme' && before.has(r.itemId)) assert.ok(Math.abs(r.score - 3 * (before.get(r.itemId) as number)) < 1e-4);
    assert.ok(factor.filter((r) => r.item.attributes?.brand === 'Acme').length > plain.filter((r) => r.item.attributes?.brand === 'Acme').length);
  });

  test('excludeWhere leaves matching items out of recommend(), similar() and search()', async () => {
    const e = await makeEngine();
    const rules = {
      excludeWhere: [
        { attribute: 'brand', equals: 'Acme' },
        { attribute: 'ageRestricted', equals: true },
      ],
    };
    const bad = (r: { item: CatalogItem }): boolean => r.item.attributes?.brand === 'Acme' || r.item.attributes?.ageRestricted === true;
    assert.ok((await e.recommend({ k: 40 })).some(bad), 'without the rule some match');
    assert.ok(!(await e.recommend({ k: 40, rules })).some(bad));
    assert.ok((await e.similar('m1', 40)).some(bad));
    assert.ok(!(await e.similar('m1', { k: 40, rules })).some(bad));
    assert.ok((await e.search('movie', 40)).some(bad));
    assert.ok(!(await e.search('movie', { k: 40, rules })).some(bad));
    // numeric range on a built-in attribute
    assert.ok((await e.recommend({ k: 30, rules: { excludeWhere: [{ attribute: 'price', min: 20 }] } })).every((r) => (r.item.price as number) < 20));
  });

  test('freshness lifts recently published items by its half-life', async () => {
    const e = await makeEngine();
    const age = (r: { item: CatalogItem }): number => (NOW - Date.parse(r.item.publishedAt as string)) / DAY;
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const plain = await e.recommend({ k: 10 });
    const fresh = await e.recommend({ k: 10, rules: { freshness: { halfLifeDays: 30, weight: 5 } } });
    assert.ok(mean(fresh.map(age)) < mean(plain.map(age)) / 2, `${mean(fresh.map(age))} vs ${mean(plain.map(age))}`);
    // the newest items (published within ~a month) are first
    assert.ok(age(fresh[0]) <= 14, String(age(fresh[0])));
  });

  test('maxPerCategory caps each category in the slate, pinned items counted, exploration included', async () => {
    const e = await makeEngine({ exploration: { policy: 'thompson', rate: 0.5, prior: 'uniform' }, seed: 7 });
    const count = (recs: { item: CatalogItem }[]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const r of recs) m.set(r.item.category as string, (m.get(r.item.category as string) ?? 0) + 1);
      return m;
    };
    const plain = await e.recommend({ k: 8 });
    assert.ok(Math.max(...count(plain).values()) > 2, 'without a cap some category has more than 2');
    for (let n = 0; n < 10; n++) {
      const recs = await e.recommend({ k: 8, rules: { maxPerCategory: 2, pin: [{ itemId: 'm3', slot: 0 }] } });
      assert.equal(recs.length, 8);
      assert.equal(recs[0].itemId, 'm3');
      assert.ok(Math.max(...count(recs).values()) <= 2, JSON.stringify([...count(recs)]));
      assert.ok(
        recs.some((r) => r.source !== 'ranked'),
        'exploration filled open slots',
      );
    }
  });

  test('updateItems changes availability, price and attributes at once, nothing re-embedded', async () => {
    const e = await makeEngine();
    const first = await e.recommend({ k: 5 });
    const top = first[0].itemId;
    let embedded = 0;
    const counting = encoder.embed;
    encoder.embed = async (texts) => ((embedded += texts.length), counting(texts));
    try {
      assert.deepEqual(
        await e.updateItems([
          { id: top, available: false },
          { id: 'unknown', price: 3 },
        ]),
        { updated: 1 },
      );
      assert.ok(!ids(await e.recommend({ k: 20 })).includes(top));
      const second = (await e.recommend({ k: 5 }))[0];
      await e.updateItems([{ id: second.itemId, price: 999 }]);
      assert.ok(!ids(await e.recommend({ k: 20, filters: { maxPrice: 100 } })).includes(second.itemId));
      assert.equal((await e.recommend({ k: 60 })).find((r) => r.itemId === second.itemId)?.item.price, 999);
      const third = (await e.recommend({ k: 5 }))[0];
      await e.updateItems([{ id: third.itemId, attributes: { brand: 'Banned' } }]);
      assert.ok(!ids(await e.recommend({ k: 20, rules: { excludeWhere: [{ attribute: 'brand', equals: 'Banned' }] } })).includes(third.itemId));
      await e.updateItems([{ id: top, available: true }]);
      assert.ok(ids(await e.recommend({ k: 20 })).includes(top));
      assert.equal(embedded, 0, 'no text was embedded again');
    } finally {
      encoder.embed = counting;
    }
    assert.equal(item(top).available, undefined, "the caller's catalog objects are not changed");
  });
});

describe('business rules: the exploration propensity log', () => {
  test('the impression log is the slate shown under rules: pins logged with propensity 1, every rule holds in every slot', async () => {
    const e = await makeEngine({ exploration: { policy: 'thompson', rate: 0.5, prior: 'uniform' }, seed: 3 });
    const rules = { pin: [{ itemId: 'm41', slot: 1 }], maxPerCategory: 3, excludeWhere: [{ attribute: 'brand', equals: 'Acme' }] };
    for (let n = 0; n < 8; n++) {
      const before = e.impressionLog().length;
      const recs = await e.recommend({ k: 6, rules });
      const logged = e.impressionLog().slice(before);
      assert.deepEqual(
        logged.map((l) => [l.itemId, l.source, Math.round(l.propensity * 1e4) / 1e4]),
        recs.map((r) => [r.itemId, r.source, r.propensity]),
      );
      assert.equal(recs[1].itemId, 'm41');
      assert.equal(logged[1].propensity, 1);
      assert.equal(logged[1].source, 'ranked');
      assert.ok(recs.every((r) => r.item.attributes?.brand !== 'Acme'));
    }
  });

  test('logged propensities match how often each item is actually shown in the open slot under rules', () => {
    const items = catalog.slice(0, 40);
    const index: CatalogIndex = {
      items,
      indexOf: new Map(items.map((it, i) => [it.id, i] as const)),
      matrix: { count: items.length, dims: DIMS, data: Float32Array.from(items.flatMap((it) => [...hashVector(`${it.title} ${it.description}`)])) },
      prior: Float32Array.from(items, (_, i) => 1 - i / items.length),
    };
    const events = ['m1', 'm5', 'm9'].map((id, n) => ({ type: 'click' as const, itemId: id, eventId: `e${n}`, timestamp: NOW - n * 1000 }));
    const profile = buildProfile(events, (id) => hashVector(`${item(id).title} ${item(id).description}`), NOW, DEFAULT_PROFILE_CONFIG);
    const mixer = new SlateMixer({ ...DEFAULT_EXPLORATION, policy: 'thompson', rate: 0.25, prior: 'uniform' });
    const rules = { rules: { pin: [{ itemId: 'm30', slot: 0 }], maxPerCategory: 2 } };
    const runs = 1500;
    const shown = new Map<string, number>();
    const logged = new Map<string, number[]>();
    return (async () => {
      const ranking = await rankForYou({ catalog: index, global: null, profile, config: DEFAULT_RANKING_CONFIG }, { k: 5, rules, now: NOW });
      for (let n = 0; n < runs; n++) {
        const slate = composeRuledSlate(mixer, ranking, index.prior, 5, mulberry32(1000 + n));
        assert.equal(slate[0].item, index.indexOf.get('m30'));
        const cats = slate.map((s) => items[s.item].category as string);
        for (const c of cats) assert.ok(cats.filter((x) => x === c).length <= 2, `at most 2 of ${c}`);
        for (const s of slate.slice(1)) {
          if (s.propensity === 1 && s.source === 'ranked') continue;
          const id = items[s.item].id;
          shown.set(id, (shown.get(id) ?? 0) + 1);
          logged.set(id, [...(logged.get(id) ?? []), s.propensity]);
        }
      }
      assert.ok(shown.size >= 2, 'the open slot varies');
      for (const [id, count] of shown) {
        const p = (logged.get(id) as number[]).reduce((a, b) => a + b, 0) / count;
        assert.ok(Math.abs(count / runs - p) < 0.06, `${id}: shown ${count / runs}, logged ${p}`);
      }
    })();
  });
});
