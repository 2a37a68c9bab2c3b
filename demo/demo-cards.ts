/**
 * DOM building blocks of the demo page. Everything is built with
 * createElement + textContent: catalog text is never parsed as HTML.
 */
import type { CatalogItem, EventType, Recommendation } from '../src/types';

export interface ElementProps {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
}

/** Creates an element; text goes through textContent, attributes through setAttribute. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps = {}, children: Node[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  for (const c of children) node.appendChild(c);
  return node;
}

/** Finds a required element or fails loudly (the page markup and this script belong together). */
export function $<T extends Element = HTMLElement>(selector: string, root: ParentNode = document): T {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`demo page is missing ${selector}`);
  return found;
}

/** Genres are the item's tags that start with a capital letter ('Comedy'); user tags are lower-case. */
export const genresOf = (item: CatalogItem): string[] => (item.tags ?? []).filter((t) => /^[A-Z]/.test(t));

const GENRE_HUE: Record<string, number> = {
  Action: 8,
  Adventure: 28,
  Animation: 45,
  Children: 60,
  Comedy: 48,
  Crime: 350,
  Documentary: 170,
  Drama: 220,
  Fantasy: 280,
  'Film-Noir': 240,
  Horror: 0,
  IMAX: 195,
  Musical: 320,
  Mystery: 260,
  Romance: 335,
  'Sci-Fi': 190,
  Thriller: 15,
  War: 90,
  Western: 35,
};

/** A stable accent hue for an item, from its first genre. */
export function hueOf(item: CatalogItem): number {
  const g = genresOf(item)[0] ?? item.category ?? '';
  if (g in GENRE_HUE) return GENRE_HUE[g];
  let h = 0;
  for (const ch of g) h = (h * 31 + ch.charCodeAt(0)) % 360;
  return h;
}

/** What a card shows: the item and, for recommendations, the first reason. */
export interface CardModel {
  item: CatalogItem;
  reason?: string;
}

export const fromRecommendations = (list: Recommendation[]): CardModel[] => list.map((r) => ({ item: r.item, reason: r.reasons[0]?.text }));

/** The three card actions; each is tracked as the event type of the same name. */
export const CARD_ACTIONS: { action: Extract<EventType, 'click' | 'like' | 'dismiss'>; label: string; aria: (title: string) => string }[] = [
  { action: 'click', label: 'Open', aria: (t) => `Open ${t}` },
  { action: 'like', label: 'Like', aria: (t) => `Like ${t}` },
  { action: 'dismiss', label: 'Not for me', aria: (t) => `Not for me: ${t}` },
];

/**
 * One item card: `.rec-card[data-item-id]` with the title (a button that counts
 * as a click), genres, the reason (`.reason`) and the action buttons.
 */
export function card(model: CardModel, state: { liked?: boolean; dismissed?: boolean } = {}): HTMLElement {
  const { item, reason } = model;
  const title = el('button', {
    className: 'card-title',
    text: item.title,
    attrs: { type: 'button', 'data-action': 'click', title: `Open ${item.title}` },
  });
  const children: Node[] = [el('h3', { className: 'card-heading' }, [title])];
  const genres = genresOf(item);
  if (genres.length) children.push(el('p', { className: 'genres', text: genres.join(' · ') }));
  if (reason) children.push(el('p', { className: 'reason', text: reason }));
  children.push(
    el(
      'div',
      { className: 'card-actions' },
      CARD_ACTIONS.map((a) =>
        el('button', {
          className: `action action-${a.action}`,
          text: a.label,
          attrs: { type: 'button', 'data-action': a.action, 'aria-label': a.aria(item.title) },
        }),
      ),
    ),
  );
  const node = el('article', { className: 'rec-card', attrs: { 'data-item-id': item.id } }, children);
  node.style.setProperty('--hue', String(hueOf(item)));
  if (state.liked) node.classList.add('is-liked');
  if (state.dismissed) node.classList.add('is-dismissed');
  return node;
}

/** Replaces a container's cards (or shows `empty` when there are none and it is non-empty). */
export function renderCards(
  container: Element,
  list: CardModel[],
  empty: string,
  state?: (id: string) => { liked?: boolean; dismissed?: boolean },
): void {
  if (list.length) container.replaceChildren(...list.map((m) => card(m, state?.(m.item.id))));
  else container.replaceChildren(...(empty ? [el('p', { className: 'empty', text: empty })] : []));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export const EVENT_LABEL: Record<EventType, string> = {
  view: 'Viewed',
  click: 'Opened',
  like: 'Liked',
  add_to_cart: 'Added to cart',
  purchase: 'Bought',
  dwell: 'Spent time on',
  dismiss: 'Dismissed',
  search: 'Searched',
};
