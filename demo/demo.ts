/**
 * The demo page: browse, search, open/like/dismiss movies and watch "For you"
 * and "Because you viewed" update, next to a live panel of what this device
 * stores. Catalog text is only ever set as textContent, never parsed as HTML.
 *
 * DOM contract (tests and auto-tracking rely on it): every item card is
 * `.rec-card[data-item-id]` with `button[data-action=click|like|dismiss]` and,
 * for recommendations, `.reason`; `document.body.dataset.ready === 'true'`
 * once the first recommendations rendered; `window.__recs` is the recommender.
 */
import './demo.css';
import { createRecommender, RecommenderError } from '../src';
import type { Backend, CatalogItem, EngineEvent, EngineStats, EventType, Progress, Recommender, RecommenderOptions, StoredEvent } from '../src/types';
import { $, el, EVENT_LABEL, formatBytes, fromRecommendations, genresOf, renderCards, type CardModel } from './demo-cards';

declare global {
  interface Window {
    __recs: Recommender;
  }
}

const CATALOG_URL = 'catalog/movielens-demo.json';
const PAGE_SIZE = 24;
const FOR_YOU_K = 10;
const SIMILAR_K = 6;
const SEARCH_K = 10;
const HISTORY_SHOWN = 20;
/** How far back to look for the item that anchors "Because you viewed …". */
const ANCHOR_LOOKBACK = 200;
const SEARCH_DEBOUNCE_MS = 150;
/** Event types that make an item the anchor of "Because you viewed …". */
const ANCHOR_TYPES: ReadonlySet<EventType> = new Set<EventType>(['click', 'view']);

// '#backend=webgpu' / '#backend=wasm' forces a compute path (README; e2e uses it).
const hash = new URLSearchParams(location.hash.slice(1));
const hashBackend = hash.get('backend');
const backend = hashBackend === 'webgpu' || hashBackend === 'wasm' || hashBackend === 'js' ? hashBackend : 'auto';
// Measurement (off by default). '#measurement=on' (the toggle): reports are built and shown, none sent (dry run);
// '#measurement=send': POSTed to ./measure (e2e); '#measure-gap=ms' / '#measure-delay=ms' shorten the visit and the delay.
const measureMode = hash.get('measurement');
const measurement: RecommenderOptions['measurement'] =
  measureMode === 'on' || measureMode === 'send'
    ? {
        endpoint: 'measure',
        placement: 'demo',
        dryRun: measureMode === 'on',
        visitGapMs: Number(hash.get('measure-gap') ?? 15_000),
        maxDelayMs: Number(hash.get('measure-delay') ?? 2_000),
        variants: [{ name: 'control' }, { name: 'more-exploration', exploration: { rate: 0.4 } }],
      }
    : undefined;
// the behaviour model trained on the demo's catalog (npm run build:demo-sequence-model) joins the ranking by default
const recs = createRecommender({
  backend,
  globalModel: 'global-movielens',
  rankingHeads: 'ranking-heads',
  sequenceModel: 'sequence-movielens',
  measurement,
});
window.__recs = recs;

/** The catalog as the page sees it, for browsing and for titles in history. */
let catalog: CatalogItem[] = [];
const byId = new Map<string, CatalogItem>();
/** Set once setCatalog() resolved: personal sections render only after that. */
let engineReady = false;
/** Per-session visual state of cards (the engine keeps the real history). */
const liked = new Set<string>();
const dismissed = new Set<string>();
const cardState = (id: string): { liked: boolean; dismissed: boolean } => ({ liked: liked.has(id), dismissed: dismissed.has(id) });

const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)');

// ------------------------------------------------------------------ status, errors

/**
 * What visitors read when something failed. Errors (a RecommenderError's message and fix, any other
 * error's text) are written for the integrator: they go to the console, never onto the page.
 */
const NOT_AVAILABLE = 'Recommendations are not available right now.';

/** Logs an error for the integrator: code, what was wrong, what to do. */
function logError(e: unknown): void {
  if (e instanceof RecommenderError) console.warn(`[on-device-recs demo] ${e.code}: ${e.message}`, e);
  else console.warn('[on-device-recs demo]', e);
}

