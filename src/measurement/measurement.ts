/**
 * Opt-in measurement on the device (`measurement` option; off by default, and then
 * this module is never constructed). It counts, per visit at the placement, what
 * recommend() showed (ranked or explored slots) and what the visitor did with it;
 * when a visit ends (`visitGapMs` without a new slate, or the UTC day changed) it
 * turns the visit into one locally differentially private report (src/measurement/ldp.ts),
 * if the visitor's privacy budget for that day allows, and sends the pending reports
 * in a batch after a random delay, one POST per report of exactly REPORT_BYTES bytes,
 * without cookies or referrer. Once the day's budget is spent nothing more is reported
 * for that day.
 *
 * Everything is kept in the store ('measurement' and 'measurement:variant' state):
 * the open visit, daily counts, the budget spent, pending reports and the reports
 * sent; exported and deleted with the rest of the visitor's data.
 */
import type { EngineEvent, StoredEvent } from '../types';
import { EVENTS, type Source } from '../vocabulary';
import type { RecommenderStore } from '../store';
import { errorEvent } from '../store/errors';
import { encodeReport, randomize, utcDay, type ReportValues } from './ldp';

/** The measurement settings the engine needs (src/options.ts resolves and checks them). */
export interface MeasurementSettings {
  /** Absolute URL reports are POSTed to. */
  endpoint: string;
  placement: string;
  /** Epsilon of one report. */
  epsilon: number;
  /** Most epsilon spent on one visitor's reports about one day. */
  dailyEpsilon: number;
  /** Quiet time that ends a visit. */
  visitGapMs: number;
  /** Pending reports are sent after a random delay of up to this much. */
  maxDelayMs: number;
  /** Build, budget and log reports, but send none (a 'measurement' event shows each). */
  dryRun: boolean;
  /** The A/B variants declared (none: no A/B test) and the visitor's (0-based). */
  variants: readonly unknown[];
  variant: number;
}

export interface MeasurementDeps {
  store: () => Promise<RecommenderStore>;
  emit: (e: EngineEvent) => void;
  now: () => number;
  /** POSTs one report body; resolves true when the endpoint accepted it. */
  send?: (endpoint: string, body: string) => Promise<boolean>;
  /** Uniform [0, 1): randomized response, delays, the variant draw. Default: crypto.getRandomValues. */
  random?: () => number;
}

type Bucket = 'ranked' | 'explored';
const bucket = (s: Source): Bucket => (s === 'ranked' ? 'ranked' : 'explored');

interface Visit {
  placement: string;
  day: string;
  variant: number;
  last: number;
  slates: number;
  impressions: Record<Bucket, number>;
  /** Clicks, likes, add-to-carts and purchases on shown slots. */
  clicks: Record<Bucket, number>;
  addToCart: number;
  purchases: number;
  dismissals: number;
  /** Recently shown item ids and their bucket (on the device only; never in a report). */
  shown: [string, Bucket][];
}

/** What the device counted on one day at one placement (kept on the device, 30 days). */
interface DayCounts extends Omit<Visit, 'last' | 'shown'> {
  visits: number;
  reported: number;
  /** Visits not reported because the day's budget was spent. */
  unreported: number;
}

/** The counts a visit and a day both keep, all at zero. */
function zeroCounts(): Pick<Visit, 'slates' | 'impressions' | 'clicks' | 'addToCart' | 'purchases' | 'dismissals'> {
  return { slates: 0, impressions: { ranked: 0, explored: 0 }, clicks: { ranked: 0, explored: 0 }, addToCart: 0, purchases: 0, dismissals: 0 };
}

interface Saved {
  version: 1;
  open: Visit | null;
  days: DayCounts[];
  budget: { day: string; spent: number }[];
  pending: { body: string; day: string; tries: number }[];
  sent: { body: string; day: string; dryRun: boolean }[];
}

