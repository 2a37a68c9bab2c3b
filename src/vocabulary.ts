/**
 * The engine's vocabulary, declared once: what a visitor can do (event types and
 * what each says about interest), where a slot of a slate comes from (sources),
 * and where computation runs (backends). Types, validation, weights, rewards and
 * the words of explanations are all derived from these tables.
 */

/** What a visitor did. `dwell` carries seconds in `value`; `search` carries `query`. */
export const EVENT_TYPES = ['view', 'click', 'like', 'add_to_cart', 'purchase', 'dwell', 'dismiss', 'search'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventMeaning {
  /** How much one event says about interest (negative counts against; dwell is scaled by seconds). */
  weight: number;
  /** Rank among the types for "the strongest thing the visitor did with an item" (higher wins). */
  strength: number;
  /** Reward for the exploration bandit when the event lands on a shown slot (null: no feedback). */
  reward: 1 | -1 | null;
  /** Words of an explanation: "Because you <pastTense> X". */
  pastTense: string;
  /** Whether auto-tracking may record it from a `data-item-event` attribute. */
  autoTracked: boolean;
  /** An item the visitor did this with is never recommended again (whatever `excludeSeen` says). */
  hidesItem: boolean;
}

export const EVENTS: Readonly<Record<EventType, EventMeaning>> = {
  search: { weight: 0, strength: 0, reward: null, pastTense: 'searched for', autoTracked: false, hidesItem: false },
  view: { weight: 1, strength: 1, reward: null, pastTense: 'viewed', autoTracked: true, hidesItem: false },
  dwell: { weight: 1, strength: 2, reward: null, pastTense: 'spent time on', autoTracked: false, hidesItem: false },
  click: { weight: 2, strength: 3, reward: 1, pastTense: 'clicked', autoTracked: true, hidesItem: false },
  like: { weight: 3, strength: 4, reward: 1, pastTense: 'liked', autoTracked: true, hidesItem: false },
  add_to_cart: { weight: 4, strength: 5, reward: 1, pastTense: 'added to your cart', autoTracked: true, hidesItem: false },
  purchase: { weight: 6, strength: 6, reward: 1, pastTense: 'bought', autoTracked: true, hidesItem: true },
  // strongest of all: a dismissal overrides anything else done with the item
  dismiss: { weight: -4, strength: 7, reward: -1, pastTense: 'dismissed', autoTracked: true, hidesItem: true },
};

export function isEventType(v: unknown): v is EventType {
  return typeof v === 'string' && (EVENT_TYPES as readonly string[]).includes(v);
}

/** Where a slot of a recommend() slate came from: the ranking, or a source the exploration bandit chose. */
export const SOURCES = ['ranked', 'content', 'global', 'trending', 'explore'] as const;
export type Source = (typeof SOURCES)[number];

/** Where computation runs. Models run on 'webgpu' or 'wasm'; catalog scoring also has the TypeScript twin 'js'. */
export const BACKENDS = ['webgpu', 'wasm', 'js'] as const;
export type Backend = (typeof BACKENDS)[number];
