/**
 * The visitor's exploration state on the device: the slate mixer's bandit, the
 * last slate shown (awaiting feedback) and the impression log with the
 * propensity of every slot, persisted in the store ('exploration' state) and
 * exported and deleted with the rest of the visitor's data.
 */
import type { EngineEvent, StoredEvent } from '../types';
import { EVENTS, type Source } from '../vocabulary';
import type { RecommenderStore } from '../store';
import { errorEvent } from '../store/errors';
import { mulberry32 } from '../math/random';
import type { RandomSource } from '../exploration/bandit';
import { SlateMixer, type MixerState, type ShownItem } from '../exploration/mixer';
import type { ExplorationConfig } from '../exploration/config';

/** One slot shown by recommend(): outcome 1 click (or better), 0 none, -1 dismiss, null still open. */
export interface Impression {
  itemId: string;
  slot: number;
  source: Source;
  propensity: number;
  at: number;
  outcome: number | null;
}

interface SlateEntry {
  itemId: string;
  shown: ShownItem;
  outcome: number | null;
}

interface SavedExploration {
  mixer: MixerState;
  counter: number;
  policy: string;
  impressions: Impression[];
  lastSlate: SlateEntry[];
}

/** Impressions kept in memory before the oldest are dropped (down to half), and in the saved state. */
const MAX_IMPRESSIONS = 1000;
const SAVED_IMPRESSIONS = 500;
const SAVE_DELAY_MS = 50;

export class ExplorationState {
  private mixer: SlateMixer;
  private slateCounter = 0;
  private lastSlate: SlateEntry[] = [];
  private impressions: Impression[] = [];
  private saveTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly config: ExplorationConfig,
    private readonly seed: number,
    private readonly store: () => Promise<RecommenderStore>,
    private readonly emit: (e: EngineEvent) => void,
  ) {
    this.mixer = new SlateMixer(config);
  }

  get slateMixer(): SlateMixer {
    return this.mixer;
  }

  /** Restores the saved state when it was made with the same policy and decay (else starts afresh). */
  async load(store: RecommenderStore): Promise<void> {
    try {
      const saved = await store.getState<SavedExploration>('exploration');
      if (saved && saved.policy === this.config.policy && saved.mixer?.version === 1 && saved.mixer.beta?.decay === this.config.decay) {
        this.mixer = new SlateMixer(this.config, saved.mixer);
        this.slateCounter = saved.counter ?? 0;
        this.impressions = saved.impressions ?? [];
        this.lastSlate = saved.lastSlate ?? [];
      }
    } catch (e) {
      this.emit({
        type: 'error',
        code: 'corrupt_record',
        message: `Exploration state unreadable, starting afresh: ${(e as Error).message}`,
        fix: 'Nothing to do: exploration learns again from the next slates.',
      });
    }
  }

  /** The random stream of the next slate: the same seed and calls give the same slates. */
  nextSlateRandom(): RandomSource {
    return mulberry32((this.seed ^ Math.imul(++this.slateCounter, 0x9e3779b1)) >>> 0);
  }

  /** Impressions of the previous slate that got no reaction count as failures. */
  closeSlate(): void {
    for (const e of this.lastSlate) {
      if (e.outcome !== null) continue;
      e.outcome = 0;
      this.mixer.feedback(e.shown, 0);
    }
    for (const i of this.impressions) if (i.outcome === null) i.outcome = 0;
  }

  /** Records a slate as shown: its slots wait for feedback, and each is logged with its propensity. */
  record(shown: readonly ShownItem[], itemIdOf: (item: number) => string, at: number, k: number): void {
    this.lastSlate = shown.map((sh) => ({ itemId: itemIdOf(sh.item), shown: sh, outcome: null }));
    for (const sh of shown)
      this.impressions.push({ itemId: itemIdOf(sh.item), slot: sh.slot, source: sh.source, propensity: sh.propensity, at, outcome: null });
    if (this.impressions.length > MAX_IMPRESSIONS) this.impressions.splice(0, this.impressions.length - SAVED_IMPRESSIONS);
    if (this.mixer.openSlots(k) > 0) this.scheduleSave();
  }

  /** Feedback from a tracked event to the slot of the last slate it lands on. */
  feedback(event: StoredEvent): void {
    if (!event.itemId) return;
    const entry = this.lastSlate.find((e) => e.itemId === event.itemId && e.outcome === null);
    const reward = EVENTS[event.type].reward;
    if (!entry || reward === null) return;
    entry.outcome = reward;
    this.mixer.feedback(entry.shown, reward);
    const logged = [...this.impressions].reverse().find((i) => i.itemId === entry.itemId && i.outcome === null);
    if (logged) logged.outcome = reward;
    this.scheduleSave();
  }

  impressionLog(): Impression[] {
    return this.impressions.map((i) => ({ ...i }));
  }

  private saved(): SavedExploration {
    return {
      mixer: this.mixer.toJSON(),
      counter: this.slateCounter,
      policy: this.config.policy,
      impressions: this.impressions.slice(-SAVED_IMPRESSIONS),
      lastSlate: this.lastSlate,
    };
  }

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = null;
      void this.store()
        .then((store) => store.putState('exploration', this.saved()))
        .catch((e: unknown) =>
          this.emit(
            errorEvent(e, 'Could not save the exploration state', { code: 'storage', fix: 'Nothing to do: it is saved again after the next slate.' }),
          ),
        );
    }, SAVE_DELAY_MS);
  }

  /** Writes a pending save now (on close). */
  async flush(): Promise<void> {
    if (!this.saveTimer) return;
    clearTimeout(this.saveTimer);
    this.saveTimer = null;
    await (await this.store()).putState('exploration', this.saved());
  }

  /**
   * The visitor forgot an item: its impressions and open slots leave the log. The
   * bandit's posteriors are sums over every slot and cannot take one item's
   * feedback back, so when the item was ever shown they start afresh. Saved now.
   */
  async forgetItem(itemId: string): Promise<void> {
    const shown = this.impressions.some((i) => i.itemId === itemId) || this.lastSlate.some((e) => e.itemId === itemId);
    if (!shown) return;
    this.impressions = this.impressions.filter((i) => i.itemId !== itemId);
    this.lastSlate = this.lastSlate.filter((e) => e.itemId !== itemId);
    this.mixer = new SlateMixer(this.config);
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
    await (await this.store()).putState('exploration', this.saved());
  }

  /** Forgets everything (all on-device data was deleted). */
  reset(): void {
    this.mixer = new SlateMixer(this.config);
    this.lastSlate = [];
    this.impressions = [];
    this.slateCounter = 0;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = null;
  }
}
