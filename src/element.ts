/**
 * `<on-device-recs>`: a web component that shows recommendations from a
 * {@link Recommender}. Shadow DOM, themeable with CSS custom properties and
 * `::part()`, keyboard and screen-reader friendly, calm under
 * `prefers-reduced-motion`. Catalog text is only ever set as text.
 *
 * Server-side rendering: importing this module in Node touches no browser global,
 * and {@link defineRecsElement} does nothing where `customElements` does not exist.
 * What the server renders inside the element (its light DOM, e.g. a skeleton or a
 * non-personal list) is the placeholder: it shows before the element upgrades and
 * stays, in place of "Loading…", until the first slate (or the neutral error line)
 * replaces it. The element never changes its light DOM, so a framework's hydration
 * finds the markup it rendered on the server.
 *
 * ```html
 * <on-device-recs k="8"></on-device-recs>                       <!-- personalised -->
 * <on-device-recs mode="similar" item-id="sku-42" k="6"></on-device-recs>
 * <on-device-recs mode="search" query="hiking boots"></on-device-recs>
 * ```
 *
 * Attributes: `k` (1-50, default 8), `mode` (`for-you` | `similar` | `search`),
 * `item-id` (similar), `query` (search), `heading`, `category` (for-you: only this
 * category), `href-template` (e.g. `/product/{id}`: cards become links), `no-reasons`
 * (hide "why this"), `no-dismiss` (hide "Not interested"), `no-controls` (hide the visitor's
 * controls: the "Why this?" view with "Forget this" and "Not interested in <category>",
 * the "Pause personalisation" and "More variety" switches; for-you mode only).
 *
 * Events (bubbling, composed): `recs-render` (detail: `{ recommendations }`),
 * `recs-select` (detail: `{ item, recommendation }`; cancelable: `preventDefault()`
 * stops the navigation to the card's link), `recs-error` (detail: `{ error }`).
 *
 * Errors are for the integrator: the element logs them (`console.warn`) and sends
 * `recs-error`; visitors only read a neutral line ("Recommendations are not
 * available right now."), never an error's message or fix.
 *
 * CSS custom properties: `--recs-font`, `--recs-fg`, `--recs-muted`, `--recs-bg`,
 * `--recs-card-bg`, `--recs-border`, `--recs-accent`, `--recs-radius`, `--recs-gap`,
 * `--recs-card-min-width`, `--recs-image-ratio`, `--recs-focus`. Parts: `heading`,
 * `list`, `card`, `image`, `title`, `meta`, `reason`, `dismiss`, `status`, `why`, `forget`,
 * `not-interested`, `controls`, `pause`, `variety`.
 *
 * @module on-device-recs/element
 */
import type { Recommendation, Recommender } from './types';
import { CONTROLS_CSS, controlsBar, rememberTitles, whyThisView } from './element-controls';

/** What a visitor reads when recommendations cannot be shown; the reason goes to the console and `recs-error`. */
const NOT_AVAILABLE = 'Recommendations are not available right now.';

/** Logs an error for the integrator (code, what was wrong, what to do). */
function warn(error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  console.warn(`[on-device-recs] ${typeof code === 'string' ? `${code}: ` : ''}${message}`, error);
}

const CSS = `
:host {
  display: block;
  font: var(--recs-font, 14px/1.4 system-ui, sans-serif);
  color: var(--recs-fg, #1d1d1f);
  background: var(--recs-bg, transparent);
}
:host([hidden]) { display: none; }
h2 { font-size: 1.1em; margin: 0 0 .6em; }
ul {
  list-style: none; margin: 0; padding: 0;
  display: grid; gap: var(--recs-gap, 12px);
  grid-template-columns: repeat(auto-fill, minmax(var(--recs-card-min-width, 150px), 1fr));
}
li { position: relative; display: flex; }
.card {
  all: unset; box-sizing: border-box; cursor: pointer; flex: 1;
  display: flex; flex-direction: column; gap: 4px; padding: 8px;
  background: var(--recs-card-bg, #fff); color: inherit;
  border: 1px solid var(--recs-border, #d9d9de); border-radius: var(--recs-radius, 10px);
  transition: transform .15s ease, box-shadow .15s ease;
}
.card:hover { transform: translateY(-2px); box-shadow: 0 4px 14px rgb(0 0 0 / .12); }
.card:focus-visible { outline: 3px solid var(--recs-focus, var(--recs-accent, #0a66c2)); outline-offset: 2px; }
img { width: 100%; aspect-ratio: var(--recs-image-ratio, 4 / 3); object-fit: cover; border-radius: calc(var(--recs-radius, 10px) - 4px); background: var(--recs-border, #eee); }
.title { font-weight: 600; color: var(--recs-accent, inherit); }
.meta, .reason { font-size: .85em; color: var(--recs-muted, #5f6368); }
.reason::before { content: "Why: "; font-weight: 600; }
.dismiss {
  all: unset; cursor: pointer; position: absolute; top: 4px; right: 4px;
  width: 24px; height: 24px; text-align: center; line-height: 24px; border-radius: 50%;
  background: var(--recs-card-bg, #fff); color: var(--recs-muted, #5f6368); border: 1px solid var(--recs-border, #d9d9de);
}
.dismiss:focus-visible { outline: 3px solid var(--recs-focus, var(--recs-accent, #0a66c2)); }
.status { color: var(--recs-muted, #5f6368); margin: .4em 0; }
.status:empty { display: none; }
slot[hidden] { display: none; }
@media (prefers-reduced-motion: reduce) {
  .card, .card:hover { transition: none; transform: none; }
}
`;

