/** The catalog's one rule set: which items a call may return (src/catalog/rules.ts), for exact ranking and retrieval alike. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyExclusions, exclusionMask } from '../src/catalog/rules';
import type { CatalogItem, RecommendOptions } from '../src/types';
import type { EventType } from '../src/vocabulary';

const items: CatalogItem[] = [
  { id: 'a', title: 'A', category: 'Drama', tags: ['x'], price: 10 },
  { id: 'b', title: 'B', category: 'Comedy', tags: ['y'], price: 60 },
  { id: 'c', title: 'C', category: 'Drama', tags: ['y'], price: 30, available: false },
  { id: 'd', title: 'D', tags: ['x', 'y'] },
  { id: 'e', title: 'E', category: 'Drama', price: 5 },
];
const target = { items, indexOf: new Map(items.map((it, i) => [it.id, i] as const)) };
const left = (options: RecommendOptions, seen: [string, EventType][] = [], excludeSeen = false, extra: number[] = []): string[] =>
  items.filter((_, i) => exclusionMask(target, options, new Map(seen), excludeSeen, extra)[i]).map((it) => it.id);

describe('catalog rules', () => {
  test('unavailable items are left out unless includeUnavailable', () => {
    assert.deepEqual(left({}), ['c']);
    assert.deepEqual(left({ filters: { includeUnavailable: true } }), []);
  });
  test('filters: categories, tags, price range (an item without a price fails a price filter)', () => {
    assert.deepEqual(left({ filters: { categories: ['Drama'], includeUnavailable: true } }), ['b', 'd']);
    assert.deepEqual(left({ filters: { tags: ['x'], includeUnavailable: true } }), ['b', 'c', 'e']);
    assert.deepEqual(left({ filters: { minPrice: 10, maxPrice: 50, includeUnavailable: true } }), ['b', 'd', 'e']);
  });
  test('excluded ids, extra indices, unknown ids ignored', () => {
    assert.deepEqual(left({ exclude: ['b', 'nope'], filters: { includeUnavailable: true } }, [], false, [4]), ['b', 'e']);
  });
  test('seen items: purchased and dismissed always, everything seen with excludeSeen', () => {
    const seen: [string, EventType][] = [
      ['a', 'view'],
      ['b', 'purchase'],
      ['d', 'dismiss'],
      ['e', 'click'],
    ];
    assert.deepEqual(left({ filters: { includeUnavailable: true } }, seen, false), ['b', 'd']);
    assert.deepEqual(left({ filters: { includeUnavailable: true } }, seen, true), ['a', 'b', 'd', 'e']);
  });
  test('applyExclusions marks exactly the mask with -Infinity and leaves the other scores alone', () => {
    const scores = Float32Array.from([1, 2, 3, 4, 5]);
    applyExclusions(scores, target, { exclude: ['a'] }, new Map([['d', 'dismiss']]), false);
    assert.deepEqual(Array.from(scores), [-Infinity, 2, -Infinity, -Infinity, 5]);
  });
});
