/**
 * Checks the options a page passes to recommend(): every wrong type gets a
 * RecommenderError saying what was wrong and what to pass instead, before any
 * ranking code sees it. Returns a clean copy with only the known fields.
 */
import { RecommenderError } from './errors';
import type { RecommendFilters, RecommendOptions } from './types';

const MAX_LIST = 10_000;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringList(v: unknown, what: string, example: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_LIST || !v.every((s) => typeof s === 'string')) {
    throw new RecommenderError('invalid_options', `${what} must be an array of at most ${MAX_LIST} strings.`, `Pass e.g. ${example}.`);
  }
  return [...v];
}

function price(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RecommenderError('invalid_options', `${what} must be a finite number.`, `Pass e.g. { filters: { ${what.split('.').pop()}: 50 } }, or leave it out.`);
  return v;
}

export function validateRecommendOptions(options: unknown): RecommendOptions {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw new RecommenderError('invalid_options', 'recommend() options must be an object.', 'Call recommend({ k: 10 }) or recommend().');
  const clean: RecommendOptions = {};
  if (options.k !== undefined) clean.k = options.k as number; // range-checked where k is used
  if (options.context !== undefined) {
    if (!isPlainObject(options.context)) throw new RecommenderError('invalid_options', 'recommend() context must be a plain object.', 'Pass e.g. { context: { page: "home" } }.');
    clean.context = options.context as RecommendOptions['context'];
  }
  if (options.exclude !== undefined) clean.exclude = stringList(options.exclude, 'exclude', '{ exclude: ["sku-1"] }');
  if (options.filters !== undefined) {
    const f = options.filters;
    if (!isPlainObject(f)) throw new RecommenderError('invalid_options', 'recommend() filters must be an object.', 'Pass e.g. { filters: { categories: ["Comedy"], maxPrice: 50 } }.');
    const filters: RecommendFilters = {};
    if (f.categories !== undefined) filters.categories = stringList(f.categories, 'filters.categories', '{ filters: { categories: ["Comedy"] } }');
    if (f.tags !== undefined) filters.tags = stringList(f.tags, 'filters.tags', '{ filters: { tags: ["vegan"] } }');
    if (f.minPrice !== undefined) filters.minPrice = price(f.minPrice, 'filters.minPrice');
    if (f.maxPrice !== undefined) filters.maxPrice = price(f.maxPrice, 'filters.maxPrice');
    if (f.includeUnavailable !== undefined) {
      if (typeof f.includeUnavailable !== 'boolean') throw new RecommenderError('invalid_options', 'filters.includeUnavailable must be true or false.', 'Pass { filters: { includeUnavailable: true } } or leave it out.');
      filters.includeUnavailable = f.includeUnavailable;
    }
    clean.filters = filters;
  }
  return clean;
}