const banner = $('#error-banner');
/** Shows the demo's own visitor-facing text in the banner (set as text, never parsed as HTML). */
function showNotice(text: string): void {
  $('.error-text', banner).textContent = text;
  banner.hidden = false;
}
/** A failure: the integrator's message to the console, a neutral line to the visitor. */
function showError(e: unknown, visitorText = NOT_AVAILABLE): void {
  logError(e);
  showNotice(visitorText);
}
$('.error-close', banner).addEventListener('click', () => {
  banner.hidden = true;
});
// Anything that slipped through still reaches the visitor instead of the console only.
window.addEventListener('unhandledrejection', (ev) => {
  showError(ev.reason);
  ev.preventDefault();
});

/** Short polite announcement for screen readers (and a visible toast). */
let statusTimer: ReturnType<typeof setTimeout> | undefined;
function announce(message: string): void {
  const status = $('#status');
  status.textContent = message;
  status.classList.add('visible');
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => status.classList.remove('visible'), 2500);
}

function setBackend(b: Backend, reason?: string): void {
  const badge = $('#backend-badge');
  badge.dataset.backend = b;
  badge.textContent = b === 'webgpu' ? 'WebGPU' : b === 'wasm' ? 'WASM' : 'JS';
  if (reason) badge.title = reason;
  badge.setAttribute('aria-label', `Compute backend: ${badge.textContent}`);
}

const PHASE_LABEL: Record<Progress['phase'], string> = {
  model: 'Loading model',
  catalog: 'Loading catalog',
  embed: 'Embedding catalog',
  ready: 'Ready',
};

function showProgress({ phase, done, total }: Progress): void {
  const bar = $('#progress');
  bar.dataset.phase = phase;
  bar.setAttribute('aria-valuemax', String(Math.max(1, total)));
  bar.setAttribute('aria-valuenow', String(Math.min(done, Math.max(1, total))));
  const label = phase === 'embed' ? `${PHASE_LABEL.embed} ${done} / ${total}` : phase === 'ready' ? PHASE_LABEL.ready : `${PHASE_LABEL[phase]}…`;
  bar.setAttribute('aria-valuetext', label);
  $('.progress-label', bar).textContent = label;
  $('.progress-fill', bar).style.width = `${total ? Math.round((100 * done) / total) : 0}%`;
  if (phase === 'ready') bar.hidden = true;
}

function onEngineEvent(e: EngineEvent): void {
  switch (e.type) {
    case 'progress':
      showProgress(e.progress);
      break;
    case 'backend':
      setBackend(e.backend, e.reason);
      break;
    case 'error':
      // the engine carries on (a cache it skipped, a restarted worker, a lost GPU): the integrator's to read;
      // a call that fails because of it shows the visitor text through its own rejection
      // (an error event's message may already end with its fix)
      console.warn(`[on-device-recs demo] ${e.code}: ${e.message.endsWith(e.fix) ? e.message : `${e.message} ${e.fix}`}`.trim());
      break;
    case 'measurement':
      showReport(e.report, e.sent);
      break;
    case 'change':
      // events from another tab, a history reload, or a deletion
      if (e.what === 'deleted') {
        liked.clear();
        dismissed.clear();
      }
      if (engineReady) void refreshPersonal();
      break;
  }
}
recs.on(onEngineEvent);

// ------------------------------------------------------------------ measurement toggle

const measureToggle = $<HTMLInputElement>('#measurement-toggle');
measureToggle.checked = measurement !== undefined;
$('#measurement-note').textContent = !measurement
  ? 'Off: nothing is sent. Turn it on to see the private reports this page would send.'
  : measurement.dryRun
    ? 'On (preview): after 15 s without new recommendations, your visit becomes one randomized report, shown here; none is sent.'
    : 'On: reports are sent to ./measure.';
measureToggle.addEventListener('change', () => {
  const next = new URLSearchParams(location.hash.slice(1));
  if (measureToggle.checked) next.set('measurement', 'on');
  else next.delete('measurement');
  location.hash = next.toString();
  location.reload();
});