const STATE_KEY = 'measurement';
const VARIANT_KEY = 'measurement:variant';
const KEPT_DAYS = 30;
const KEPT_SENT = 100;
const MAX_SHOWN = 500;
const MAX_TRIES = 5;
const SAVE_DELAY_MS = 50;

const empty = (): Saved => ({ version: 1, open: null, days: [], budget: [], pending: [], sent: [] });

export function cryptoRandom(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] / 2 ** 32;
}

async function fetchSend(endpoint: string, body: string): Promise<boolean> {
  const res = await fetch(endpoint, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json' },
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
    cache: 'no-store',
    redirect: 'error',
    keepalive: true,
  });
  return res.ok;
}

/**
 * The visitor's A/B variant: drawn once on the device (uniformly) and kept in the store;
 * drawn again when the site declares other variants. 0 when there are none, or the store fails.
 */
export async function chooseVariant(store: RecommenderStore, names: readonly string[], random: () => number = cryptoRandom): Promise<number> {
  if (names.length <= 1) return 0;
  const key = names.join('\n');
  try {
    const saved = await store.getState<{ key: string; variant: number }>(VARIANT_KEY);
    if (saved && saved.key === key && Number.isInteger(saved.variant) && saved.variant >= 0 && saved.variant < names.length) return saved.variant;
    const variant = Math.min(names.length - 1, Math.floor(random() * names.length));
    await store.putState(VARIANT_KEY, { key, variant });
    return variant;
  } catch {
    return 0;
  }
}

export class Measurement {
  private state: Saved = empty();
  private loaded: Promise<void> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private visitTimer: ReturnType<typeof setTimeout> | null = null;
  private sendTimer: ReturnType<typeof setTimeout> | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;
  /** Something changed since the last save. */
  private dirty = false;
  private readonly random: () => number;
  private readonly send: (endpoint: string, body: string) => Promise<boolean>;

  constructor(
    private readonly settings: MeasurementSettings,
    private readonly deps: MeasurementDeps,
  ) {
    this.random = deps.random ?? cryptoRandom;
    this.send = deps.send ?? fetchSend;
  }

  /** A slate recommend() showed at the placement: its slots' items and sources. */
  slate(shown: readonly { itemId: string; source: Source }[]): void {
    if (shown.length === 0) return;
    this.run(() => {
      const now = this.deps.now();
      const visit = this.current(now) ?? this.openVisit(now);
      visit.slates++;
      for (const s of shown) {
        const b = bucket(s.source);
        visit.impressions[b]++;
        visit.shown.push([s.itemId, b]);
      }
      if (visit.shown.length > MAX_SHOWN) visit.shown.splice(0, visit.shown.length - MAX_SHOWN);
      this.touch(visit, now);
    });
  }

  /** A tracked event: counted when it lands on an item shown in the current visit. */
  event(event: StoredEvent): void {
    const itemId = event.itemId;
    if (!itemId) return;
    this.run(() => {
      const now = this.deps.now();
      const visit = this.current(now);
      let hit: [string, Bucket] | undefined;
      for (let i = (visit?.shown.length ?? 0) - 1; i >= 0 && !hit; i--) if (visit?.shown[i][0] === itemId) hit = visit.shown[i];
      if (!visit || !hit) return;
      const meaning = EVENTS[event.type];
      if (meaning.reward === 1) visit.clicks[hit[1]]++;
      if (event.type === 'add_to_cart') visit.addToCart++;
      if (event.type === 'purchase') visit.purchases++;
      if (event.type === 'dismiss') visit.dismissals++;
      this.touch(visit, now);
    });
  }

  /** Ends the open visit if it is over by now (the visit timer does this on its own). */
  checkVisit(): void {
    this.run(() => void this.current(this.deps.now()));
  }

