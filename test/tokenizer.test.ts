import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { WordTokenizer } from '../src/model/tokenizer';

const small = new WordTokenizer(['the', 'cafe', 'sci-fi', 'film', 'noir', 'schindler', "'s", 'hello', 'fine', 'word', '1995', 'u.s']);
const id = (w: string): number => small.idOf(w) as number;
const shipped = WordTokenizer.fromVocabText(readFileSync(join(import.meta.dirname, '..', 'public', 'models', 'glove-sif-100d', 'vocab.txt'), 'utf8'));

describe('WordTokenizer', () => {
  test('empty, whitespace-only and punctuation-only texts give no ids', () => {
    for (const t of ['', '   \n\t', '!!! ... ,,, ---']) assert.deepEqual(small.encode(t).ids, []);
  });

  test('non-string input at run time gives no ids instead of throwing', () => {
    for (const t of [undefined, null, 42, {}, []]) assert.deepEqual(small.encode(t as unknown as string).ids, []);
  });

  test('case and NFKC normalisation', () => {
    assert.deepEqual(small.encode('HeLLo').ids, [id('hello')]);
    assert.deepEqual(small.encode('ＨＥＬＬＯ').ids, [id('hello')], 'full-width letters');
    assert.deepEqual(small.encode('ﬁne').ids, [id('fine')], 'ligature');
  });

  test('diacritics fall back to the plain word', () => {
    assert.deepEqual(small.encode('Café').ids, [id('cafe')]);
  });

  test('joined tokens: kept whole when known, split otherwise, suffixes kept', () => {
    assert.deepEqual(small.encode('Sci-Fi').ids, [id('sci-fi')]);
    assert.deepEqual(small.encode('Film-Noir').ids, [id('film'), id('noir')]);
    assert.deepEqual(small.encode("Schindler's").ids, [id('schindler'), id("'s")]);
    assert.deepEqual(small.encode('Schindler’s').ids, [id('schindler'), id("'s")], 'curly apostrophe');
    assert.deepEqual(small.encode('U.S.').ids, [id('u.s')]);
  });

  test('unknown words are dropped and counted', () => {
    const r = small.encode('hello zzqx blorp 1995');
    assert.deepEqual(r.ids, [id('hello'), id('1995')]);
    assert.equal(r.unknown, 2);
  });

  test('emoji, CJK and RTL text do not throw', () => {
    for (const t of ['🎬🍿 hello', '東京物語', 'مرحبا بالعالم', '\u202Ehello\u202C', '\uD800 lone surrogate']) {
      const r = small.encode(t);
      assert.ok(Array.isArray(r.ids));
    }
  });

  test('long texts are truncated at maxTokens and maxChars', () => {
    const tok = new WordTokenizer(['word'], { maxTokens: 5, maxChars: 100 });
    const r = tok.encode('word '.repeat(50));
    assert.equal(r.ids.length, 5);
    assert.equal(r.truncated, true);
    const chars = new WordTokenizer(['word'], { maxTokens: 1000, maxChars: 20 }).encode('word '.repeat(50));
    assert.equal(chars.ids.length, 4, 'only the first 20 characters are read');
    assert.equal(chars.truncated, true);
    const huge = shipped.encode('the '.repeat(300_000));
    assert.equal(huge.ids.length, 256);
  });

  test('ids are within the vocabulary; batches pad with 0 and have at least one column', () => {
    const r = shipped.encode('Toy Story (1995). Adventure, Animation, Children, Comedy, Fantasy, pixar');
    assert.ok(r.ids.length >= 8);
    assert.ok(r.ids.every((i) => Number.isInteger(i) && i >= 1 && i < shipped.vocabSize));
    const batch = shipped.encodeBatch(['heat', 'the shining', '']);
    assert.equal(batch.rows, 3);
    assert.equal(batch.cols, 2);
    assert.equal(batch.ids[1], 0n, 'short rows are padded with 0');
    assert.deepEqual(Array.from(batch.ids.slice(4, 6)), [0n, 0n]);
    const empty = shipped.encodeBatch(['', '']);
    assert.equal(empty.cols, 1);
    assert.deepEqual(Array.from(empty.ids), [0n, 0n]);
  });

  test('the shipped vocabulary covers genre words and common English', () => {
    for (const w of ['sci-fi', 'comedy', 'horror', 'documentary', 'animation', 'romance', 'running', 'shoes']) assert.ok(shipped.idOf(w), w);
  });
});