/** A report that left the device (or would have): shown as the exact text, never parsed as HTML. */
function showReport(body: string, sent: boolean): void {
  const list = $('#measurement-reports');
  list.prepend(el('li', { attrs: { 'data-sent': String(sent) } }, [el('code', { text: body.trimEnd() })]));
}

// ------------------------------------------------------------------ card actions

function titleOf(id: string | undefined): string {
  if (!id) return '';
  return (
    byId.get(id)?.title ?? document.querySelector<HTMLElement>(`.rec-card[data-item-id="${CSS.escape(id)}"] .card-title`)?.textContent ?? `item ${id}`
  );
}

const ACTION_DONE: Record<'click' | 'like' | 'dismiss', string> = { click: 'Opened', like: 'Liked', dismiss: 'Dismissed' };

document.addEventListener('click', (ev) => {
  const target = ev.target;
  if (!(target instanceof Element)) return;
  const button = target.closest<HTMLButtonElement>('button[data-action]');
  const cardEl = button?.closest<HTMLElement>('.rec-card');
  const itemId = cardEl?.dataset.itemId;
  const action = button?.dataset.action;
  if (!cardEl || !itemId || (action !== 'click' && action !== 'like' && action !== 'dismiss')) return;
  const title = titleOf(itemId);
  // optimistic visual feedback on every card of that item
  if (action === 'like' || action === 'dismiss') {
    (action === 'like' ? liked : dismissed).add(itemId);
    if (action === 'like') dismissed.delete(itemId);
    else liked.delete(itemId);
    for (const c of document.querySelectorAll<HTMLElement>(`.rec-card[data-item-id="${CSS.escape(itemId)}"]`)) {
      c.classList.toggle('is-liked', liked.has(itemId));
      c.classList.toggle('is-dismissed', dismissed.has(itemId));
    }
  }
  announce(`${ACTION_DONE[action]} ${title}`);
  recs
    .track({ type: action, itemId, context: { slot: cardEl.closest('section')?.id ?? 'page' } })
    .catch((e: unknown) => showError(e, 'That could not be saved on this device right now.'))
    .finally(() => void refreshPersonal());
});

// ------------------------------------------------------------------ personal sections

let refreshing: Promise<void> | null = null;
let refreshAgain = false;

/**
 * Re-renders For you, Because you viewed and the privacy panel. Calls made while
 * a refresh runs are coalesced into one more pass, so a burst of events (another
 * tab, a benchmark) costs two refreshes, not hundreds. The promise resolves
 * after a pass that started after the call.
 */
function refreshPersonal(): Promise<void> {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      try {
        await renderPersonal();
      } catch (e) {
        showError(e);
      }
    } while (refreshAgain);
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function renderPersonal(): Promise<void> {
  const [history, forYou, stats] = await Promise.all([recs.history(ANCHOR_LOOKBACK), recs.recommend({ k: FOR_YOU_K }), recs.stats()]);

  const forYouSection = $('#for-you');
  renderCards($('.cards', forYouSection), fromRecommendations(forYou), 'No recommendations yet: the catalog may still be loading.', cardState);
  $('.section-note', forYouSection).textContent = history.length
    ? `Ranked in this browser from the ${stats.events.toLocaleString()} event${stats.events === 1 ? '' : 's'} in your on-device history.`
    : 'Popular picks for now. Open, like or dismiss a few movies and this list becomes yours.';
  if (forYou.length && document.body.dataset.ready !== 'true') document.body.dataset.ready = 'true';

  const anchor = [...history].reverse().find((e) => e.itemId && ANCHOR_TYPES.has(e.type))?.itemId;
  const because = $('#because-viewed');
  if (anchor) {
    const similar = await recs.similar(anchor, SIMILAR_K);
    $('#because-heading').textContent = `Because you viewed ${titleOf(anchor)}`;
    renderCards($('.cards', because), fromRecommendations(similar), 'Nothing similar found.', cardState);
    because.hidden = false;
  } else {
    because.hidden = true;
    $('.cards', because).replaceChildren();
  }

  renderPrivacy(stats, history);
}