  /** Waits for the work queued so far (tests, close). */
  settled(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  /** Writes the state now (before an export). */
  async persist(): Promise<void> {
    await this.settled();
    if (this.dirty) await this.save();
  }

  /** Writes pending state and stops the timers (the engine closes); reports wait for the next visit. */
  async close(): Promise<void> {
    await this.settled();
    this.stopTimers();
    if (this.dirty) await this.save().catch(() => undefined);
  }

  /** The visitor forgot an item: its id leaves the open visit's shown slots (the day counts hold no item ids). */
  forgetItem(itemId: string): Promise<void> {
    this.run(() => {
      const open = this.state.open;
      if (!open || !open.shown.some(([id]) => id === itemId)) return;
      open.shown = open.shown.filter(([id]) => id !== itemId);
      this.dirty = true;
    });
    return this.persist();
  }

  /** Forgets everything (the visitor's data was deleted): nothing is counted, pending or sent from before. */
  reset(): void {
    this.generation++;
    this.stopTimers();
    this.state = empty();
    this.dirty = false;
    this.loaded = Promise.resolve();
    this.queue = Promise.resolve();
  }

  // ------------------------------------------------------------ internals

  private run(fn: () => void | Promise<void>): void {
    const generation = this.generation;
    this.queue = this.queue
      .then(() => this.load())
      .then(() => (generation === this.generation ? fn() : undefined))
      .catch((e: unknown) =>
        this.deps.emit(
          errorEvent(e, 'Measurement could not update its on-device counts', {
            code: 'storage',
            fix: 'Nothing to do: measurement carries on with the next visit.',
          }),
        ),
      );
  }

  private load(): Promise<void> {
    this.loaded ??= (async () => {
      const saved = await (await this.deps.store()).getState<Saved>(STATE_KEY).catch(() => undefined);
      if (saved && saved.version === 1 && Array.isArray(saved.days) && Array.isArray(saved.pending)) this.state = { ...empty(), ...saved };
      // a visit left open by an earlier page (or tab) ends if it is over, else it goes on here
      const open = this.current(this.deps.now());
      if (open) this.armVisitTimer(open);
      this.scheduleSend();
    })();
    return this.loaded;
  }

  /** The open visit if it goes on at `now`; an open visit that is over is reported first. */
  private current(now: number): Visit | null {
    const open = this.state.open;
    if (!open) return null;
    if (open.day === utcDay(now) && now - open.last < this.settings.visitGapMs && open.placement === this.settings.placement) return open;
    this.endVisit(open);
    return null;
  }

  private openVisit(now: number): Visit {
    const visit: Visit = {
      placement: this.settings.placement,
      day: utcDay(now),
      variant: this.settings.variant,
      last: now,
      ...zeroCounts(),
      shown: [],
    };
    this.state.open = visit;
    return visit;
  }

  private touch(visit: Visit, now: number): void {
    visit.last = now;
    this.scheduleSave();
    this.armVisitTimer(visit);
  }

  /** Ends the visit once it has been quiet for visitGapMs: the timer checks at the gap after the last activity it knew of, and waits again if there was more. */
  private armVisitTimer(visit: Visit): void {
    if (this.visitTimer) return;
    const wait = Math.max(1, visit.last + this.settings.visitGapMs - this.deps.now() + 1);
    this.visitTimer = setTimeout(() => {
      this.visitTimer = null;
      this.run(() => {
        const open = this.current(this.deps.now());
        if (open) this.armVisitTimer(open);
      });
    }, wait);
    unref(this.visitTimer);
  }

  /** The visit is over: counted for its day and, within the day's budget, turned into a randomized report. */
  private endVisit(visit: Visit): void {
    this.state.open = null;
    if (this.visitTimer) clearTimeout(this.visitTimer);
    this.visitTimer = null;
    let day = this.state.days.find((d) => d.day === visit.day && d.placement === visit.placement && d.variant === visit.variant);
    if (!day) {
      day = {
        placement: visit.placement,
        day: visit.day,
        variant: visit.variant,
        ...zeroCounts(),
        visits: 0,
        reported: 0,
        unreported: 0,
      };
      this.state.days.push(day);
    }
    day.visits++;
    day.slates += visit.slates;
    for (const b of ['ranked', 'explored'] as const) {
      day.impressions[b] += visit.impressions[b];
      day.clicks[b] += visit.clicks[b];
    }
    day.addToCart += visit.addToCart;
    day.purchases += visit.purchases;
    day.dismissals += visit.dismissals;
    if (this.state.days.length > KEPT_DAYS) this.state.days.splice(0, this.state.days.length - KEPT_DAYS);

    const { epsilon, dailyEpsilon } = this.settings;
    let budget = this.state.budget.find((b) => b.day === visit.day);
    if (!budget) {
      budget = { day: visit.day, spent: 0 };
      this.state.budget = [...this.state.budget, budget].slice(-7);
    }
    if (budget.spent + epsilon > dailyEpsilon + 1e-9) {
      day.unreported++; // the day's privacy budget is spent: nothing more about this day leaves the device
    } else {
      budget.spent += epsilon;
      day.reported++;
      const truth: ReportValues = {
        variant: visit.variant,
        click: visit.clicks.ranked + visit.clicks.explored > 0 ? 1 : 0,
        explored: visit.clicks.explored > 0 ? 1 : 0,
        conversion: visit.addToCart + visit.purchases > 0 ? 1 : 0,
        dismiss: visit.dismissals > 0 ? 1 : 0,
      };
      const variants = Math.max(1, this.settings.variants.length);
      const noisy = randomize(truth, { epsilon, variants }, this.random);
      const body = encodeReport({ v: 1, placement: visit.placement, day: visit.day, epsilon, variants, ...noisy });
      this.state.pending.push({ body, day: visit.day, tries: 0 });
    }
    this.scheduleSave();
    this.scheduleSend();
  }

  private scheduleSend(): void {
    if (this.sendTimer || this.state.pending.length === 0) return;
    this.sendTimer = setTimeout(
      () => {
        this.sendTimer = null;
        this.run(() => this.sendPending());
      },
      Math.floor(this.random() * this.settings.maxDelayMs),
    );
    unref(this.sendTimer);
  }

  /** Sends the pending reports as one batch, in random order; a failed one is tried again in a later batch. */
  private async sendPending(): Promise<void> {
    const batch = this.state.pending.splice(0);
    for (let i = batch.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [batch[i], batch[j]] = [batch[j], batch[i]];
    }
    const generation = this.generation;
    for (const report of batch) {
      let ok = this.settings.dryRun;
      if (!ok) ok = await this.send(this.settings.endpoint, report.body).catch(() => false);
      if (generation !== this.generation) return; // deleted meanwhile
      if (ok) {
        this.state.sent = [...this.state.sent, { body: report.body, day: report.day, dryRun: this.settings.dryRun }].slice(-KEPT_SENT);
        this.deps.emit({ type: 'measurement', report: report.body, sent: !this.settings.dryRun });
      } else if (++report.tries < MAX_TRIES) this.state.pending.push(report);
    }
    await this.save();
    this.scheduleSend();
  }

  private scheduleSave(): void {
    this.dirty = true;
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      this.run(() => this.save());
    }, SAVE_DELAY_MS);
    unref(this.saveTimer);
  }

  private async save(): Promise<void> {
    this.dirty = false;
    await (await this.deps.store()).putState(STATE_KEY, this.state);
  }

  private stopTimers(): void {
    for (const t of [this.visitTimer, this.sendTimer, this.saveTimer]) if (t) clearTimeout(t);
    this.visitTimer = this.sendTimer = this.saveTimer = null;
  }
}

/** Timers must not keep Node (tests, tools) alive; browsers have no unref. */
function unref(t: ReturnType<typeof setTimeout>): void {
  (t as { unref?: () => void }).unref?.();
}
