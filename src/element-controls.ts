/**
 * The visitor's controls inside `<on-device-recs>` (for-you mode): a "Why this?"
 * view per card listing the history items behind it, each with "Forget this", and
 * "Not interested in <category>"; above the cards a "Pause personalisation" switch
 * and a "More variety" switch. Catalog text is only ever set as text.
 */
import type { Recommendation, Recommender, VisitorControls } from './types';

/** The "more variety" switch sets this variety (the MMR weight 1 - lambda); off restores the site default. */
export const MORE_VARIETY = 0.7;

export const CONTROLS_CSS = `
li { flex-wrap: wrap; }
.why { flex-basis: 100%; font-size: .85em; color: var(--recs-muted, #5f6368); }
.why summary { cursor: pointer; }
.why [role="list"] { margin: .3em 0; }
.why [role="listitem"] { display: flex; gap: 6px; align-items: center; justify-content: space-between; margin: 2px 0; }
.why button, .controls input { cursor: pointer; }
.why button:focus-visible, .why summary:focus-visible, .controls input:focus-visible { outline: 3px solid var(--recs-focus, var(--recs-accent, #0a66c2)); }
.controls { display: flex; flex-wrap: wrap; gap: 1em; margin: 0 0 .6em; font-size: .85em; color: var(--recs-muted, #5f6368); }
`;

/** Titles of items this page has shown, so "Why this?" can name history items (an item the page never showed reads "An item you viewed"). */
const knownTitles = new Map<string, string>();

export function rememberTitles(result: readonly Recommendation[]): void {
  for (const r of result) knownTitles.set(r.itemId, r.item.title);
}

function button(text: string, part: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.setAttribute('part', part);
  b.setAttribute('aria-label', label);
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

export interface ControlActions {
  /** Runs a recommender call; errors go to the integrator (console, recs-error), then every element refreshes. */
  act: (fn: (recs: Recommender) => Promise<unknown>) => void;
}

/** The "Why this?" view of one card: its reasons, the history items behind them with "Forget this", and "Not interested in <category>". */
export function whyThisView(r: Recommendation, { act }: ControlActions): HTMLDetailsElement {
  const details = document.createElement('details');
  details.className = 'why';
  details.setAttribute('part', 'why');
  const summary = document.createElement('summary');
  summary.textContent = 'Why this?';
  const reasons = document.createElement('p');
  reasons.textContent = r.reasons.map((x) => x.text).join('. ');
  // divs with list roles: the cards are the element's only <li>s
  const list = document.createElement('div');
  list.setAttribute('role', 'list');
  list.setAttribute('aria-label', 'Based on these items from your history');
  const ids = [...new Set(r.reasons.flatMap((x) => x.itemIds ?? []))];
  for (const id of ids) {
    const row = document.createElement('div');
    row.setAttribute('role', 'listitem');
    row.dataset.historyItemId = id;
    const title = document.createElement('span');
    title.textContent = knownTitles.get(id) ?? 'An item you viewed';
    const name = knownTitles.get(id) ?? 'this item';
    row.append(
      title,
      button('Forget this', 'forget', `Forget ${name}`, () => act((recs) => recs.forget(id))),
    );
    list.append(row);
  }
  details.append(summary, reasons, list);
  const category = r.item.category;
  if (category) {
    details.append(
      button(`Not interested in ${category}`, 'not-interested', `Not interested in ${category}`, () =>
        act(async (recs) => {
          const now = await recs.controls();
          await recs.setControls({ notInterested: [...now.notInterested, category] });
        }),
      ),
    );
  }
  return details;
}

function toggle(label: string, part: string, onChange: (on: boolean) => void): { el: HTMLLabelElement; input: HTMLInputElement } {
  const el = document.createElement('label');
  const input = document.createElement('input');
  input.type = 'checkbox';
  input.setAttribute('role', 'switch');
  input.setAttribute('part', part);
  input.addEventListener('change', () => onChange(input.checked));
  el.append(input, ` ${label}`);
  return { el, input };
}

/** The switches above the cards; `show()` reflects the stored controls. */
export function controlsBar({ act }: ControlActions): { el: HTMLDivElement; show: (c: VisitorControls | null) => void } {
  const el = document.createElement('div');
  el.className = 'controls';
  el.setAttribute('part', 'controls');
  el.hidden = true;
  const pause = toggle('Pause personalisation', 'pause', (on) => act((recs) => recs.setControls({ paused: on })));
  const variety = toggle('More variety', 'variety', (on) => act((recs) => recs.setControls({ variety: on ? MORE_VARIETY : null })));
  el.append(pause.el, variety.el);
  return {
    el,
    show(c) {
      el.hidden = c === null;
      if (!c) return;
      pause.input.checked = c.paused;
      variety.input.checked = c.variety !== null && c.variety >= MORE_VARIETY;
    },
  };
}