function renderPrivacy(stats: EngineStats, history: StoredEvent[]): void {
  $('#privacy-events').textContent = String(stats.events);
  $('#privacy-vectors').textContent = String(stats.cachedVectors);
  $('#privacy-bytes').textContent = stats.storageBytes === undefined ? 'unknown' : formatBytes(stats.storageBytes);
  if (stats.backend) setBackend(stats.backend);
  const recent = history.slice(-HISTORY_SHOWN).reverse();
  $('#privacy-history-empty').hidden = recent.length > 0;
  $('#privacy-history').replaceChildren(
    ...recent.map((e) => {
      const when = new Date(e.timestamp);
      const what = e.type === 'search' ? `“${e.query ?? ''}”` : titleOf(e.itemId);
      return el('li', { attrs: { 'data-event-type': e.type } }, [
        el('span', { className: 'event-type', text: EVENT_LABEL[e.type] ?? e.type }),
        document.createTextNode(' '),
        el('span', { className: 'event-item', text: what, attrs: { title: what } }),
        document.createTextNode(' '),
        el('time', { className: 'event-time', text: when.toLocaleTimeString(), attrs: { datetime: when.toISOString() } }),
      ]);
    }),
  );
}

// ------------------------------------------------------------------ search

const searchInput = $<HTMLInputElement>('#search-input');
const searchSection = $('#search');
let searchTimer: ReturnType<typeof setTimeout> | undefined;
let searchRun = 0;

async function runSearch(): Promise<void> {
  clearTimeout(searchTimer);
  const query = searchInput.value.trim();
  const run = ++searchRun;
  const results = $('#search-results');
  if (!query) {
    results.replaceChildren();
    searchSection.classList.remove('has-results');
    return;
  }
  if (!engineReady) {
    // search() waits for the catalog the engine is loading, then answers
    results.replaceChildren(el('p', { className: 'empty', text: 'Search starts as soon as the catalog is ready…' }));
    searchSection.classList.add('has-results');
  }
  try {
    const found = await recs.search(query, SEARCH_K);
    if (run !== searchRun) return;
    renderCards(results, fromRecommendations(found), `No movies match “${query}”.`, cardState);
    searchSection.classList.add('has-results');
  } catch (e) {
    if (run !== searchRun) return;
    logError(e);
    results.replaceChildren(el('p', { className: 'empty', text: 'Search is not available right now.' }));
    searchSection.classList.add('has-results');
  }
}

searchInput.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => void runSearch(), SEARCH_DEBOUNCE_MS);
});
searchInput.addEventListener('keydown', (ev) => {
  if (ev.key !== 'Enter') return;
  ev.preventDefault();
  const query = searchInput.value.trim();
  void runSearch();
  if (!query) return;
  recs
    .track({ type: 'search', query })
    .catch((e: unknown) => showError(e, 'That search could not be remembered on this device right now.'))
    .finally(() => void refreshPersonal());
});

// ------------------------------------------------------------------ browse

let genre: string | null = null;
let page = 0;
const browse = $('#browse');

function renderBrowse(): void {
  const list = genre ? catalog.filter((it) => genresOf(it).includes(genre as string)) : catalog;
  const pages = Math.max(1, Math.ceil(list.length / PAGE_SIZE));
  page = Math.max(0, Math.min(page, pages - 1));
  const shown: CardModel[] = list.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map((item) => ({ item }));
  renderCards($('.cards', browse), shown, catalog.length ? 'No movies in this genre.' : 'Loading the catalog…', cardState);
  $('.page-label', browse).textContent = `Page ${page + 1} of ${pages} · ${list.length.toLocaleString()} movies`;
  $<HTMLButtonElement>('.prev', browse).disabled = page === 0;
  $<HTMLButtonElement>('.next', browse).disabled = page >= pages - 1;
}

function turnPage(delta: number): void {
  page += delta;
  renderBrowse();
  const top = browse.getBoundingClientRect().top;
  if (top < 0) browse.scrollIntoView({ block: 'start', behavior: reducedMotion.matches ? 'auto' : 'smooth' });
}
$('.prev', browse).addEventListener('click', () => turnPage(-1));
$('.next', browse).addEventListener('click', () => turnPage(1));