/** What an element shows: personalised recommendations, items similar to `item-id`, or search results for `query`. */
export type Mode = 'for-you' | 'similar' | 'search';

let defaultRecommender: Recommender | null = null;
let defaultReady: Promise<unknown> = Promise.resolve();
const connected = new Set<RecsElement>();

/** Every connected `<on-device-recs>` fetches again (after the visitor did something). Debounced. */
let refreshTimer: ReturnType<typeof setTimeout> | null = null;
export function refreshRecsElements(delayMs = 150): void {
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    connected.forEach((el) => el.refresh());
  }, delayMs);
}

function stylesFor(root: ShadowRoot): void {
  // A constructed stylesheet works under a strict CSP (style-src 'self'); <style> is the fallback.
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet !== 'undefined' && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS + CONTROLS_CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = CSS + CONTROLS_CSS;
    root.append(style);
  }
}

const BaseElement: typeof HTMLElement = typeof HTMLElement !== 'undefined' ? HTMLElement : (class {} as unknown as typeof HTMLElement);

export class RecsElement extends BaseElement {
  static readonly observedAttributes = [
    'k',
    'mode',
    'item-id',
    'query',
    'heading',
    'category',
    'href-template',
    'no-reasons',
    'no-dismiss',
    'no-controls',
  ];

  /** The recommender this element uses; defaults to the one given to {@link defineRecsElement}. */
  recommender: Recommender | null = null;
  /** What is shown now. */
  recommendations: Recommendation[] = [];

