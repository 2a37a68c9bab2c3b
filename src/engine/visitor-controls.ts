/**
 * The visitor's controls on the device: "forget this" (one item's events and
 * their effect everywhere), "not interested in <category>" (through the one rule
 * set: `rules.excludeWhere`), the pause switch for personalisation and "more
 * variety" (the MMR weight). The settings live in the store's 'visitor-controls'
 * state entry, so exportData() includes them and deleteData() removes them.
 */
import type { BusinessRules, EngineEvent, ForgetReport, TrackEvent, VisitorControls } from '../types';
import { RecommenderError } from '../errors';
import type { RecommenderStore } from '../store';
import type { RankingConfig } from '../ranking/score';
import type { Measurement } from '../measurement/measurement';
import type { EventLog } from './event-log';
import type { ExplorationState } from './exploration-state';
import { validateEvent } from './event-validation';

export const CONTROLS_STATE_KEY = 'visitor-controls';
const MAX_CATEGORIES = 200;
const MAX_CATEGORY_LENGTH = 200;

export interface VisitorControlsDeps {
  store: () => Promise<RecommenderStore>;
  events: EventLog;
  exploration: ExplorationState;
  measurement: Measurement | null;
  emit: (e: EngineEvent) => void;
  now: () => number;
  /** The personal ranking must be built again (the profile changed or pause toggled). */
  onChange: () => void;
  channel?: { post(msg: unknown): void; onMessage(cb: (msg: unknown) => void): void };
}

function defaults(): VisitorControls {
  return { paused: false, notInterested: [], variety: null };
}

function invalid(message: string, fix: string): RecommenderError {
  return new RecommenderError('invalid_options', message, fix);
}

/** Checks a setControls() change: only known keys of the right types. */
export function validateControlsChange(change: unknown): Partial<VisitorControls> {
  if (!change || typeof change !== 'object' || Array.isArray(change))
    throw invalid(
      'setControls() takes an object.',
      'Call setControls({ paused: true }), setControls({ notInterested: ["Horror"] }) or setControls({ variety: 0.5 }).',
    );
  const out: Partial<VisitorControls> = {};
  for (const [key, value] of Object.entries(change)) {
    if (key === 'paused') {
      if (typeof value !== 'boolean')
        throw invalid(`setControls(): paused must be true or false, got ${typeof value}.`, 'Pass { paused: true } or { paused: false }.');
      out.paused = value;
    } else if (key === 'notInterested') {
      const ok =
        Array.isArray(value) &&
        value.length <= MAX_CATEGORIES &&
        value.every((c) => typeof c === 'string' && c.length > 0 && c.length <= MAX_CATEGORY_LENGTH);
      if (!ok)
        throw invalid(
          `setControls(): notInterested must be an array of at most ${MAX_CATEGORIES} category names (non-empty strings up to ${MAX_CATEGORY_LENGTH} characters).`,
          'Pass { notInterested: ["Horror"] } ([] to clear).',
        );
      out.notInterested = [...new Set(value as string[])];
    } else if (key === 'variety') {
      if (value !== null && !(typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1))
        throw invalid(
          `setControls(): variety must be a number from 0 to 1 or null, got ${String(value)}.`,
          'Pass { variety: 0.5 } (null: the site default).',
        );
      out.variety = value;
    } else {
      throw invalid(`setControls(): unknown control "${key.slice(0, 40)}".`, 'Use paused, notInterested or variety.');
    }
  }
  return out;
}

/** A stored entry read back: anything of the wrong shape falls back to the defaults, key by key. */
function fromStored(raw: unknown): VisitorControls {
  const v = defaults();
  if (!raw || typeof raw !== 'object') return v;
  const r = raw as Record<string, unknown>;
  if (typeof r.paused === 'boolean') v.paused = r.paused;
  if (Array.isArray(r.notInterested)) v.notInterested = r.notInterested.filter((c): c is string => typeof c === 'string').slice(0, MAX_CATEGORIES);
  if (typeof r.variety === 'number' && r.variety >= 0 && r.variety <= 1) v.variety = r.variety;
  return v;
}

