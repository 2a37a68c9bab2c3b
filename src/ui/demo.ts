/**
 * The demo page: browse, search, click/like/dismiss, and watch "For you" and
 * "Because you viewed" update, with a privacy panel. Catalog text is only ever
 * set as textContent, never parsed as HTML.
 */
import './demo.css';
import { createRecommender } from '../index';
import type { Backend, CatalogItem, EngineEvent, EventType, Recommendation, Recommender, StoredEvent } from '../types';

declare global {
  interface Window {
    __recs: Recommender;
  }
}

const CATALOG_URL = 'catalog/movielens-demo.json';
const PAGE_SIZE = 24;

const $ = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T => {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`demo page is missing ${sel}`);
  return el;
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string; attrs?: Record<string, string> } = {}, children: Node[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  children.forEach((c) => node.appendChild(c));
  return node;
}

const hashBackend = new URLSearchParams(location.hash.slice(1)).get('backend');
const backend = hashBackend === 'webgpu' || hashBackend === 'wasm' || hashBackend === 'js' ? hashBackend : 'auto';
const recs = createRecommender({ backend, globalModel: 'global-movielens', rankingHeads: 'ranking-heads' });
window.__recs = recs;

let catalog: CatalogItem[] = [];
const byId = new Map<string, CatalogItem>();
let genre: string | null = null;
let page = 0;
let lastInterest: string | null = null;

const genresOf = (item: CatalogItem): string[] => (item.tags ?? []).filter((t) => /^[A-Z]/.test(t));

// ------------------------------------------------------------------ status

function showError(message: string): void {
  const banner = $('#error-banner');
  $('.error-text', banner).textContent = message;
  banner.hidden = false;
}
$('#error-banner .error-close').addEventListener('click', () => ($('#error-banner').hidden = true));

function setBackend(b: Backend, reason: string): void {
  const badge = $('#backend-badge');
  badge.dataset.backend = b;
  badge.textContent = b === 'webgpu' ? 'WebGPU' : b === 'wasm' ? 'WASM' : 'JS';
  badge.title = reason;
}

const PHASE_LABEL: Record<string, string> = { model: 'Loading model', catalog: 'Loading catalog', embed: 'Embedding catalog', ready: 'Ready' };

function onEngineEvent(e: EngineEvent): void {
  if (e.type === 'progress') {
    const bar = $('#progress');
    const { phase, done, total } = e.progress;
    bar.dataset.phase = phase;
    bar.setAttribute('aria-valuenow', String(total ? done / total : 0));
    ($('.progress-fill', bar) as HTMLElement).style.width = `${total ? Math.round((100 * done) / total) : 0}%`;
    $('.progress-label', bar).textContent = phase === 'embed' ? `${PHASE_LABEL[phase]} ${done} / ${total}` : `${PHASE_LABEL[phase]}…`;
    if (phase === 'ready') bar.hidden = true;
  } else if (e.type === 'backend') {
    setBackend(e.backend, e.reason);
  } else if (e.type === 'error') {
    showError(e.message);
  } else if (e.type === 'change' && e.what === 'events') {
    void refreshPersonal();
  }
}
recs.on(onEngineEvent);

// ------------------------------------------------------------------ cards

function card(item: CatalogItem, reason?: string): HTMLElement {
  const title = el('button', { className: 'card-title', text: item.title, attrs: { type: 'button', 'data-action': 'click', 'aria-label': `Open ${item.title}` } });
  const body: Node[] = [title, el('p', { className: 'genres', text: genresOf(item).join(' · ') })];
  if (reason) body.push(el('p', { className: 'reason', text: reason }));
  const actions = el('div', { className: 'card-actions' }, [
    el('button', { text: 'Open', attrs: { type: 'button', 'data-action': 'click', 'aria-label': `Open ${item.title}` } }),
    el('button', { text: 'Like', attrs: { type: 'button', 'data-action': 'like', 'aria-label': `Like ${item.title}` } }),
    el('button', { text: 'Not for me', attrs: { type: 'button', 'data-action': 'dismiss', 'aria-label': `Not for me: ${item.title}` } }),
  ]);
  return el('article', { className: 'rec-card', attrs: { 'data-item-id': item.id } }, [...body, actions]);
}

function renderCards(container: Element, list: { item: CatalogItem; reason?: string }[], empty: string): void {
  container.replaceChildren(...(list.length ? list.map((x) => card(x.item, x.reason)) : [el('p', { className: 'empty', text: empty })]));
}

const fromRecs = (r: Recommendation[]): { item: CatalogItem; reason?: string }[] => r.map((x) => ({ item: x.item, reason: x.reasons[0]?.text }));

document.addEventListener('click', (ev) => {
  const button = (ev.target as Element).closest<HTMLButtonElement>('button[data-action]');
  const cardEl = button?.closest<HTMLElement>('.rec-card');
  const itemId = cardEl?.dataset.itemId;
  if (!button || !itemId) return;
  const type = button.dataset.action as EventType;
  if (type === 'click' || type === 'view') lastInterest = itemId;
  if (type === 'dismiss') cardEl.classList.add('dismissed');
  recs.track({ type, itemId }).then(
    () => refreshPersonal(),
    (e: Error) => showError(e.message),
  );
});

// ------------------------------------------------------------------ sections