  private readonly root: ShadowRoot;
  private readonly headingEl: HTMLHeadingElement;
  private readonly list: HTMLUListElement;
  private readonly status: HTMLParagraphElement;
  /** The visitor's switches above the cards (element-controls.ts). */
  private readonly bar = controlsBar({ act: (fn) => this.act(fn) });
  /** Shows the element's light DOM (the server-rendered placeholder) until the first slate or error. */
  private readonly placeholder: HTMLSlotElement;
  private generation = 0;
  private scheduled = false;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    stylesFor(this.root);
    const region = document.createElement('section');
    this.headingEl = document.createElement('h2');
    this.headingEl.setAttribute('part', 'heading');
    this.headingEl.id = 'heading';
    region.setAttribute('aria-labelledby', 'heading');
    this.status = document.createElement('p');
    this.status.className = 'status';
    this.status.setAttribute('part', 'status');
    this.status.setAttribute('role', 'status');
    this.list = document.createElement('ul');
    this.list.setAttribute('part', 'list');
    this.list.setAttribute('role', 'list');
    this.list.setAttribute('aria-labelledby', 'heading');
    this.list.addEventListener('keydown', (e) => this.onKey(e));
    this.placeholder = document.createElement('slot');
    region.append(this.headingEl, this.status, this.placeholder, this.list);
    this.headingEl.after(this.bar.el);
    this.root.append(region);
  }

  connectedCallback(): void {
    connected.add(this);
    this.schedule();
  }

  disconnectedCallback(): void {
    connected.delete(this);
  }

  attributeChangedCallback(): void {
    if (this.isConnected) this.schedule();
  }

  get k(): number {
    const k = Number.parseInt(this.getAttribute('k') ?? '8', 10);
    return Number.isFinite(k) ? Math.min(50, Math.max(1, k)) : 8;
  }

  /** Frameworks (Vue, Preact) set properties: `k` and `mode` write their attributes. */
  set k(value: number) {
    this.setAttribute('k', String(value));
  }

  get mode(): Mode {
    const m = this.getAttribute('mode');
    return m === 'similar' || m === 'search' ? m : 'for-you';
  }

  set mode(value: Mode) {
    this.setAttribute('mode', value);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      void this.refresh();
    });
  }

  private defaultHeading(): string {
    if (this.mode === 'similar') return 'Similar items';
    if (this.mode === 'search') return `Results for “${this.getAttribute('query') ?? ''}”`;
    return 'Recommended for you';
  }

  /** Fetches and renders again. Resolves when rendered (or when a newer refresh superseded this one). */
  async refresh(): Promise<void> {
    const gen = ++this.generation;
    this.headingEl.textContent = this.getAttribute('heading') ?? this.defaultHeading();
    const recs = this.recommender ?? defaultRecommender;
    if (!recs) {
      this.placeholder.hidden = true;
      this.setStatus(NOT_AVAILABLE);
      console.warn('[on-device-recs] <on-device-recs> has no recommender: call defineRecsElement({ recommender }) or set element.recommender.');
      return;
    }
    this.list.setAttribute('aria-busy', 'true');
    if (this.recommendations.length === 0 && !this.showsPlaceholder()) this.setStatus('Loading recommendations…');
    try {
      if (!this.recommender) await defaultReady;
      const k = this.k;
      let result: Recommendation[];
      if (this.mode === 'similar') {
        const id = this.getAttribute('item-id');
        result = id ? await recs.similar(id, k) : [];
      } else if (this.mode === 'search') {
        const q = this.getAttribute('query');
        result = q ? await recs.search(q, k) : [];
      } else {
        const category = this.getAttribute('category');
        result = await recs.recommend({ k, ...(category ? { filters: { categories: [category] } } : {}), context: { surface: 'on-device-recs' } });
      }
      if (gen !== this.generation) return;
      this.render(result);
      if (this.showsControls())
        void recs.controls().then(
          (c) => this.bar.show(c),
          () => this.bar.show(null),
        );
      this.dispatchEvent(new CustomEvent('recs-render', { bubbles: true, composed: true, detail: { recommendations: result } }));
    } catch (error) {
      if (gen !== this.generation) return;
      this.placeholder.hidden = true;
      this.setStatus(NOT_AVAILABLE);
      warn(error);
      this.dispatchEvent(new CustomEvent('recs-error', { bubbles: true, composed: true, detail: { error } }));
    } finally {
      if (gen === this.generation) this.list.removeAttribute('aria-busy');
    }
  }

  /** Whether the server-rendered light DOM is still shown (it stands in for "Loading…"). */
  private showsPlaceholder(): boolean {
    return !this.placeholder.hidden && [...this.childNodes].some((n) => n.nodeType === Node.ELEMENT_NODE || (n.textContent ?? '').trim() !== '');
  }

  private setStatus(text: string): void {
    this.status.textContent = text;
  }

  private render(result: Recommendation[]): void {
    this.recommendations = result;
    this.placeholder.hidden = true;
    this.setStatus(result.length === 0 ? 'Nothing to recommend yet.' : '');
    const template = this.getAttribute('href-template');
    const showReasons = !this.hasAttribute('no-reasons');
    const showDismiss = !this.hasAttribute('no-dismiss') && this.mode === 'for-you';
    const showControls = this.showsControls();
    rememberTitles(result);
    const items = result.map((r, slot) => {
      const li = document.createElement('li');
      li.dataset.itemId = r.itemId;
      const card = document.createElement(template ? 'a' : 'button');
      card.className = 'card';
      card.setAttribute('part', 'card');
      if (template) card.setAttribute('href', template.replaceAll('{id}', encodeURIComponent(r.itemId)));
      else card.setAttribute('type', 'button');
      if (r.item.imageUrl) {
        const img = document.createElement('img');
        img.setAttribute('part', 'image');
        img.setAttribute('src', r.item.imageUrl);
        img.setAttribute('alt', '');
        img.setAttribute('loading', 'lazy');
        card.append(img);
      }
      const title = document.createElement('span');
      title.className = 'title';
      title.setAttribute('part', 'title');
      title.textContent = r.item.title;
      card.append(title);
      const meta = [r.item.category, typeof r.item.price === 'number' ? r.item.price.toFixed(2) : undefined].filter(Boolean).join(' · ');
      if (meta) {
        const m = document.createElement('span');
        m.className = 'meta';
        m.setAttribute('part', 'meta');
        m.textContent = meta;
        card.append(m);
      }
      const reason = r.reasons[0]?.text;
      if (showReasons && reason) {
        const why = document.createElement('span');
        why.className = 'reason';
        why.setAttribute('part', 'reason');
        why.textContent = reason;
        card.append(why);
      }
      card.addEventListener('click', (e) => this.onSelect(e as MouseEvent, r, slot, card));
      li.append(card);
      if (showDismiss) {
        const dismiss = document.createElement('button');
        dismiss.type = 'button';
        dismiss.className = 'dismiss';
        dismiss.setAttribute('part', 'dismiss');
        dismiss.setAttribute('aria-label', `Not interested in ${r.item.title}`);
        dismiss.title = 'Not interested';
        dismiss.textContent = '×';
        dismiss.addEventListener('click', () => this.onDismiss(r, slot));
        li.append(dismiss);
      }
      if (showControls) li.append(whyThisView(r, { act: (fn) => this.act(fn) }));
      return li;
    });
    this.list.replaceChildren(...items);
  }

  private async onSelect(e: MouseEvent, r: Recommendation, slot: number, card: HTMLElement): Promise<void> {
    const recs = this.recommender ?? defaultRecommender;
    const select = new CustomEvent('recs-select', { bubbles: true, composed: true, cancelable: true, detail: { item: r.item, recommendation: r } });
    const proceed = this.dispatchEvent(select);
    const tracked = recs?.track({ type: 'click', itemId: r.itemId, context: { surface: 'on-device-recs', slot } }).catch((error: unknown) => {
      warn(error);
      this.dispatchEvent(new CustomEvent('recs-error', { bubbles: true, composed: true, detail: { error } }));
    });
    const href = card instanceof HTMLAnchorElement ? card.href : null;
    const plainClick = e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey;
    if (href && (!proceed || plainClick)) {
      // keep the page until the click is stored on the device (at most 500 ms), then follow the link
      e.preventDefault();
      if (!proceed) return;
      await Promise.race([tracked, new Promise((r) => setTimeout(r, 500))]);
      location.assign(href);
      return;
    }
    await tracked;
    refreshRecsElements();
  }

  private showsControls(): boolean {
    return this.mode === 'for-you' && !this.hasAttribute('no-controls');
  }

  /** A visitor's control (forget, not interested, pause, variety): errors go to the integrator only; then every element refreshes. */
  private async act(fn: (recs: Recommender) => Promise<unknown>): Promise<void> {
    const recs = this.recommender ?? defaultRecommender;
    try {
      if (recs) await fn(recs);
    } catch (error) {
      warn(error);
      this.dispatchEvent(new CustomEvent('recs-error', { bubbles: true, composed: true, detail: { error } }));
    }
    refreshRecsElements(0);
  }

  private async onDismiss(r: Recommendation, slot: number): Promise<void> {
    const recs = this.recommender ?? defaultRecommender;
    try {
      await recs?.track({ type: 'dismiss', itemId: r.itemId, context: { surface: 'on-device-recs', slot } });
    } catch (error) {
      warn(error);
      this.dispatchEvent(new CustomEvent('recs-error', { bubbles: true, composed: true, detail: { error } }));
    }
    refreshRecsElements(0);
  }

  /** Arrow keys, Home and End move between cards. */
  private onKey(e: KeyboardEvent): void {
    const cards = [...this.list.querySelectorAll<HTMLElement>('.card')];
    const at = cards.indexOf(this.root.activeElement as HTMLElement);
    if (at < 0) return;
    const next =
      e.key === 'ArrowRight' || e.key === 'ArrowDown'
        ? Math.min(cards.length - 1, at + 1)
        : e.key === 'ArrowLeft' || e.key === 'ArrowUp'
          ? Math.max(0, at - 1)
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? cards.length - 1
              : -1;
    if (next < 0) return;
    e.preventDefault();
    cards[next].focus();
  }
}

export interface DefineRecsElementOptions {
  /** The recommender every element uses unless its own `recommender` property is set. */
  recommender: Recommender;
  /** Elements wait for this before their first request (e.g. the `setCatalog()` promise). */
  ready?: Promise<unknown>;
  /** Tag name (default `on-device-recs`). */
  tagName?: string;
}

/**
 * Registers the `<on-device-recs>` element (once) and sets the recommender it uses.
 * Where there is no `customElements` (Node, while a page is rendered on the server)
 * it registers nothing and returns {@link RecsElement}.
 */
export function defineRecsElement(options: DefineRecsElementOptions): typeof RecsElement {
  defaultRecommender = options.recommender;
  defaultReady = options.ready ?? Promise.resolve();
  if (typeof customElements === 'undefined') return RecsElement;
  const tag = options.tagName ?? 'on-device-recs';
  const existing = customElements.get(tag);
  if (!existing) customElements.define(tag, class extends RecsElement {});
  refreshRecsElements(0);
  return (customElements.get(tag) as typeof RecsElement) ?? RecsElement;
}