function renderChips(): void {
  const counts = new Map<string, number>();
  for (const it of catalog) for (const g of genresOf(it)) counts.set(g, (counts.get(g) ?? 0) + 1);
  const genres = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const chip = (label: string, value: string | null, count: number): HTMLButtonElement => {
    const b = el('button', { className: 'chip', attrs: { type: 'button', 'aria-pressed': String(genre === value), 'data-genre': value ?? '' } }, [
      el('span', { text: label }),
      el('span', { className: 'chip-count', text: count.toLocaleString(), attrs: { 'aria-hidden': 'true' } }),
    ]);
    b.setAttribute('aria-label', `${label} (${count} movies)`);
    b.addEventListener('click', () => {
      genre = value;
      page = 0;
      renderChips();
      renderBrowse();
      $<HTMLButtonElement>(`.chip[data-genre="${CSS.escape(value ?? '')}"]`, browse).focus();
    });
    return b;
  };
  $('.chips', browse).replaceChildren(chip('All', null, catalog.length), ...genres.map(([g, n]) => chip(g, g, n)));
}

async function loadBrowseCatalog(): Promise<void> {
  const res = await fetch(CATALOG_URL);
  if (!res.ok) throw new Error(`Could not load the catalog for browsing (${res.status} ${res.statusText} for ${CATALOG_URL}).`);
  const items = (await res.json()) as unknown;
  if (!Array.isArray(items)) throw new Error(`${CATALOG_URL} is not a JSON array of items.`);
  catalog = (items as CatalogItem[]).filter((it) => it && typeof it.id === 'string' && typeof it.title === 'string');
  byId.clear();
  for (const it of catalog) byId.set(it.id, it);
  renderChips();
  renderBrowse();
}

// ------------------------------------------------------------------ privacy actions

$('#export-button').addEventListener('click', async () => {
  try {
    const data = await recs.exportData();
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    const a = el('a', { attrs: { href: url, download: 'on-device-recs-export.json' } });
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    announce(`Exported ${data.events.length} event${data.events.length === 1 ? '' : 's'} to on-device-recs-export.json`);
  } catch (e) {
    showError(e, 'The export is not available right now. Please try again.');
  }
});

$('#delete-button').addEventListener('click', async () => {
  if (
    document.body.dataset.noConfirm !== 'true' &&
    !window.confirm('Delete everything this demo stored on this device (history, profile, cached vectors)?')
  )
    return;
  const button = $<HTMLButtonElement>('#delete-button');
  button.disabled = true;
  try {
    await recs.deleteData();
    liked.clear();
    dismissed.clear();
    $('#because-viewed').hidden = true;
    renderBrowse();
    await Promise.all([refreshPersonal(), runSearch()]);
    announce('Deleted all data stored on this device');
  } catch (e) {
    showError(e, 'The data stored on this device could not be deleted right now. Please try again.');
  } finally {
    button.disabled = false;
  }
});

// ------------------------------------------------------------------ start

async function start(): Promise<void> {
  renderBrowse();
  // browsing works even if the engine fails, and the engine even if browsing fails
  const browsing = loadBrowseCatalog().catch((e: unknown) => showError(e, 'The movie list is not available right now.'));
  try {
    const report = await recs.setCatalog(CATALOG_URL);
    // an empty catalog (or one whose every item was refused) is the integrator's to fix: the error event logs it,
    // and the visitor gets the neutral line when the recommendations fail below
    if (report.problems.length && !report.error) {
      const first = report.problems[0];
      console.warn('[on-device-recs demo] catalog problems', report.problems);
      showNotice(
        `${report.problems.length} catalog item${report.problems.length === 1 ? ' was' : 's were'} skipped (${first.id ?? `#${first.index}`}: ${first.field} ${first.message}).`,
      );
    }
    showProgress({ phase: 'ready', done: report.loaded, total: report.loaded });
    engineReady = true;
    await browsing; // titles for history and headings
    await refreshPersonal();
  } catch (e) {
    showError(e);
    const bar = $('#progress');
    bar.dataset.state = 'failed';
    $('.progress-label', bar).textContent = 'Could not start the engine';
  }
}
void start();