export class VisitorControlsState {
  private value: VisitorControls = defaults();
  private loaded: Promise<void> | null = null;
  private settled = false;
  /** track() calls made before the controls were loaded (forget() waits for them to queue their events). */
  private firstTracks: Promise<void> = Promise.resolve();

  constructor(private readonly deps: VisitorControlsDeps) {
    deps.channel?.onMessage((msg) => {
      if ((msg as { type?: unknown } | null)?.type === 'controls') void this.reload();
    });
  }

  /** Loads the stored controls once; later calls reuse them. */
  ready(): Promise<void> {
    this.loaded ??= this.reload().then(() => void (this.settled = true));
    return this.loaded;
  }

  private async reload(): Promise<void> {
    try {
      this.value = fromStored(await (await this.deps.store()).getState(CONTROLS_STATE_KEY));
    } catch (e) {
      this.deps.emit({
        type: 'error',
        code: 'corrupt_record',
        message: `The visitor's controls could not be read, using the defaults: ${(e as Error).message}`,
        fix: 'Nothing to do: they are stored again when the visitor changes them.',
      });
    }
    this.deps.onChange();
  }

  /** True while personalisation is paused (after ready()). */
  get paused(): boolean {
    return this.value.paused;
  }

  async get(): Promise<VisitorControls> {
    await this.ready();
    return { ...this.value, notInterested: [...this.value.notInterested] };
  }

  async set(change: unknown): Promise<VisitorControls> {
    const checked = validateControlsChange(change);
    await this.ready();
    this.value = { ...this.value, ...checked };
    await (await this.deps.store()).putState(CONTROLS_STATE_KEY, this.value);
    this.deps.onChange();
    this.deps.channel?.post({ type: 'controls' });
    return this.get();
  }

  /**
   * While paused, track() validates the event (a bad call still rejects with its code)
   * and stores nothing; true when the event was dropped that way. Answers at once once
   * the controls are loaded, so track() queues its event in call order (forget() relies on it).
   */
  dropWhilePaused(input: TrackEvent, knownItem: ((id: string) => boolean) | null): boolean | Promise<boolean> {
    const drop = (): boolean => {
      if (!this.value.paused) return false;
      validateEvent(input, 'paused', this.deps.now(), knownItem);
      return true;
    };
    if (this.settled) return drop();
    const answer = this.ready().then(drop);
    this.firstTracks = answer.then(
      () => undefined,
      () => undefined,
    );
    return answer;
  }

  /** The ranking configuration with the visitor's variety (1 - MMR lambda) when they chose one. */
  config(base: RankingConfig): RankingConfig {
    return this.value.variety === null ? base : { ...base, mmrLambda: 1 - this.value.variety };
  }

  /** A call's options with the visitor's "not interested" categories added to the one rule set (excludeWhere). */
  withExclusions<T extends { rules?: BusinessRules }>(options: T): T {
    const categories = this.value.notInterested;
    if (categories.length === 0) return options;
    const excludeWhere = [...(options.rules?.excludeWhere ?? []), { attribute: 'category', equals: [...categories] }];
    return { ...options, rules: { ...options.rules, excludeWhere } };
  }

  /** "Forget this": the item's events leave IndexedDB and memory, its impressions the exploration state, its id measurement. */
  async forget(itemId: unknown): Promise<ForgetReport> {
    if (typeof itemId !== 'string' || itemId.length === 0 || itemId.length > 1000)
      throw invalid('forget() takes the id of an item (a non-empty string).', "Pass the itemId of a history item, e.g. from a reason's itemIds.");
    await this.ready();
    await this.firstTracks;
    const removedEvents = await this.deps.events.forgetItem(itemId);
    await this.deps.exploration.forgetItem(itemId);
    await this.deps.measurement?.forgetItem(itemId);
    this.deps.onChange();
    return { itemId, removedEvents };
  }

  /** Back to the defaults (all on-device data was deleted). */
  reset(): void {
    this.value = defaults();
    this.loaded = Promise.resolve();
    this.settled = true;
    this.deps.onChange();
  }
}
