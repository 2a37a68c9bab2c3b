import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contentHash, itemText, validateCatalog } from '../src/catalog';
import { RecommenderError } from '../src/errors';

const good = { id: 'a', title: 'Blue shirt', tags: ['cotton'], price: 20, available: true, text: { brand: 'Acme' } };

describe('validateCatalog', () => {
  test('good items load; each bad item is reported with its index and field, and skipped', () => {
    const input: unknown[] = [
      good,
      { title: 'no id' },
      { id: 'b', title: 42 },
      { id: 'c', title: 'x', tags: 'not-an-array' },
      { id: 'd', title: 'x', price: Number.NaN },
      { id: 'e', title: 'x', price: -1 },
      { id: 'f', title: 'x', available: 'yes' },
      { id: 'g', title: 'x'.repeat(1001) },
      { id: 'h', title: 'x', description: 'y'.repeat(20_001) },
      { id: 'i', title: 'x', imageUrl: 'javascript:alert(1)' },
      null,
      ['array'],
      'string',
      { ...good },
      { id: 7, title: 'numeric id is accepted' },
    ];
    const { items, problems } = validateCatalog(input);
    assert.deepEqual(items.map((i) => i.id), ['a', '7']);
    assert.deepEqual(problems.map((p) => p.index), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    const field = (i: number): string => problems.find((p) => p.index === i)?.field ?? '';
    assert.equal(field(1), 'id');
    assert.equal(field(2), 'title');
    assert.equal(field(4), 'price');
    assert.equal(field(9), 'imageUrl');
    assert.match(problems.find((p) => p.index === 13)?.message ?? '', /duplicate id "a"/);
    for (const p of problems) assert.ok(p.message.length > 10, 'each problem says what is wrong');
  });

  test('prototype keys do not pollute and unknown fields are dropped', () => {
    const hostile = JSON.parse('{"id":"p","title":"t","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"text":{"__proto__":"x","constructor":"y","k":"v"},"extra":"<script>"}');
    const { items } = validateCatalog([hostile]);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    assert.equal(Object.getPrototypeOf(items[0]), Object.prototype);
    assert.equal((items[0] as unknown as Record<string, unknown>).extra, undefined);
    assert.equal((items[0].text as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(items[0].text ?? {}), ['k'], 'prototype keys are not copied');
    assert.deepEqual(Object.keys(items[0]).sort(), ['id', 'text', 'title']);
  });

  test('a catalog that is not an array throws invalid_catalog', () => {
    for (const bad of [null, {}, 'x', 3]) {
      assert.throws(() => validateCatalog(bad), (e: RecommenderError) => e.code === 'invalid_catalog' && /array/.test(e.message));
    }
  });

  test('itemText and contentHash are stable and follow the text', () => {
    assert.equal(itemText(good), 'Blue shirt. cotton. Acme');
    assert.equal(contentHash(good), contentHash({ ...good }));
    assert.notEqual(contentHash(good), contentHash({ ...good, title: 'Red shirt' }));
    assert.equal(contentHash(good), contentHash({ ...good, price: 99 }), 'price is not embedded text');
  });
});
