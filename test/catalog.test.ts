import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CATALOG_LIMITS, contentHash, fnv1a64, itemText, validateCatalog } from '../src/catalog/validate';
import { RecommenderError } from '../src/errors';
import type { CatalogItem } from '../src/types';

const good = {
  id: 'a',
  title: 'Blue shirt',
  description: 'Soft cotton shirt',
  category: 'Shirts',
  tags: ['cotton', 'blue'],
  price: 20,
  imageUrl: 'https://cdn.example.com/a.png',
  available: true,
  text: { brand: 'Acme' },
};

/** The one problem reported for a catalog of a single bad item. */
function problemOf(item: unknown): { field: string; message: string; id?: string } {
  const { items, problems } = validateCatalog([item]);
  assert.equal(items.length, 0, `${JSON.stringify(item)?.slice(0, 80)} should be rejected`);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].index, 0);
  assert.ok(problems[0].message.length > 10, 'the problem says what is wrong');
  return problems[0];
}

describe('validateCatalog', () => {
  test('good items load as clean copies with every known field', () => {
    const input = [
      good,
      { id: 'b', title: 'Red hat' },
      { id: 7, title: 'numeric id is accepted' },
      { id: 'c', title: 'Free', price: 0, available: false, tags: [] },
    ];
    const { items, problems } = validateCatalog(input);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      items.map((i) => i.id),
      ['a', 'b', '7', 'c'],
    );
    assert.deepEqual(items[0], good);
    assert.notEqual(items[0], good, 'a copy, not the input object');
    assert.notEqual(items[0].tags, good.tags);
    assert.notEqual(items[0].text, good.text);
    assert.deepEqual(items[1], { id: 'b', title: 'Red hat' }, 'absent optional fields stay absent');
    assert.equal(items[3].price, 0);
    assert.equal(items[3].available, false);
    assert.deepEqual(validateCatalog([]), { items: [], problems: [] });
  });

  test('each bad item is reported with its index and field, and skipped; good ones around it still load', () => {
    const input: unknown[] = [
      good,
      { title: 'no id' },
      { id: 'b', title: 42 },
      { id: 'c', title: 'x', tags: 'not-an-array' },
      { id: 'd', title: 'x', price: Number.NaN },
      { id: 'e', title: 'x', price: -1 },
      { id: 'f', title: 'x', available: 'yes' },
      { id: 'g', title: 'x'.repeat(CATALOG_LIMITS.titleLength + 1) },
      { id: 'h', title: 'x', description: 'y'.repeat(CATALOG_LIMITS.descriptionLength + 1) },
      { id: 'i', title: 'x', imageUrl: 'javascript:alert(1)' },
      null,
      ['array'],
      'string',
      { ...good, title: 'duplicate of a' },
      { id: 'z', title: 'last good one' },
    ];
    const { items, problems } = validateCatalog(input);
    assert.deepEqual(
      items.map((i) => i.id),
      ['a', 'z'],
    );
    assert.equal(items[0].title, 'Blue shirt', 'the first of a duplicated id is kept');
    assert.deepEqual(
      problems.map((p) => [p.index, p.field]),
      [
        [1, 'id'],
        [2, 'title'],
        [3, 'tags'],
        [4, 'price'],
        [5, 'price'],
        [6, 'available'],
        [7, 'title'],
        [8, 'description'],
        [9, 'imageUrl'],
        [10, 'item'],
        [11, 'item'],
        [12, 'item'],
        [13, 'id'],
      ],
    );
    assert.match(problems.find((p) => p.index === 13)?.message ?? '', /duplicate id "a"/);
    assert.equal(problems.find((p) => p.index === 13)?.id, 'a');
    assert.equal(problems.find((p) => p.index === 4)?.id, 'd', 'problems name the item id when known');
    for (const p of problems) assert.ok(p.message.length > 10, 'each problem says what is wrong');
  });

  test('missing or invalid ids', () => {
    for (const id of [undefined, null, '', Number.NaN, Number.POSITIVE_INFINITY, true, {}, ['a'], 'x'.repeat(CATALOG_LIMITS.idLength + 1)]) {
      assert.equal(problemOf({ id, title: 't' }).field, 'id', String(id));
    }
  });

  test('wrong types and out-of-range values', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ title: 42 }, 'title'],
      [{ title: '' }, 'title'],
      [{ title: '   ' }, 'title'],
      [{ title: null }, 'title'],
      [{ title: undefined }, 'title'],
      [{ tags: 'cotton' }, 'tags'],
      [{ tags: { 0: 'cotton' } }, 'tags'],
      [{ tags: ['ok', 3] }, 'tags'],
      [{ tags: Array(CATALOG_LIMITS.tags + 1).fill('t') }, 'tags'],
      [{ tags: ['t'.repeat(CATALOG_LIMITS.tagLength + 1)] }, 'tags'],
      [{ price: Number.NaN }, 'price'],
      [{ price: -1 }, 'price'],
      [{ price: -0.01 }, 'price'],
      [{ price: Number.POSITIVE_INFINITY }, 'price'],
      [{ price: '20' }, 'price'],
      [{ price: null }, 'price'],
      [{ available: 'yes' }, 'available'],
      [{ available: 1 }, 'available'],
      [{ available: null }, 'available'],
      [{ description: 5 }, 'description'],
      [{ description: 'd'.repeat(CATALOG_LIMITS.descriptionLength + 1) }, 'description'],
      [{ category: 5 }, 'category'],
      [{ imageUrl: 5 }, 'imageUrl'],
      [{ imageUrl: `https://x.com/${'a'.repeat(CATALOG_LIMITS.urlLength)}` }, 'imageUrl'],
      [{ text: 'not an object' }, 'text'],
      [{ text: ['a'] }, 'text'],
      [{ text: null }, 'text'],
      [{ text: { k: 5 } }, 'text.k'],
      [{ text: { k: 'v'.repeat(CATALOG_LIMITS.textFieldLength + 1) } }, 'text.k'],
      [{ text: Object.fromEntries(Array.from({ length: CATALOG_LIMITS.textFields + 1 }, (_, i) => [`f${i}`, 'v'])) }, 'text'],
    ];
    for (const [extra, field] of cases) {
      const p = problemOf({ id: 'x', title: 'ok', ...extra });
      assert.equal(p.field, field, JSON.stringify(extra).slice(0, 80));
      assert.equal(p.id, 'x');
    }
    // exactly at the limits is fine
    const atLimit = validateCatalog([
      {
        id: 'i'.repeat(CATALOG_LIMITS.idLength),
        title: 't'.repeat(CATALOG_LIMITS.titleLength),
        description: 'd'.repeat(CATALOG_LIMITS.descriptionLength),
      },
    ]);
    assert.equal(atLimit.items.length, 1);
  });

  test('non-object items are reported, not thrown', () => {
    for (const raw of [null, undefined, ['a', 'b'], [], 'sku-1', 42, true, Symbol('s')]) {
      const p = problemOf(raw);
      assert.equal(p.field, 'item');
      assert.match(p.message, /must be an object/);
    }
    assert.match(problemOf(null).message, /null/);
    assert.match(problemOf([]).message, /array/);
    assert.match(problemOf('s').message, /string/);
  });

  test('imageUrl: http(s) and relative URLs load; script and data URLs are refused, however disguised', () => {
    for (const url of [
      'https://cdn.example.com/a.png',
      'http://example.com/a.png',
      'HTTPS://EXAMPLE.COM/A.PNG',
      '/img/a.png',
      'img/a.png',
      './a b.png',
      '//cdn.example.com/a.png',
      '?v=1',
      'a.png#x',
    ]) {
      const { items } = validateCatalog([{ id: 'a', title: 't', imageUrl: url }]);
      assert.equal(items[0]?.imageUrl, url, `accepted: ${url}`);
    }
    for (const url of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      '  javascript:alert(1)',
      '\tjavascript:alert(1)',
      '\x01javascript:alert(1)', // browsers strip leading C0 controls
      'java\nscript:alert(1)', // ... and tabs/newlines anywhere
      'java\tscript:alert(1)',
      'jav\r\nascript:alert(1)',
      'data:image/svg+xml,<svg onload=alert(1)>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'blob:https://example.com/x',
    ]) {
      assert.equal(problemOf({ id: 'a', title: 't', imageUrl: url }).field, 'imageUrl', `refused: ${JSON.stringify(url)}`);
    }
  });

  test('__proto__ / constructor keys do not pollute Object.prototype and are not copied', () => {
    const hostile = JSON.parse(
      '{"id":"p","title":"t","__proto__":{"polluted":true,"title":"evil"},"constructor":{"prototype":{"polluted":true}},"prototype":{"polluted":true},"text":{"__proto__":{"polluted":true},"constructor":"y","prototype":"z","k":"v"},"tags":["a"],"extra":"<script>"}',
    );
    const { items, problems } = validateCatalog([hostile]);
    assert.deepEqual(problems, []);
    const item = items[0];
    assert.equal(({} as { polluted?: boolean }).polluted, undefined, 'Object.prototype is not polluted');
    assert.equal((Object.prototype as { polluted?: boolean }).polluted, undefined);
    assert.equal(Object.getPrototypeOf(item), Object.prototype, 'the item has the plain prototype');
    assert.equal((item as unknown as { polluted?: boolean }).polluted, undefined);
    assert.equal(item.title, 't');
    assert.equal(item.constructor, Object, 'constructor is the normal one, not copied');
    assert.deepEqual(Object.keys(item).sort(), ['id', 'tags', 'text', 'title'], 'unknown fields are dropped');
    assert.ok(item.text);
    assert.equal(Object.getPrototypeOf(item.text), Object.prototype, 'text has the plain prototype');
    assert.deepEqual(Object.keys(item.text), ['k'], 'prototype keys in text are not copied');
    assert.equal((item.text as { polluted?: boolean }).polluted, undefined);
    assert.equal(item.text.constructor, Object);
    assert.ok(!Object.prototype.hasOwnProperty.call(item.text, '__proto__'));
    assert.equal(itemText(item), 't. a. v', 'prototype keys do not reach the encoder text');

    // an item object whose prototype was replaced (not via JSON)
    const proto = { id: 'inherited', title: 'inherited' };
    const weird = Object.assign(Object.create(proto) as object, { id: 'w', title: 'own' });
    const w = validateCatalog([weird]).items[0];
    assert.equal(Object.getPrototypeOf(w), Object.prototype);
    assert.equal(w.title, 'own');
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  });

  test('a catalog that is not an array throws invalid_catalog', () => {
    for (const bad of [null, undefined, {}, { items: [] }, 'x', 3, true, new Map()]) {
      assert.throws(
        () => validateCatalog(bad),
        (e: unknown) => {
          assert.ok(e instanceof RecommenderError);
          assert.equal(e.code, 'invalid_catalog');
          assert.match(e.message, /array/);
          assert.ok(e.fix.length > 10);
          return true;
        },
      );
    }
  });
});

