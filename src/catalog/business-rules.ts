/**
 * Business rules of a call or placement (`rules` of recommend(), similar(), search()):
 * validated here (a RecommenderError naming the rule and the fix), then applied in
 * this order by the ranking pipeline, after the final scores and before MMR and
 * exploration compose the slate:
 *
 * 1. `excludeWhere`: part of the one rule set (rules.ts exclusionMask), so exact
 *    ranking and large-catalog retrieval both leave those items out;
 * 2. `boost`, `bury`, `freshness`: the scores move (applyScoreRules);
 * 3. `maxPerCategory`: only the best `n` allowed items of each category (pinned ones
 *    counted) keep a score, so no slate drawn from the scores, exploration's open
 *    slots included, can hold more than `n` of one category;
 * 4. `pin`: the pinned items leave the scores and are put at their slots once the
 *    slate is composed (insertPins), with propensity 1.
 *
 * Because rules 1-3 change what the bandit chooses from *before* it chooses, and
 * pins are deterministic, every logged propensity is that of the slate shown.
 */
import type { AttributeMatch, BusinessRules, CatalogItem, ItemUpdate, ScoreRule } from '../types';
import { RecommenderError } from '../errors';

const MAX_RULES = 100;
const MAX_PINS = 50;
const DAY_MS = 86_400_000;

type Value = string | number | boolean;
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isValue = (v: unknown): v is Value => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

function fail(message: string, fix: string): never {
  throw new RecommenderError('invalid_options', message, fix);
}

function finite(v: unknown, what: string, fix: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${what} must be a finite number, got ${JSON.stringify(v) ?? typeof v}.`, fix);
  return v;
}

function validateMatch(raw: unknown, what: string): AttributeMatch {
  const fix = `Pass e.g. ${what.replace(/\[\d+\]$/, '')}: [{ attribute: "brand", equals: ["Acme"] }] or { attribute: "price", max: 20 }.`;
  if (!isPlainObject(raw)) fail(`${what} must be an object.`, fix);
  if (typeof raw.attribute !== 'string' || raw.attribute.length === 0 || raw.attribute.length > 64)
    fail(`${what}.attribute must be a name of 1 to 64 characters (category, tags, price, available or a key of the item's attributes).`, fix);
  const match: AttributeMatch = { attribute: raw.attribute };
  if (raw.equals !== undefined) {
    const list = Array.isArray(raw.equals) ? raw.equals : [raw.equals];
    if (list.length === 0 || list.length > 1000 || !list.every(isValue))
      fail(`${what}.equals must be a string, number or boolean, or a list of 1 to 1000 of them.`, fix);
    match.equals = Array.isArray(raw.equals) ? [...list] : list[0];
  }
  if (raw.min !== undefined) match.min = finite(raw.min, `${what}.min`, fix);
  if (raw.max !== undefined) match.max = finite(raw.max, `${what}.max`, fix);
  if (match.equals === undefined && match.min === undefined && match.max === undefined)
    fail(`${what} matches every item: it needs equals, min or max.`, fix);
  if (match.min !== undefined && match.max !== undefined && match.min > match.max) fail(`${what}.min is above its max.`, 'Swap min and max.');
  return match;
}

function validateScoreRule(raw: unknown, what: string, kind: 'boost' | 'bury'): ScoreRule {
  const rule: ScoreRule = validateMatch(raw, what);
  const r = raw as Record<string, unknown>;
  const example = kind === 'boost' ? '{ multiply: 1.5 } or { add: 0.2 }' : '{ multiply: 0.5 } or { add: -0.2 }';
  const fix = `Give ${what} ${example}.`;
  if (r.multiply !== undefined) {
    const m = finite(r.multiply, `${what}.multiply`, fix);
    if (kind === 'boost' ? m < 1 || m > 100 : m <= 0 || m > 1)
      fail(
        `${what}.multiply must be ${kind === 'boost' ? 'from 1 to 100 (a boost lifts)' : 'above 0 and at most 1 (a bury lowers)'}, got ${m}.`,
        fix,
      );
    rule.multiply = m;
  }
  if (r.add !== undefined) {
    const a = finite(r.add, `${what}.add`, fix);
    if (kind === 'boost' ? a < 0 || a > 100 : a > 0 || a < -100)
      fail(`${what}.add must be ${kind === 'boost' ? 'from 0 to 100' : 'from -100 to 0'}, got ${a}.`, fix);
    rule.add = a;
  }
  if (rule.multiply === undefined && rule.add === undefined) fail(`${what} has no weight: it needs multiply or add.`, fix);
  return rule;
}

function list<T>(raw: unknown, what: string, max: number, each: (v: unknown, what: string) => T): T[] {
  if (!Array.isArray(raw) || raw.length > max)
    fail(`rules.${what} must be an array of at most ${max} rules.`, `Pass e.g. rules: { ${what}: [ ... ] }.`);
  return raw.map((v, i) => each(v, `rules.${what}[${i}]`));
}

/** A clean copy of the `rules` of a call, or a RecommenderError naming the wrong rule and the fix. */
export function validateRules(raw: unknown): BusinessRules {
  if (!isPlainObject(raw)) fail('rules must be an object.', 'Pass e.g. { rules: { maxPerCategory: 2 } }, or leave it out.');
  const known = new Set(['pin', 'boost', 'bury', 'excludeWhere', 'freshness', 'maxPerCategory']);
  for (const key of Object.keys(raw)) if (!known.has(key)) fail(`rules.${key} is not a rule.`, `Use ${[...known].join(', ')}; check the spelling.`);
  const rules: BusinessRules = {};
  if (raw.pin !== undefined) {
    const fix = 'Pass e.g. rules: { pin: [{ itemId: "sku-1", slot: 0 }] } (slot counts from 0).';
    const slots = new Set<number>();
    rules.pin = list(raw.pin, 'pin', MAX_PINS, (v, what) => {
      if (!isPlainObject(v) || typeof v.itemId !== 'string' || v.itemId.length === 0) fail(`${what} needs an itemId string.`, fix);
      if (typeof v.slot !== 'number' || !Number.isInteger(v.slot) || v.slot < 0 || v.slot > 499)
        fail(`${what}.slot must be an integer from 0 to 499, got ${JSON.stringify(v.slot) ?? typeof v.slot}.`, fix);
      if (slots.has(v.slot)) fail(`${what} pins a second item to slot ${v.slot}.`, 'Give every pinned item its own slot.');
      slots.add(v.slot);
      return { itemId: v.itemId, slot: v.slot };
    });
  }
  if (raw.boost !== undefined) rules.boost = list(raw.boost, 'boost', MAX_RULES, (v, w) => validateScoreRule(v, w, 'boost'));
  if (raw.bury !== undefined) rules.bury = list(raw.bury, 'bury', MAX_RULES, (v, w) => validateScoreRule(v, w, 'bury'));
  if (raw.excludeWhere !== undefined) rules.excludeWhere = list(raw.excludeWhere, 'excludeWhere', MAX_RULES, validateMatch);
  if (raw.freshness !== undefined) {
    const f = raw.freshness;
    const fix = 'Pass e.g. rules: { freshness: { halfLifeDays: 14, weight: 0.2 } }.';
    if (!isPlainObject(f)) fail('rules.freshness must be an object.', fix);
    const halfLifeDays = finite(f.halfLifeDays, 'rules.freshness.halfLifeDays', fix);
    const weight = finite(f.weight, 'rules.freshness.weight', fix);
    if (halfLifeDays <= 0 || halfLifeDays > 36_500) fail(`rules.freshness.halfLifeDays must be above 0 and at most 36500, got ${halfLifeDays}.`, fix);
    if (weight < 0 || weight > 100) fail(`rules.freshness.weight must be from 0 to 100, got ${weight}.`, fix);
    rules.freshness = { halfLifeDays, weight };
  }
  if (raw.maxPerCategory !== undefined) {
    const n = raw.maxPerCategory;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 500)
      fail(`rules.maxPerCategory must be an integer from 1 to 500, got ${JSON.stringify(n) ?? typeof n}.`, 'Pass e.g. rules: { maxPerCategory: 2 }.');
    rules.maxPerCategory = n;
  }
  return rules;
}

