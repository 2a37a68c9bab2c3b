/**
 * Word tokenizer for the GloVe-based default encoder. The model build and the
 * engine (browser worker and Node tools) all call this one implementation, so
 * training-time and run-time token ids cannot drift apart.
 *
 * Rules (documented in the model card):
 * - Unicode NFKC normalisation, then lower case; the first `maxChars`
 *   characters are read (default 10,000), the rest ignored.
 * - Tokens are runs of letters/digits, optionally joined by `-`, `'` or `.`
 *   (so "sci-fi", "o'brien", "u.s" stay whole when the vocabulary has them).
 * - A token missing from the vocabulary is tried without diacritics, then split
 *   at its joiners ("schindler's" -> "schindler" + "'s"); parts still unknown
 *   are dropped and counted.
 * - At most `maxTokens` ids per text (default 256): longer texts are truncated.
 * - Id 0 is padding; vocabulary line i (0-based) has id i + 1.
 */

import type { TokenizerSettings } from '../formats/manifest';

export type { TokenizerSettings } from '../formats/manifest';

export const DEFAULT_TOKENIZER_SETTINGS: TokenizerSettings = { maxTokens: 256, maxChars: 10_000 };

export interface Tokenized {
  ids: number[];
  unknown: number;
  truncated: boolean;
}

const TOKEN = /[\p{L}\p{N}]+(?:['\-.][\p{L}\p{N}]+)*/gu;
const JOINER = /(['\-.])/;
const MARKS = /\p{M}+/gu;

export class WordTokenizer {
  private readonly index: Map<string, number>;

  constructor(
    readonly vocabulary: readonly string[],
    readonly settings: TokenizerSettings = DEFAULT_TOKENIZER_SETTINGS,
  ) {
    this.index = new Map();
    vocabulary.forEach((w, i) => {
      if (!this.index.has(w)) this.index.set(w, i + 1);
    });
  }

  /** Parses a vocabulary file: one word per line, line i has id i + 1. */
  static fromVocabText(text: string, settings?: TokenizerSettings): WordTokenizer {
    const words = text.split('\n');
    if (words.length && words[words.length - 1] === '') words.pop();
    return new WordTokenizer(words, settings);
  }

  get vocabSize(): number {
    return this.vocabulary.length + 1;
  }

  /** Splits normalised text into candidate word strings (no lookup). */
  static words(text: string, maxChars = DEFAULT_TOKENIZER_SETTINGS.maxChars): string[] {
    if (typeof text !== 'string' || text.length === 0) return [];
    const clipped = text.length > maxChars ? text.slice(0, maxChars) : text;
    const norm = clipped
      .normalize('NFKC')
      .toLowerCase()
      .replace(/[\u2018\u2019\u02bc]/g, "'");
    return norm.match(TOKEN) ?? [];
  }

  idOf(word: string): number | undefined {
    return this.index.get(word);
  }

  encode(text: string): Tokenized {
    const ids: number[] = [];
    let unknown = 0;
    let truncated = false;
    const max = this.settings.maxTokens;
    const push = (id: number): boolean => {
      if (ids.length >= max) {
        truncated = true;
        return false;
      }
      ids.push(id);
      return true;
    };
    for (const word of WordTokenizer.words(text, this.settings.maxChars)) {
      const found = this.lookup(word);
      if (found !== undefined) {
        if (!push(found)) break;
        continue;
      }
      // split at joiners, keeping "'s" style suffixes as their own tokens
      const parts = word.split(JOINER).filter((p) => p.length > 0);
      let stop = false;
      for (let i = 0; i < parts.length && !stop; i++) {
        const p = parts[i];
        if (p === '-' || p === '.') continue;
        if (p === "'") {
          const next = parts[i + 1];
          if (next !== undefined) {
            const suffix = this.lookup(`'${next}`);
            if (suffix !== undefined) {
              stop = !push(suffix);
              i++;
            }
          }
          continue;
        }
        const id = this.lookup(p);
        if (id !== undefined) stop = !push(id);
        else unknown++;
      }
      if (stop) break;
    }
    if (!truncated && typeof text === 'string' && text.length > this.settings.maxChars) truncated = true;
    return { ids, unknown, truncated };
  }

  private lookup(word: string): number | undefined {
    const id = this.index.get(word);
    if (id !== undefined) return id;
    const plain = word.normalize('NFD').replace(MARKS, '').normalize('NFC');
    return plain !== word ? this.index.get(plain) : undefined;
  }

  /** Encodes a batch into a zero-padded row-major id matrix [texts, maxLen] (maxLen >= 1). */
  encodeBatch(texts: readonly string[]): { ids: BigInt64Array; rows: number; cols: number; tokenized: Tokenized[] } {
    const tokenized = texts.map((t) => this.encode(t));
    // a loop, not Math.max(...lengths): spreading ~125k+ arguments overflows the call stack
    let cols = 1;
    for (const t of tokenized) if (t.ids.length > cols) cols = t.ids.length;
    const ids = new BigInt64Array(texts.length * cols);
    tokenized.forEach((t, r) => t.ids.forEach((id, c) => (ids[r * cols + c] = BigInt(id))));
    return { ids, rows: texts.length, cols, tokenized };
  }
}
