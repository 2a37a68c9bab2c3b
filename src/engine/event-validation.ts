/**
 * What track() accepts: every event is checked (type from the vocabulary, item
 * id against the loaded catalog, value, timestamp, context) and copied into a
 * clean StoredEvent before anything is queued or stored. The same check runs on
 * every event read back from IndexedDB (sortStoredEvents): what fails it is
 * quarantined, kept apart with the reason, never used.
 */
import type { QuarantinedEvent, StoredEvent, TrackEvent } from '../types';
import { RecommenderError } from '../errors';
import { EVENT_TYPES, isEventType } from '../vocabulary';
import { truncate } from '../slate/explanations';
import { MAX_QUERY_LENGTH, showValue } from '../options';

const MAX_CONTEXT_KEYS = 32;
const MAX_ITEM_ID_LENGTH = 256;
/** How far in the future an event's timestamp may be (a clock set a little fast); beyond it the time is impossible. */
export const MAX_CLOCK_SKEW_MS = 60 * 60 * 1000;

/**
 * The stored form of `input`, or a RecommenderError saying what is wrong.
 * `knownItem` is null while no catalog is loaded (every id is accepted then).
 */
export function validateEvent(input: TrackEvent, eventId: string, now: number, knownItem: ((id: string) => boolean) | null): StoredEvent {
  if (!input || typeof input !== 'object')
    throw new RecommenderError(
      'invalid_event',
      `track() needs an event object, got ${input === null ? 'null' : typeof input}.`,
      'Call track({ type: "click", itemId: "sku-1" }).',
    );
  const { type, itemId, query, value, timestamp, context } = input;
  if (!isEventType(type)) {
    throw new RecommenderError('invalid_event', `Unknown event type ${showValue(type)}.`, `Use one of: ${EVENT_TYPES.join(', ')}.`);
  }
  const event: StoredEvent = { type, eventId, timestamp: now };
  if (type === 'search') {
    if (typeof query !== 'string' || query.trim() === '')
      throw new RecommenderError(
        'invalid_event',
        'A search event needs a non-empty query string.',
        'Call track({ type: "search", query: "red shoes" }).',
      );
    event.query = query.slice(0, MAX_QUERY_LENGTH);
  } else {
    if (typeof itemId !== 'string' || itemId.length === 0 || itemId.length > MAX_ITEM_ID_LENGTH) {
      throw new RecommenderError(
        'invalid_event',
        `A ${type} event needs the item's catalog id (a string), got ${typeof itemId === 'string' ? 'a string of length ' + itemId.length : typeof itemId}.`,
        `Call track({ type: "${type}", itemId: "<catalog id>" }).`,
      );
    }
    if (knownItem && !knownItem(itemId)) {
      throw new RecommenderError(
        'unknown_item',
        `track(): no item with id "${truncate(itemId)}" in the catalog; the event was not stored.`,
        'Track ids of the loaded catalog, or load the catalog that contains it first.',
      );
    }
    event.itemId = itemId;
  }
  if (value !== undefined) {
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new RecommenderError(
        'invalid_event',
        `Event value must be a finite number, got ${showValue(value)}.`,
        'Pass seconds for dwell, or leave value out.',
      );
    event.value = value;
  }
  if (timestamp !== undefined) {
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0 || timestamp > now + MAX_CLOCK_SKEW_MS)
      throw new RecommenderError(
        'invalid_event',
        `Event timestamp must be epoch milliseconds, not in the future, got ${showValue(timestamp)}.`,
        'Leave timestamp out to use the current time.',
      );
    event.timestamp = timestamp;
  }
  if (context !== undefined) {
    if (!context || typeof context !== 'object' || Array.isArray(context))
      throw new RecommenderError(
        'invalid_event',
        'Event context must be a plain object of strings, numbers and booleans.',
        'Pass e.g. { page: "home" }.',
      );
    const clean: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(context).slice(0, MAX_CONTEXT_KEYS)) {
      // prototype keys would pollute whoever reads the context back
      if (k === '__proto__' || k === 'constructor' || k === 'prototype' || k.length > 64) continue;
      if (typeof v === 'string') clean[k] = v.slice(0, 256);
      else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') clean[k] = v;
    }
    event.context = clean;
  }
  return event;
}

/**
 * Sorts records read back from IndexedDB into the events the engine may use and the
 * quarantined ones, with the very check track() makes: a record that is not an event,
 * whose type is not in the vocabulary, whose item is not in the loaded catalog
 * (`knownItem`; null while none is loaded: every id passes), whose timestamp is
 * impossible (missing, not finite, negative, beyond the clock skew) or which lacks what
 * its type needs (a search without a query) is quarantined with the reason. Usable
 * events are clean copies that keep their eventId and seq, in the records' order.
 */
export function sortStoredEvents(
  records: readonly unknown[],
  now: number,
  knownItem: ((id: string) => boolean) | null,
): { usable: StoredEvent[]; quarantined: QuarantinedEvent[] } {
  const usable: StoredEvent[] = [];
  const quarantined: QuarantinedEvent[] = [];
  for (const record of records) {
    const r = record && typeof record === 'object' ? (record as Partial<StoredEvent>) : null;
    const seq = typeof r?.seq === 'number' ? r.seq : undefined;
    const hold = (code: QuarantinedEvent['code'], reason: string): void =>
      void quarantined.push(seq === undefined ? { code, reason, record } : { seq, code, reason, record });
    if (!r) hold('invalid_event', `The stored record is not an event (${showValue(record)}).`);
    else if (typeof r.eventId !== 'string' || r.eventId.length === 0) hold('invalid_event', 'The stored event has no event id.');
    else if (r.timestamp === undefined) hold('invalid_event', 'The stored event has no timestamp.');
    else {
      try {
        const event = validateEvent(r as TrackEvent, r.eventId, now, knownItem);
        if (seq !== undefined) event.seq = seq;
        usable.push(event);
      } catch (e) {
        const err = e as RecommenderError;
        // the reason says what was wrong; the fix of track()'s error is about calling track()
        const what = err.message.endsWith(err.fix) ? err.message.slice(0, -err.fix.length).trim() : err.message;
        if (err.code === 'unknown_item')
          hold('unknown_item', `No item with id "${truncate(String(r.itemId))}" in the loaded catalog: kept apart until a catalog with it loads.`);
        else hold('invalid_event', what);
      }
    }
  }
  return { usable, quarantined };
}
