/**
 * WordTokenizer edge cases, on a small hand-made vocabulary (exact ids) and on
 * the shipped GloVe vocabulary (public/models/glove-sif-100d/vocab.txt).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_TOKENIZER_SETTINGS, WordTokenizer, type Tokenized } from '../src/encoding/tokenizer';

const SMALL_VOCAB = ['the', 'cafe', 'sci-fi', 'film', 'noir', 'schindler', "'s", 'hello', 'world', 'fine', 'word', '1995', 'u.s', 'naive', 'list'];
const small = new WordTokenizer(SMALL_VOCAB);
const VOCAB_TEXT = readFileSync(join(import.meta.dirname, '..', 'public', 'models', 'glove-sif-100d', 'vocab.txt'), 'utf8');
const shipped = WordTokenizer.fromVocabText(VOCAB_TEXT);
const BOTH: [string, WordTokenizer][] = [
  ['small', small],
  ['shipped', shipped],
];

/** Id of a word the vocabulary must have. */
function idIn(tok: WordTokenizer, w: string): number {
  const id = tok.idOf(w);
  assert.ok(id !== undefined, `"${w}" is in the vocabulary`);
  return id;
}
const ids = (tok: WordTokenizer, ...words: string[]): number[] => words.map((w) => idIn(tok, w));

function assertValidIds(tok: WordTokenizer, r: Tokenized, label: string): void {
  assert.ok(Array.isArray(r.ids), label);
  for (const id of r.ids) assert.ok(Number.isInteger(id) && id >= 1 && id < tok.vocabSize, `${label}: id ${id} outside [1, ${tok.vocabSize})`);
  assert.ok(r.ids.length <= tok.settings.maxTokens, label);
  assert.ok(Number.isInteger(r.unknown) && r.unknown >= 0, label);
}

describe('WordTokenizer: vocabulary files', () => {
  test('vocabulary line i has id i + 1; id 0 is padding; vocabSize counts it', () => {
    assert.equal(small.vocabSize, SMALL_VOCAB.length + 1);
    SMALL_VOCAB.forEach((w, i) => assert.equal(small.idOf(w), i + 1));
    const lines = VOCAB_TEXT.split('\n').filter((l, i, all) => !(i === all.length - 1 && l === ''));
    assert.equal(shipped.vocabSize, lines.length + 1);
    assert.equal(shipped.idOf(lines[0]), 1);
    assert.equal(shipped.idOf(lines[lines.length - 1]), lines.length);
    assert.equal(shipped.settings, DEFAULT_TOKENIZER_SETTINGS);
  });

  test('fromVocabText tolerates a missing trailing newline and keeps the first of duplicate words', () => {
    const a = WordTokenizer.fromVocabText('alpha\nbeta\n');
    const b = WordTokenizer.fromVocabText('alpha\nbeta');
    assert.equal(a.vocabSize, 3);
    assert.equal(b.vocabSize, 3);
    assert.equal(b.idOf('beta'), 2);
    assert.equal(WordTokenizer.fromVocabText('x\ny\nx\n').idOf('x'), 1);
  });

  test('the shipped vocabulary covers genre words and common English', () => {
    for (const w of ['sci-fi', 'comedy', 'horror', 'documentary', 'animation', 'romance', 'thriller', 'running', 'shoes', 'space', 'alien', 'cafe'])
      assert.ok(shipped.idOf(w), w);
  });
});

