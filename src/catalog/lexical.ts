/**
 * Lexical side of personalised search: an inverted index over the words of
 * each item's title, category and tags, scored with BM25-style idf weights.
 * The semantic side is the encoder; the engine blends the two with the profile.
 */
import type { CatalogItem } from '../types';
import { WordTokenizer } from '../encoding/tokenizer';

export class LexicalIndex {
  private readonly postings = new Map<string, number[]>();
  private readonly words: string[] = [];

  constructor(items: readonly CatalogItem[]) {
    items.forEach((item, i) => {
      const text = [item.title, item.category ?? '', ...(item.tags ?? [])].join(' ');
      for (const w of new Set(WordTokenizer.words(text))) {
        let list = this.postings.get(w);
        if (!list) {
          list = [];
          this.postings.set(w, list);
          this.words.push(w);
        }
        list.push(i);
      }
    });
    this.words.sort();
    this.count = items.length;
  }

  private readonly count: number;

  /** Scores in [0, 1] per item: share of the query's idf mass the item matches. The last query word also matches as a prefix (search as you type). */
  score(query: string): Float32Array {
    const out = new Float32Array(this.count);
    const terms = [...new Set(WordTokenizer.words(query))];
    if (terms.length === 0) return out;
    let mass = 0;
    terms.forEach((term, t) => {
      const exact = this.postings.get(term);
      const matched = new Set<number>(exact ?? []);
      if (t === terms.length - 1 && term.length >= 2) for (const i of this.prefixPostings(term)) matched.add(i);
      const df = Math.max(1, matched.size);
      const idf = Math.log(1 + (this.count - df + 0.5) / (df + 0.5));
      mass += idf;
      for (const i of matched) out[i] += idf;
    });
    if (mass > 0) for (let i = 0; i < out.length; i++) out[i] /= mass;
    return out;
  }

  private prefixPostings(prefix: string): number[] {
    // binary search the sorted word list for the first word >= prefix
    let lo = 0;
    let hi = this.words.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.words[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let i = lo; i < this.words.length && this.words[i].startsWith(prefix) && out.length < 50_000; i++) {
      if (this.words[i] !== prefix) out.push(...(this.postings.get(this.words[i]) ?? []));
    }
    return out;
  }
}