function valuesOf(item: CatalogItem, attribute: string): Value[] {
  switch (attribute) {
    case 'category':
      return item.category === undefined ? [] : [item.category];
    case 'tags':
      return item.tags ?? [];
    case 'price':
      return item.price === undefined ? [] : [item.price];
    case 'available':
      return [item.available !== false];
    default: {
      const a = item.attributes;
      return a && Object.prototype.hasOwnProperty.call(a, attribute) ? [a[attribute]] : [];
    }
  }
}

/** Whether an item matches: one of its values is in `equals` and within min..max. */
export function matches(item: CatalogItem, m: AttributeMatch): boolean {
  const equals = m.equals === undefined ? null : Array.isArray(m.equals) ? m.equals : [m.equals];
  return valuesOf(item, m.attribute).some(
    (v) =>
      (!equals || equals.includes(v)) &&
      (m.min === undefined || (typeof v === 'number' && v >= m.min)) &&
      (m.max === undefined || (typeof v === 'number' && v <= m.max)),
  );
}

/** Epoch milliseconds of an item's publishedAt, or null. */
export function publishedTime(item: CatalogItem): number | null {
  const t = typeof item.publishedAt === 'number' ? item.publishedAt : typeof item.publishedAt === 'string' ? Date.parse(item.publishedAt) : NaN;
  return Number.isFinite(t) ? t : null;
}

/** A multiplicative weight that lifts (m > 1) or lowers (m < 1) a score whatever its sign. */
const scaled = (s: number, m: number): number => (s >= 0 ? s * m : s / m);

/**
 * Boost, bury, freshness, then the category cap, in place, on the final scores of
 * `items` (-Infinity stays -Infinity). `pinned`: indices put aside for pins (left
 * out of the scores, and counted in their category's cap).
 */