describe('WordTokenizer: edge cases', () => {
  test('empty, whitespace-only and punctuation-only texts give no ids and no unknowns', () => {
    for (const [name, tok] of BOTH) {
      for (const t of ['', ' ', '   \n\t\r  ', '\u00a0\u2003\u3000', '!!! ... ,,, --- ??? ;:() [] {} "" \'\' / \\ * & ^ % $ # @ ~ `', "- . '"]) {
        const r = tok.encode(t);
        assert.deepEqual(r, { ids: [], unknown: 0, truncated: false }, `${name}: ${JSON.stringify(t)}`);
      }
      assert.deepEqual(WordTokenizer.words('  ...  '), []);
    }
  });

  test('non-string input at run time gives no ids instead of throwing', () => {
    for (const [name, tok] of BOTH) {
      for (const t of [undefined, null, 42, Number.NaN, true, {}, [], ['hello'], { toString: () => 'hello' }, Symbol('s'), 10n]) {
        const r = tok.encode(t as unknown as string);
        assert.deepEqual(r, { ids: [], unknown: 0, truncated: false }, `${name}: ${String(typeof t)}`);
      }
      const batch = tok.encodeBatch([null, 'hello', undefined] as unknown as string[]);
      assert.equal(batch.rows, 3, name);
      assert.equal(batch.cols, 1, name);
      assert.deepEqual(Array.from(batch.ids), [0n, BigInt(idIn(tok, 'hello')), 0n], name);
    }
  });

  test('mixed case is lower-cased', () => {
    for (const [name, tok] of BOTH) {
      const want = ids(tok, 'hello', 'world');
      for (const t of ['hello world', 'HELLO WORLD', 'HeLLo wOrLd', 'Hello, World!']) assert.deepEqual(tok.encode(t).ids, want, `${name}: ${t}`);
    }
  });

  test('NFKC: full-width letters and ligatures read as plain letters', () => {
    for (const [name, tok] of BOTH) {
      assert.deepEqual(tok.encode('ＨＥＬＬＯ').ids, ids(tok, 'hello'), `${name}: full-width letters`);
      assert.deepEqual(tok.encode('ｈｅｌｌｏ　ｗｏｒｌｄ').ids, ids(tok, 'hello', 'world'), `${name}: full-width letters and space`);
      assert.deepEqual(tok.encode('ﬁne').ids, ids(tok, 'fine'), `${name}: ligature fi`);
      assert.deepEqual(tok.encode('ﬁlm-noir').ids, ids(tok, 'film', 'noir'), `${name}: ligature inside a joined word`);
    }
    assert.deepEqual(WordTokenizer.words('ＳＣＩ－ＦＩ'), ['sci-fi'], 'full-width hyphen-minus normalises to "-"');
  });

  test('diacritics fall back to the plain word when only it is known', () => {
    assert.equal(shipped.idOf('café'), undefined, 'the shipped vocabulary has only "cafe"');
    for (const [name, tok] of BOTH) {
      assert.deepEqual(tok.encode('café').ids, ids(tok, 'cafe'), `${name}: precomposed é`);
      assert.deepEqual(tok.encode('CAFÉ').ids, ids(tok, 'cafe'), `${name}: upper case É`);
      assert.deepEqual(tok.encode('cafe\u0301').ids, ids(tok, 'cafe'), `${name}: e + combining acute (NFKC composes it)`);
      assert.deepEqual(tok.encode('naïve').ids, ids(tok, 'naive'), `${name}: ï`);
      assert.equal(tok.encode('café').unknown, 0);
    }
    const accented = new WordTokenizer(['café', 'cafe']);
    assert.deepEqual(accented.encode('café cafe').ids, [1, 2], 'an accented word in the vocabulary wins over the fallback');
  });

  test("curly apostrophes read as ' (schindler’s, modifier letter apostrophe)", () => {
    for (const [name, tok] of BOTH) {
      const straight = tok.encode("Schindler's List");
      for (const t of ['Schindler’s List', 'Schindler‘s List', 'Schindlerʼs List']) assert.deepEqual(tok.encode(t), straight, `${name}: ${t}`);
    }
    assert.deepEqual(WordTokenizer.words('Schindler’s'), ["schindler's"]);
  });

  test('a hyphenated compound is kept whole when in the vocabulary and split when not', () => {
    for (const [name, tok] of BOTH) {
      assert.equal(tok.idOf('film-noir'), undefined, name);
      assert.deepEqual(tok.encode('Sci-Fi').ids, ids(tok, 'sci-fi'), `${name}: sci-fi is one token`);
      const noir = tok.encode('Film-Noir');
      assert.deepEqual(noir.ids, ids(tok, 'film', 'noir'), `${name}: film-noir -> film, noir`);
      assert.equal(noir.unknown, 0, name);
      assert.deepEqual(tok.encode('film-zzqxv').ids, ids(tok, 'film'), `${name}: known part kept`);
      assert.equal(tok.encode('film-zzqxv').unknown, 1, `${name}: unknown part counted`);
    }
    assert.deepEqual(small.encode('U.S.').ids, ids(small, 'u.s'), 'dotted abbreviation kept whole (trailing dot is not part of the token)');
  });

  test("schindler's -> schindler + 's (the suffix is its own token when known)", () => {
    assert.deepEqual(small.encode("Schindler's").ids, ids(small, 'schindler', "'s"));
    assert.equal(small.encode("Schindler's").unknown, 0);
    // the shipped GloVe subset has no "'s" entry: the suffix is then dropped and counted
    const r = shipped.encode("Schindler's List");
    const suffix = shipped.idOf("'s");
    assert.deepEqual(r.ids, suffix === undefined ? ids(shipped, 'schindler', 'list') : [idIn(shipped, 'schindler'), suffix, idIn(shipped, 'list')]);
    assert.equal(r.unknown, suffix === undefined ? 1 : 0);
  });

  test('unknown words are dropped and counted', () => {
    const r = small.encode('hello zzqx blorp 1995 zzqx');
    assert.deepEqual(r.ids, ids(small, 'hello', '1995'));
    assert.equal(r.unknown, 3);
    const s = shipped.encode('zzqxv comedy blorptastic qqqwwwzzz');
    assert.deepEqual(s.ids, ids(shipped, 'comedy'));
    assert.equal(s.unknown, 3);
    assert.deepEqual(shipped.encode('zzqxv blorptastic'), { ids: [], unknown: 2, truncated: false });
  });

  test('emoji, CJK, RTL, control and broken surrogate text do not throw', () => {
    const texts = [
      '🎬🍿 hello 👩‍👩‍👧‍👦 world 🇫🇷',
      '東京物語 Tokyo Story (1953)',
      '千と千尋の神隠し',
      '기생충 parasite',
      'مرحبا بالعالم hello',
      'שלום עולם',
      '\u202Ehello\u202C \u200F\u200E\u200B',
      '\uD800 lone surrogate \uDC00',
      '\u0000\u0001\u0007 hello \uFFFD\uFEFF',
      'z\u0300\u0301\u0302\u0303\u0304 zalgo',
      'नमस्ते दुनिया',
      '𝐇𝐞𝐥𝐥𝐨 𝔴𝔬𝔯𝔩𝔡',
    ];
    for (const [name, tok] of BOTH) {
      for (const t of texts) {
        const r = tok.encode(t);
        assertValidIds(tok, r, `${name}: ${JSON.stringify(t)}`);
      }
      assert.deepEqual(tok.encode('🎬🍿 hello 👩‍👩‍👧‍👦 world 🇫🇷').ids, ids(tok, 'hello', 'world'), `${name}: emoji are skipped`);
      assert.deepEqual(tok.encode('𝐇𝐞𝐥𝐥𝐨').ids, ids(tok, 'hello'), `${name}: mathematical bold letters (NFKC)`);
    }
    assert.deepEqual(shipped.encode('東京物語 Tokyo Story (1953)').ids.slice(-2), ids(shipped, 'tokyo', 'story'));
  });

  test('long texts are truncated at maxTokens (truncated = true)', () => {
    const tok = new WordTokenizer(['word'], { maxTokens: 5, maxChars: 100 });
    const r = tok.encode('word '.repeat(50));
    assert.deepEqual(r.ids, [1, 1, 1, 1, 1]);
    assert.equal(r.truncated, true);
    const exact = tok.encode('word '.repeat(5));
    assert.equal(exact.ids.length, 5);
    assert.equal(exact.truncated, false, 'exactly maxTokens ids is not truncation');
    // a joined word split into parts stops at the limit too
    const split = new WordTokenizer(['a', 'b'], { maxTokens: 3, maxChars: 100 }).encode('a-b-a-b-a');
    assert.deepEqual(split.ids, [1, 2, 1]);
    assert.equal(split.truncated, true);

    const huge = shipped.encode('the comedy '.repeat(300_000));
    assert.equal(huge.ids.length, DEFAULT_TOKENIZER_SETTINGS.maxTokens);
    assert.equal(huge.ids.length, 256);
    assert.equal(huge.truncated, true);
  });

  test('only the first maxChars characters are read', () => {
    const chars = new WordTokenizer(['word'], { maxTokens: 1000, maxChars: 20 }).encode('word '.repeat(50));
    assert.equal(chars.ids.length, 4, 'only the first 20 characters are read');
    assert.equal(chars.truncated, true);
    assert.equal(new WordTokenizer(['word'], { maxTokens: 1000, maxChars: 20 }).encode('word '.repeat(4)).truncated, false);

    const settings = { maxTokens: 100_000, maxChars: 70 };
    const tok = WordTokenizer.fromVocabText(VOCAB_TEXT, settings);
    const r = tok.encode('comedy '.repeat(100)); // 7 characters a word: 10 words in 70 characters
    assert.deepEqual(r.ids, Array(10).fill(idIn(tok, 'comedy')));
    assert.equal(r.truncated, true);
    assert.deepEqual(WordTokenizer.words('comedy '.repeat(100), 70).length, 10);

    // default: 10,000 characters
    const words = shipped.encode(`${'x'.repeat(10_000)} comedy`);
    assert.deepEqual(words.ids, [], 'a word after the first 10,000 characters is not read');
    assert.equal(words.truncated, true);
  });

  test('ids are within [1, vocabSize) on varied texts', () => {
    const texts = [
      'Toy Story (1995). Adventure, Animation, Children, Comedy, Fantasy, pixar',
      'Heat (1995). Action. Action, Crime, Thriller',
      "Schindler's List (1993). Drama. Drama, War",
      'red running shoes for trail marathon, size 42, 20% off!',
      'e-mail me at someone@example.com or visit https://example.com/a-b?c=d',
      "rock'n'roll o'brien u.s.a. 3.14 1,000,000 2nd 21st",
      VOCAB_TEXT.slice(0, 5_000),
      VOCAB_TEXT.slice(-5_000),
    ];
    for (const [name, tok] of BOTH) for (const t of texts) assertValidIds(tok, tok.encode(t), `${name}: ${t.slice(0, 30)}`);
    // every vocabulary word maps to its own id
    const lines = VOCAB_TEXT.trimEnd().split('\n');
    for (let i = 0; i < lines.length; i += 97) assert.equal(shipped.idOf(lines[i]), i + 1);
    assert.ok(shipped.encode(texts[0]).ids.length >= 8);
  });

  test('encodeBatch pads with 0, is row-major, and has cols >= 1 even for an all-empty batch', () => {
    const batch = shipped.encodeBatch(['heat', 'the shining', '', 'zzqxv']);
    assert.equal(batch.rows, 4);
    assert.equal(batch.cols, 2);
    assert.equal(batch.ids.length, 8);
    assert.deepEqual(Array.from(batch.ids), [
      BigInt(idIn(shipped, 'heat')),
      0n,
      BigInt(idIn(shipped, 'the')),
      BigInt(idIn(shipped, 'shining')),
      0n,
      0n,
      0n,
      0n,
    ]);
    assert.deepEqual(
      batch.tokenized.map((t) => t.unknown),
      [0, 0, 0, 1],
    );

    const empty = shipped.encodeBatch(['', '  ', '!!!']);
    assert.equal(empty.cols, 1);
    assert.equal(empty.rows, 3);
    assert.deepEqual(Array.from(empty.ids), [0n, 0n, 0n]);

    const none = shipped.encodeBatch([]);
    assert.equal(none.rows, 0);
    assert.equal(none.cols, 1);
    assert.equal(none.ids.length, 0);

    const full = shipped.encodeBatch(['comedy '.repeat(1000), 'drama']);
    assert.equal(full.cols, 256);
    assert.equal(full.ids[256], BigInt(idIn(shipped, 'drama')));
    assert.equal(full.ids[257], 0n);
  });

  test('encodeBatch handles very large batches (no argument-spread stack overflow)', () => {
    const texts = Array.from({ length: 250_000 }, (_, i) => (i === 123_456 ? 'hello world' : ''));
    const batch = small.encodeBatch(texts);
    assert.equal(batch.rows, 250_000);
    assert.equal(batch.cols, 2);
    assert.equal(batch.ids[123_456 * 2 + 1], BigInt(idIn(small, 'world')));
  });

  test('encoding is deterministic and does not depend on earlier calls', () => {
    const t = 'Amélie (2001). Comedy, Romance, paris, quirky — ＦＵＬＬ-width ﬁne';
    const first = shipped.encode(t);
    shipped.encode('something else entirely 東京');
    assert.deepEqual(shipped.encode(t), first);
    assert.deepEqual(WordTokenizer.fromVocabText(VOCAB_TEXT).encode(t), first);
  });
});
