import type { CatalogItem, CatalogProblem } from '../types';
import { RecommenderError } from '../errors';
import { publishedTime, validateAttributes } from './business-rules';

/** Limits a catalog item must respect; items beyond them are reported and skipped. */
export const CATALOG_LIMITS = {
  idLength: 256,
  titleLength: 1_000,
  descriptionLength: 20_000,
  textFieldLength: 20_000,
  textFields: 32,
  tags: 100,
  tagLength: 200,
  urlLength: 2_048,
  items: 2_000_000,
} as const;

export interface ValidatedCatalog {
  items: CatalogItem[];
  problems: CatalogProblem[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks every item; returns clean copies of the good ones (only known fields,
 * no prototype tricks) and one problem per bad item. Never throws for a bad
 * item, only when the catalog as a whole is not an array.
 */
export function validateCatalog(input: unknown): ValidatedCatalog {
  if (!Array.isArray(input)) {
    throw new RecommenderError(
      'invalid_catalog',
      `The catalog must be an array of items, got ${input === null ? 'null' : typeof input}.`,
      'Pass an array like [{ id: "sku-1", title: "Blue shirt" }] or the URL of a JSON file holding one.',
    );
  }
  if (input.length > CATALOG_LIMITS.items) {
    throw new RecommenderError(
      'invalid_catalog',
      `The catalog has ${input.length} items, more than the ${CATALOG_LIMITS.items} supported.`,
      'Split it, or ship ahead-of-time vectors for a smaller candidate set.',
    );
  }
  const items: CatalogItem[] = [];
  const problems: CatalogProblem[] = [];
  const seen = new Set<string>();
  input.forEach((raw, index) => {
    const result = validateItem(raw);
    if ('problem' in result) {
      problems.push({ index, ...result.problem });
      return;
    }
    if (seen.has(result.item.id)) {
      problems.push({ index, id: result.item.id, field: 'id', message: `duplicate id "${result.item.id}": only its first occurrence is kept` });
      return;
    }
    seen.add(result.item.id);
    items.push(result.item);
  });
  return { items, problems };
}

type ItemResult = { item: CatalogItem } | { problem: Omit<CatalogProblem, 'index'> };

function validateItem(raw: unknown): ItemResult {
  if (!isPlainObject(raw))
    return {
      problem: { field: 'item', message: `an item must be an object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'array' : typeof raw}` },
    };
  let id: string;
  const rawId = raw.id;
  if (typeof rawId === 'string') id = rawId;
  else if (typeof rawId === 'number' && Number.isFinite(rawId)) id = String(rawId);
  else return { problem: { field: 'id', message: `missing or invalid id (${describe(rawId)}): every item needs a string id` } };
  const bad = (field: string, message: string): ItemResult => ({ problem: { id, field, message } });
  if (id.length === 0 || id.length > CATALOG_LIMITS.idLength) return bad('id', `id must be 1..${CATALOG_LIMITS.idLength} characters`);
  if (typeof raw.title !== 'string' || raw.title.trim().length === 0)
    return bad('title', `missing or invalid title (${describe(raw.title)}): a non-empty string is required`);
  if (raw.title.length > CATALOG_LIMITS.titleLength)
    return bad('title', `title is ${raw.title.length} characters, the limit is ${CATALOG_LIMITS.titleLength}`);
  const item: CatalogItem = { id, title: raw.title };

  if (raw.description !== undefined) {
    if (typeof raw.description !== 'string') return bad('description', `description must be a string, got ${describe(raw.description)}`);
    if (raw.description.length > CATALOG_LIMITS.descriptionLength)
      return bad('description', `description is ${raw.description.length} characters, the limit is ${CATALOG_LIMITS.descriptionLength}`);
    item.description = raw.description;
  }
  if (raw.category !== undefined) {
    if (typeof raw.category !== 'string' || raw.category.length > CATALOG_LIMITS.tagLength)
      return bad('category', `category must be a string of at most ${CATALOG_LIMITS.tagLength} characters`);
    item.category = raw.category;
  }
  if (raw.tags !== undefined) {
    if (!Array.isArray(raw.tags) || raw.tags.length > CATALOG_LIMITS.tags)
      return bad('tags', `tags must be an array of at most ${CATALOG_LIMITS.tags} strings`);
    if (!raw.tags.every((t): t is string => typeof t === 'string' && t.length <= CATALOG_LIMITS.tagLength))
      return bad('tags', `every tag must be a string of at most ${CATALOG_LIMITS.tagLength} characters`);
    item.tags = [...raw.tags];
  }
  if (raw.price !== undefined) {
    if (typeof raw.price !== 'number' || !Number.isFinite(raw.price) || raw.price < 0)
      return bad('price', `price must be a finite number >= 0, got ${describe(raw.price)}`);
    item.price = raw.price;
  }
  if (raw.imageUrl !== undefined) {
    if (typeof raw.imageUrl !== 'string' || raw.imageUrl.length > CATALOG_LIMITS.urlLength || !isSafeUrl(raw.imageUrl))
      return bad('imageUrl', 'imageUrl must be an http(s) or relative URL');
    item.imageUrl = raw.imageUrl;
  }
  if (raw.available !== undefined) {
    if (typeof raw.available !== 'boolean') return bad('available', `available must be true or false, got ${describe(raw.available)}`);
    item.available = raw.available;
  }
  if (raw.attributes !== undefined) {
    try {
      item.attributes = validateAttributes(raw.attributes, 'attributes');
    } catch (e) {
      return bad('attributes', (e as Error).message);
    }
  }
  if (raw.publishedAt !== undefined) {
    if (
      (typeof raw.publishedAt !== 'string' && typeof raw.publishedAt !== 'number') ||
      publishedTime({ id, title: '-', publishedAt: raw.publishedAt }) === null
    )
      return bad('publishedAt', `publishedAt must be an ISO 8601 date or epoch milliseconds, got ${describe(raw.publishedAt)}`);
    item.publishedAt = raw.publishedAt;
  }
  if (raw.text !== undefined) {
    if (!isPlainObject(raw.text)) return bad('text', 'text must be an object of string fields');
    const entries = Object.entries(raw.text);
    if (entries.length > CATALOG_LIMITS.textFields)
      return bad('text', `text has ${entries.length} fields, the limit is ${CATALOG_LIMITS.textFields}`);
    const text: Record<string, string> = Object.create(null);
    for (const [k, v] of entries) {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue; // never copy prototype keys
      if (typeof v !== 'string' || v.length > CATALOG_LIMITS.textFieldLength)
        return bad(`text.${k}`, `text fields must be strings of at most ${CATALOG_LIMITS.textFieldLength} characters`);
      text[k] = v;
    }
    item.text = { ...text };
  }
  return { item };
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return Array.isArray(v) ? 'array' : typeof v;
}

/**
 * Asks the WHATWG URL parser, the one the browser will use: it drops leading
 * control characters and tabs/newlines anywhere, so "\x01javascript:..." and
 * "java\nscript:..." are javascript: URLs and must be refused too.
 */
function isSafeUrl(url: string): boolean {
  let protocol: string;
  try {
    protocol = new URL(url, 'https://catalog.invalid/').protocol;
  } catch {
    return false;
  }
  return protocol === 'http:' || protocol === 'https:';
}

/** The text the encoder reads for an item. */
export function itemText(item: CatalogItem): string {
  const parts = [item.title, item.category, item.tags?.join(', '), item.description, ...Object.values(item.text ?? {})];
  return parts.filter((p): p is string => typeof p === 'string' && p.length > 0).join('. ');
}

/** Fast, stable 64-bit FNV-1a hash (hex) of a string; keys the vector cache. Not a security hash. */
export function fnv1a64(text: string): string {
  let h1 = 0x811c9dc5 >>> 0;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
    h2 ^= h2 >>> 13;
  }
  // `h2 ^= h2 >>> 13` leaves a signed int32: read it unsigned, or half the hashes print as "-1a2b3c4" instead of hex
  return h1.toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** Hash of exactly what the encoder reads: an item is re-embedded only when this changes. */
export function contentHash(item: CatalogItem): string {
  return fnv1a64(itemText(item));
}