export function applyScoreRules(
  scores: Float32Array,
  items: readonly CatalogItem[],
  rules: BusinessRules,
  now: number,
  pinned: readonly number[] = [],
): void {
  for (const i of pinned) scores[i] = -Infinity;
  const weights = [...(rules.boost ?? []), ...(rules.bury ?? [])];
  if (weights.length || rules.freshness) {
    for (let i = 0; i < scores.length; i++) {
      if (scores[i] === -Infinity) continue;
      let s = scores[i];
      for (const w of weights) if (matches(items[i], w)) s = scaled(s, w.multiply ?? 1) + (w.add ?? 0);
      if (rules.freshness) {
        const t = publishedTime(items[i]);
        if (t !== null) s += rules.freshness.weight * Math.pow(2, -Math.max(0, now - t) / DAY_MS / rules.freshness.halfLifeDays);
      }
      scores[i] = s;
    }
  }
  const cap = rules.maxPerCategory;
  if (cap !== undefined) {
    const used = new Map<string, number>();
    for (const i of pinned) {
      const c = items[i].category;
      if (c !== undefined) used.set(c, (used.get(c) ?? 0) + 1);
    }
    const order = Array.from(scores.keys())
      .filter((i) => scores[i] > -Infinity && items[i].category !== undefined)
      .sort((a, b) => scores[b] - scores[a] || a - b);
    for (const i of order) {
      const c = items[i].category as string;
      const n = used.get(c) ?? 0;
      if (n >= cap) scores[i] = -Infinity;
      else used.set(c, n + 1);
    }
  }
}

/** The pinned items of a call that the rules allow (mask 0), as indices with their slots, by slot. */
export function pinnedItems(
  rules: BusinessRules | undefined,
  indexOf: ReadonlyMap<string, number>,
  mask: Uint8Array,
): { item: number; slot: number }[] {
  const out: { item: number; slot: number }[] = [];
  for (const p of rules?.pin ?? []) {
    const item = indexOf.get(p.itemId);
    if (item !== undefined && !mask[item] && !out.some((o) => o.item === item)) out.push({ item, slot: p.slot });
  }
  return out.sort((a, b) => a.slot - b.slot);
}

/** Puts pinned entries at their slots (beyond the end: appended), the other entries keep their order; at most k. */
export function insertPins<T>(slate: readonly T[], pins: readonly { slot: number; entry: T }[], k: number): T[] {
  const out = [...slate];
  for (const p of [...pins].sort((a, b) => a.slot - b.slot)) out.splice(Math.min(p.slot, out.length), 0, p.entry);
  return out.slice(0, k);
}

const UPDATE_FIELDS = new Set(['id', 'price', 'available', 'attributes', 'publishedAt']);

/** A clean copy of updateItems() input, or a RecommenderError saying which update is wrong. */
export function validateItemUpdates(raw: unknown): ItemUpdate[] {
  const fix = 'Pass e.g. updateItems([{ id: "sku-1", price: 19.9, available: false }]); text fields need setCatalog().';
  if (!Array.isArray(raw) || raw.length > 2_000_000) fail('updateItems() needs an array of updates.', fix);
  return raw.map((u, n) => {
    const what = `updateItems()[${n}]`;
    if (!isPlainObject(u) || typeof u.id !== 'string') fail(`${what} needs an id string.`, fix);
    for (const key of Object.keys(u))
      if (!UPDATE_FIELDS.has(key))
        fail(`${what}.${key} cannot be updated in place.`, `Only price, available, attributes and publishedAt; call setCatalog() to change ${key}.`);
    const out: ItemUpdate = { id: u.id };
    if (u.price !== undefined) {
      if (typeof u.price !== 'number' || !Number.isFinite(u.price) || u.price < 0) fail(`${what}.price must be a finite number >= 0.`, fix);
      out.price = u.price;
    }
    if (u.available !== undefined) {
      if (typeof u.available !== 'boolean') fail(`${what}.available must be true or false.`, fix);
      out.available = u.available;
    }
    if (u.attributes !== undefined) out.attributes = validateAttributes(u.attributes, `${what}.attributes`);
    if (u.publishedAt !== undefined) {
      if (publishedTime({ id: u.id, title: '-', publishedAt: u.publishedAt as string | number }) === null)
        fail(`${what}.publishedAt must be an ISO 8601 date or epoch milliseconds.`, fix);
      out.publishedAt = u.publishedAt as string | number;
    }
    return out;
  });
}

/** Item attributes: at most 64 keys of string (<= 256 chars), finite number or boolean values; no prototype keys. */
export function validateAttributes(raw: unknown, what: string): Record<string, Value> {
  const fix = 'Pass e.g. attributes: { brand: "Acme", ageRestricted: true }.';
  if (!isPlainObject(raw)) fail(`${what} must be an object.`, fix);
  const entries = Object.entries(raw);
  if (entries.length > 64) fail(`${what} has ${entries.length} keys, the limit is 64.`, fix);
  const out: Record<string, Value> = {};
  for (const [k, v] of entries) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype' || k.length > 64) fail(`${what} has a key that is not allowed.`, fix);
    if (!isValue(v) || (typeof v === 'string' && v.length > 256)) fail(`${what}.${k} must be a string (at most 256), number or boolean.`, fix);
    out[k] = v;
  }
  return out;
}
