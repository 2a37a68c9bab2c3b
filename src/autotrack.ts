/**
 * Optional auto-tracking of the host page's own elements that carry
 * `data-item-id`:
 *
 * - a click inside `[data-item-id]` is tracked as `click` (or as the type named by
 *   the nearest `data-item-event`, e.g. `<button data-item-event="add_to_cart">`);
 * - an element with `data-item-id` **and** `data-item-view` (a product page's main
 *   block, say) is tracked as `view` once it was at least half visible for one
 *   second. Listing tiles are not views: a view also keeps the item out of
 *   recommendations (`excludeSeen`), so only mark what the visitor really looked at.
 *
 * Everything stays on the device, like every other `track()`.
 *
 * @module on-device-recs/autotrack
 */
import type { Recommender } from './types';
import { EVENT_TYPES, EVENTS, type EventType } from './vocabulary';
import { RecsElement, refreshRecsElements } from './element';

export interface AutoTrackOptions {
  /** Where to listen (default: `document`). */
  root?: Document | HTMLElement;
  /** Track `view` for `[data-item-id][data-item-view]` (default true). */
  views?: boolean;
  /** Track clicks on `[data-item-id]` (default true). */
  clicks?: boolean;
  /** Called when a tracked event is refused (unknown id, storage fault). */
  onError?: (error: unknown) => void;
}

const AUTO_TRACKED: ReadonlySet<string> = new Set(EVENT_TYPES.filter((t) => EVENTS[t].autoTracked));

/**
 * Starts auto-tracking; returns a function that stops it. Outside a browser (no
 * `document`, e.g. while a page is rendered on the server) it does nothing and
 * returns a function that does nothing.
 */
export function autoTrack(recommender: Recommender, options: AutoTrackOptions = {}): () => void {
  const root = options.root ?? (typeof document !== 'undefined' ? document : undefined);
  if (!root) return () => undefined;
  const onError = options.onError ?? ((e: unknown) => console.warn('[on-device-recs] auto-tracking:', (e as Error).message));
  const stops: (() => void)[] = [];
  const track = (type: EventType, itemId: string, surface: string): void => {
    recommender
      .track({ type, itemId, context: { surface } })
      .then(() => refreshRecsElements())
      .catch(onError);
  };

  if (options.clicks !== false) {
    const onClick = (e: Event): void => {
      const target = e.target as Element | null;
      // clicks inside <on-device-recs> are tracked by the element itself
      if (target instanceof RecsElement) return;
      const host = target?.closest?.('[data-item-id]');
      if (!host) return;
      const itemId = host.getAttribute('data-item-id');
      if (!itemId) return;
      const named = target?.closest?.('[data-item-event]')?.getAttribute('data-item-event');
      const type = named && AUTO_TRACKED.has(named) ? (named as EventType) : 'click';
      track(type, itemId, 'auto-track');
    };
    root.addEventListener('click', onClick, true);
    stops.push(() => root.removeEventListener('click', onClick, true));
  }

  if (options.views !== false && typeof IntersectionObserver !== 'undefined') {
    const seen = new WeakSet<Element>();
    const timers = new Map<Element, ReturnType<typeof setTimeout>>();
    const io = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const el = entry.target;
          if (entry.isIntersecting && entry.intersectionRatio >= 0.5) {
            if (seen.has(el) || timers.has(el)) continue;
            timers.set(
              el,
              setTimeout(() => {
                timers.delete(el);
                const itemId = el.getAttribute('data-item-id');
                if (!itemId || seen.has(el)) return;
                seen.add(el);
                io.unobserve(el);
                track('view', itemId, 'auto-track');
              }, 1000),
            );
          } else {
            clearTimeout(timers.get(el));
            timers.delete(el);
          }
        }
      },
      { threshold: [0, 0.5] },
    );
    const scan = (): void => {
      root.querySelectorAll('[data-item-id][data-item-view]').forEach((el) => {
        if (!seen.has(el)) io.observe(el);
      });
    };
    scan();
    const mo = new MutationObserver(scan);
    mo.observe(root instanceof Document ? root.documentElement : root, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['data-item-id', 'data-item-view'],
    });
    stops.push(() => {
      mo.disconnect();
      io.disconnect();
      timers.forEach((t) => clearTimeout(t));
    });
  }
  return () => stops.forEach((s) => s());
}