let personalRun = 0;
async function refreshPersonal(): Promise<void> {
  const run = ++personalRun;
  try {
    const history = await recs.history(50);
    const forYou = await recs.recommend({ k: 10 });
    if (run !== personalRun) return;
    renderCards($('#for-you .cards'), fromRecs(forYou), 'No recommendations yet.');
    const anchor = lastInterest ?? [...history].reverse().find((e) => e.itemId && e.type !== 'dismiss')?.itemId ?? null;
    const because = $('#because-viewed');
    if (anchor && byId.has(anchor)) {
      const similar = await recs.similar(anchor, 6);
      if (run !== personalRun) return;
      $('#because-heading').textContent = `Because you viewed ${byId.get(anchor)?.title ?? ''}`;
      renderCards($('.cards', because), fromRecs(similar), 'Nothing similar found.');
      because.hidden = false;
    } else {
      because.hidden = true;
    }
    await refreshPrivacy(history);
  } catch (e) {
    showError((e as Error).message);
  }
}

const TYPE_LABEL: Record<EventType, string> = { view: 'Viewed', click: 'Opened', like: 'Liked', add_to_cart: 'Added to cart', purchase: 'Bought', dwell: 'Spent time on', dismiss: 'Dismissed', search: 'Searched' };

async function refreshPrivacy(history?: StoredEvent[]): Promise<void> {
  const stats = await recs.stats();
  $('#privacy-events').textContent = String(stats.events);
  $('#privacy-vectors').textContent = String(stats.cachedVectors);
  $('#privacy-bytes').textContent = stats.storageBytes === undefined ? 'unknown' : formatBytes(stats.storageBytes);
  if (stats.backend) setBackend(stats.backend, $('#backend-badge').title);
  const recent = (history ?? (await recs.history(20))).slice(-20).reverse();
  $('#privacy-history').replaceChildren(
    ...recent.map((e) => {
      const what = e.type === 'search' ? `“${e.query ?? ''}”` : (byId.get(e.itemId ?? '')?.title ?? e.itemId ?? '');
      return el('li', {}, [el('span', { className: 'event-type', text: TYPE_LABEL[e.type] ?? e.type }), el('span', { text: ` ${what} ` }), el('time', { text: new Date(e.timestamp).toLocaleTimeString(), attrs: { datetime: new Date(e.timestamp).toISOString() } })]);
    }),
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 ** 2).toFixed(1)} MB`;
}

// search
let searchTimer: ReturnType<typeof setTimeout> | undefined;
let searchRun = 0;
const searchInput = $<HTMLInputElement>('#search-input');
searchInput.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => void runSearch(searchInput.value), 150);
});
searchInput.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && searchInput.value.trim()) {
    recs.track({ type: 'search', query: searchInput.value.trim() }).catch((e: Error) => showError(e.message));
  }
});
async function runSearch(query: string): Promise<void> {
  const run = ++searchRun;
  try {
    const results = query.trim() ? await recs.search(query, 10) : [];
    if (run === searchRun) renderCards($('#search-results'), fromRecs(results), query.trim() ? 'No matches.' : '');
  } catch (e) {
    showError((e as Error).message);
  }
}

// browse
function renderBrowse(): void {
  const list = genre ? catalog.filter((it) => genresOf(it).includes(genre as string)) : catalog;
  const pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
  page = Math.min(page, pages - 1);
  renderCards($('#browse .cards'), list.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map((item) => ({ item })), 'Nothing here.');
  $('#browse .page-label').textContent = `Page ${page + 1} of ${pages}`;
  $<HTMLButtonElement>('#browse .prev').disabled = page === 0;
  $<HTMLButtonElement>('#browse .next').disabled = page >= pages - 1;
}
$('#browse .prev').addEventListener('click', () => {
  page--;
  renderBrowse();
});
$('#browse .next').addEventListener('click', () => {
  page++;
  renderBrowse();
});
function renderChips(): void {
  const counts = new Map<string, number>();
  for (const it of catalog) for (const g of genresOf(it)) counts.set(g, (counts.get(g) ?? 0) + 1);
  const genres = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([g]) => g);
  const chip = (label: string, value: string | null): HTMLButtonElement => {
    const b = el('button', { className: 'chip', text: label, attrs: { type: 'button', 'aria-pressed': String(genre === value) } });
    b.addEventListener('click', () => {
      genre = value;
      page = 0;
      renderChips();
      renderBrowse();
    });
    return b;
  };
  $('#browse .chips').replaceChildren(chip('All', null), ...genres.map((g) => chip(g, g)));
}

// privacy actions
$('#export-button').addEventListener('click', async () => {
  try {
    const data = await recs.exportData();
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    const a = el('a', { attrs: { href: url, download: 'on-device-recs-export.json' } });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  } catch (e) {
    showError((e as Error).message);
  }
});
$('#delete-button').addEventListener('click', async () => {
  if (document.body.dataset.noConfirm !== 'true' && !window.confirm('Delete everything this site stored on this device about you?')) return;
  try {
    await recs.deleteData();
    lastInterest = null;
    await refreshPersonal();
  } catch (e) {
    showError((e as Error).message);
  }
});

// ------------------------------------------------------------------ start

async function start(): Promise<void> {
  try {
    const res = await fetch(CATALOG_URL);
    catalog = (await res.json()) as CatalogItem[];
    catalog.forEach((it) => byId.set(it.id, it));
    renderChips();
    renderBrowse();
    const report = await recs.setCatalog(CATALOG_URL);
    if (report.problems.length) showError(`${report.problems.length} catalog items were skipped: ${report.problems[0].message}`);
    await refreshPersonal();
    document.body.dataset.ready = 'true';
  } catch (e) {
    showError((e as Error).message);
  }
}
void start();