describe('itemText and contentHash', () => {
  test('itemText joins title, category, tags, description and text fields', () => {
    assert.equal(itemText(good), 'Blue shirt. Shirts. cotton, blue. Soft cotton shirt. Acme');
    assert.equal(itemText({ id: 'x', title: 'Only title' }), 'Only title');
    assert.equal(itemText({ id: 'x', title: 'T', tags: [], description: '', text: {} }), 'T', 'empty parts are skipped');
  });

  test('contentHash is stable, 16 hex digits, and follows the embedded text only', () => {
    const h = contentHash(good);
    assert.match(h, /^[0-9a-f]{16}$/);
    assert.equal(h, contentHash({ ...good }));
    assert.equal(h, contentHash(JSON.parse(JSON.stringify(good)) as CatalogItem));
    assert.equal(h, contentHash(validateCatalog([good]).items[0]));
    // pinned values: the IndexedDB vector cache is keyed by them, so a change re-embeds every visitor's catalog
    assert.equal(fnv1a64(''), '811c9dc55ad1e806');
    assert.equal(contentHash({ id: 'x', title: 'Blue shirt' }), '6339ae99f3f41eaf');
    assert.equal(contentHash({ id: 'x', title: 'Only title' }), 'ddd81639d1f79b69');
    for (let i = 0; i < 2_000; i++) assert.match(fnv1a64(`text ${i} ${'é東🎬'.repeat(i % 5)}`), /^[0-9a-f]{16}$/, 'always 16 hex digits');

    for (const changed of [
      { ...good, title: 'Red shirt' },
      { ...good, description: 'Soft cotton shirts' },
      { ...good, category: 'Tops' },
      { ...good, tags: ['cotton'] },
      { ...good, tags: ['blue', 'cotton'] },
      { ...good, text: { brand: 'Acme2' } },
      { ...good, text: { brand: 'Acme', fit: 'slim' } },
    ]) {
      assert.notEqual(contentHash(changed), h, JSON.stringify(changed));
    }
    assert.equal(
      contentHash({ ...good, price: 99, available: false, imageUrl: '/b.png', id: 'other' }),
      h,
      'price, availability, image and id are not embedded text',
    );
    // many distinct texts give distinct hashes
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(contentHash({ id: 'x', title: `item ${i}` }));
    assert.equal(seen.size, 20_000);
  });
});
