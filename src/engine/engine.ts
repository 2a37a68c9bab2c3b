/**
 * The engine: a thin facade that calls the rooms in data-flow order (see
 * src/README.md). It runs inside the Web Worker (src/workers/engine.worker.ts)
 * and, for tests and tools, directly in Node with injected dependencies. It
 * receives resolved options only (src/options.ts).
 */
import type {
  CatalogItem,
  CatalogReport,
  EngineEvent,
  EngineStats,
  ExportedData,
  ForgetReport,
  Reason,
  Recommendation,
  RecommendOptions,
  SearchOptions,
  SetCatalogOptions,
  SimilarOptions,
  StoredEvent,
  TrackEvent,
  VisitorControls,
} from '../types';
import { resolveK, resolveQuery, validateRecommendOptions, validateSearchOptions, validateSimilarOptions, type ResolvedOptions } from '../options';
import type { ModelFileReader } from '../runtime/model-files';
import { profileFromHistory, type Profile } from '../profile/profile';
import { forYouCandidates, searchCandidates, similarCandidates } from '../candidates/candidates';
import { ScoringPaths, type ScorerFactory } from '../candidates/scoring-paths';
import { dismissedItems, rankForYou, rankSearch, rankSimilar, type RankingInputs } from '../ranking/pipeline';
import { DEFAULT_RANKING_CONFIG, type RankingConfig } from '../ranking/score';
import { explainItem, searchReasons, shownRecommendations, similarReason, toRecommendation } from '../slate/explanations';
import { CatalogSlot, catalogInput, knownItemOf, loadCatalog, requireItem, type LoadedCatalog } from './catalog-loader';
import { engineStats } from './stats';
import { EventLog } from './event-log';
import { ExplorationState, type Impression } from './exploration-state';
import { EngineModels, type ModelSources } from './models';
import { applyItemUpdates, composeRuledSlate } from './ruled-slate';
import { Measurement, type MeasurementDeps } from '../measurement/measurement';
import { Listeners } from './listeners';
import { VisitorControlsState } from './visitor-controls';

export interface EngineDeps extends ModelSources {
  fetchCatalog?: (url: string) => Promise<unknown>;
  /** Reads files of an ahead-of-time catalog vector folder (setCatalog options.vectors). */
  vectorReader?: (folderUrl: string) => ModelFileReader;
  /** Builds the catalog scorer for a path (default: the TypeScript twin only). */
  scorer?: ScorerFactory;
  /** Cross-tab notifications (BroadcastChannel in browsers). */
  channel?: { post(msg: unknown): void; onMessage(cb: (msg: unknown) => void): void; close(): void };
  now?: () => number;
  tabId?: string;
  /** Opt-in measurement: how reports are POSTed (default fetch) and the randomness of the mechanism. */
  measurement?: Pick<MeasurementDeps, 'send' | 'random'>;
}

export class Engine {
  private readonly listeners = new Listeners();
  private readonly models: EngineModels;
  private readonly events: EventLog;
  private readonly exploration: ExplorationState;
  /** Opt-in measurement (src/measurement): null unless the integrator configured it. */
  readonly measurement: Measurement | null;
  private readonly scoring: ScoringPaths;
  private readonly config: RankingConfig;
  private readonly now: () => number;
  private readonly catalogs = new CatalogSlot();
  private profile: Profile | null = null;
  /** The visitor's controls: forget this, not interested, pause, more variety (visitor-controls.ts). */
  private readonly visitor: VisitorControlsState;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly deps: EngineDeps,
  ) {
    const emit = (e: EngineEvent): void => this.emit(e);
    this.now = deps.now ?? Date.now;
    const weights = { ...DEFAULT_RANKING_CONFIG.weights, coldSequence: options.newItems };
    this.config = { ...DEFAULT_RANKING_CONFIG, weights, mmrLambda: 1 - options.diversity, excludeSeen: options.excludeSeen };
    this.models = new EngineModels(deps, emit);
    this.scoring = new ScoringPaths({ path: options.scoring, forced: options.scoringForced, minItems: options.retrievalMinItems }, emit, deps.scorer);
    this.exploration = new ExplorationState(options.exploration, options.seed, () => this.models.store(), emit);
    const m = options.measurement;
    this.measurement = m && new Measurement(m, { store: () => this.models.store(), emit, now: this.now, ...deps.measurement });
    this.events = new EventLog({
      store: () => this.models.store(),
      emit,
      now: this.now,
      tabId: deps.tabId,
      retention: { maxEvents: options.maxEvents, maxEventAgeDays: options.maxEventAgeDays },
      announce: () => deps.channel?.post({ type: 'events' }),
      onChange: () => (this.profile = null),
      knownItem: () => knownItemOf(this.catalogs.loaded),
    });
    deps.channel?.onMessage((msg) => {
      const type = msg && typeof msg === 'object' ? (msg as { type?: unknown }).type : undefined;
      if (type === 'events') void this.events.reload();
      if (type === 'deleted') this.forget();
    });
    const onChange = (): void => void (this.profile = null);
    const { events, exploration, measurement, now } = this;
    this.visitor = new VisitorControlsState({ ...deps, store: () => this.models.store(), events, exploration, measurement, emit, now, onChange });
  }

  on(listener: (e: EngineEvent) => void): () => void {
    return this.listeners.on(listener);
  }

  private emit(e: EngineEvent): void {
    this.listeners.emit(e);
  }

  // ------------------------------------------------------------ catalog

  setCatalog(input: CatalogItem[] | string, setOptions: SetCatalogOptions = {}): Promise<CatalogReport> {
    return this.catalogs.replace(
      async () => {
        const emit = (e: EngineEvent): void => this.emit(e);
        const raw = await catalogInput(input, this.deps.fetchCatalog, emit);
        const sources = { ...(await this.models.forCatalog()), vectorReader: this.deps.vectorReader ?? null, emit };
        const { catalog, report } = await loadCatalog(raw, setOptions, sources);
        await this.scoring.prepare(catalog, catalog.global);
        return { catalog, result: report };
      },
      async (catalog) => {
        this.profile = null;
        await this.loadHistory(true); // the stored history is checked against this catalog again
        this.emit({ type: 'change', what: 'catalog' });
        this.emit({ type: 'progress', progress: { phase: 'ready', done: catalog.items.length, total: catalog.items.length } });
      },
    );
  }

  // ------------------------------------------------------------ history

  private async loadHistory(recheck = false): Promise<void> {
    await Promise.all([this.events.ensureLoaded((store) => this.exploration.load(store), recheck), this.visitor.ready()]);
  }

  /** Validates and queues an event (under `eventId` when the page gave one); resolves once it is stored in IndexedDB. */
  async track(input: TrackEvent, eventId?: string): Promise<void> {
    const known = knownItemOf(this.catalogs.loaded);
    const drop = this.visitor.dropWhilePaused(input, known); // paused: nothing is tracked
    if (drop === true || (drop !== false && (await drop))) return;
    const { event, stored } = this.events.track(input, known, eventId);
    this.exploration.feedback(event);
    this.measurement?.event(event);
    return stored;
  }

  readonly flush = (): Promise<void> => this.events.flush();
  /** Which of these event ids (of a page that closed before they were acknowledged) never reached IndexedDB. */
  readonly unstoredEvents = (eventIds: string[]): Promise<string[]> => this.events.unstored(eventIds);

  /** The history that personalises: none while the visitor paused personalisation. */
  private get personalHistory(): readonly StoredEvent[] {
    return this.visitor.paused ? [] : this.events.events;
  }

  private getProfile(): Profile {
    this.profile ??= profileFromHistory(this.personalHistory, this.catalogs.loaded, this.now());
    return this.profile;
  }

  /** Everything a ranking call starts from: the catalog, the profile and the history behind it. */
  private async rankingStart(): Promise<{ full: LoadedCatalog; profile: Profile; config: RankingConfig }> {
    const full = await this.catalogs.ready();
    await this.loadHistory();
    return { full, profile: this.getProfile(), config: this.visitor.config(this.config) };
  }

  // ------------------------------------------------------------ ranking

  async recommend(input?: RecommendOptions): Promise<Recommendation[]> {
    const checked = validateRecommendOptions(input);
    const { full, profile, config } = await this.rankingStart();
    const options = this.visitor.withExclusions(checked);
    const k = resolveK(options.k);
    // large catalogs: rank the retrieved candidates only (each gets its exact score)
    const sub = this.scoring.index ? await forYouCandidates(this.scoring, full, full.global, profile, options, config.excludeSeen, config) : null;
    const sequence = await this.models.sequence.components(full, this.personalHistory, sub?.rows ?? null, config);
    const inputs: RankingInputs = { catalog: sub ? sub.index : full, global: sub ? sub.global : full.global, profile, config, sequence };
    const heads = await this.models.heads();
    const ranking = await rankForYou(inputs, { k, rules: options, heads, taskWeights: this.options.taskWeights, now: this.now() });
    // exploration: the open slots are filled by the bandit from the candidate sources
    const paused = this.visitor.paused; // paused: the slate is shown, nothing about it is kept
    if (!paused) this.exploration.closeSlate();
    const slate = composeRuledSlate(this.exploration.slateMixer, ranking, inputs.catalog.prior, k, this.exploration.nextSlateRandom());
    if (!paused) this.exploration.record(slate, (i) => inputs.catalog.items[i].id, this.now(), k);
    if (!paused) this.measurement?.slate(slate.map((sh) => ({ itemId: inputs.catalog.items[sh.item].id, source: sh.source })));
    return shownRecommendations(slate, ranking.scores, inputs, full, sub?.rows ?? null);
  }

  /** Impressions shown by recommend() with their slot, source, propensity and outcome (1 click, 0 none, -1 dismiss), oldest first. */
  impressionLog(): Impression[] {
    return this.exploration.impressionLog();
  }

  async similar(itemId: string, input?: number | SimilarOptions): Promise<Recommendation[]> {
    const checked = validateSimilarOptions(input);
    const target = requireItem(await this.catalogs.ready(), itemId, 'similar()');
    const { full, profile, config } = await this.rankingStart();
    const options = this.visitor.withExclusions(checked);
    const want = resolveK(options.k);
    const sub = this.scoring.index ? await similarCandidates(this.scoring, full, profile, target, want, options) : null;
    const inputs = { catalog: sub ? sub.index : full, global: sub ? sub.global : full.global, profile, config };
    const { slate, scores } = rankSimilar(inputs, sub ? 0 : target, want, { kind: options.kind, rules: options, now: this.now() });
    return slate.map((i) => toRecommendation(full, sub ? sub.rows[i] : i, scores[i], [similarReason(inputs, sub ? 0 : target, i, options.kind)]));
  }

  async search(query: string, input?: number | SearchOptions): Promise<Recommendation[]> {
    const options = validateSearchOptions(input);
    await this.catalogs.ready();
    const q = resolveQuery(query);
    if (q === null) return [];
    const { full, profile, config } = await this.rankingStart();
    const [vector] = await (await this.models.encoder()).embed([q]);
    const lexical = full.lexical.score(q);
    const want = resolveK(options.k);
    // large catalogs: semantic candidates from the scorer, plus the best lexical matches
    const sub = this.scoring.index
      ? await searchCandidates(this.scoring, full, profile, dismissedItems(profile), vector, lexical, want, options)
      : null;
    const index = sub ? sub.index : full;
    const ranked = rankSearch(
      { catalog: index, global: null, profile, config },
      { vector, lexical: sub ? Float32Array.from(sub.rows, (c) => lexical[c]) : lexical },
      want,
      { rules: options, now: this.now() },
    );
    return ranked.slate.map((i) =>
      toRecommendation(full, sub ? sub.rows[i] : i, ranked.scores[i], searchReasons(q, i, index, profile, ranked.personal)),
    );
  }

  async explain(itemId: string): Promise<Reason[]> {
    const full = await this.catalogs.ready();
    const i = requireItem(full, itemId, 'explain()');
    const { profile, config } = await this.rankingStart();
    return explainItem(i, full, profile, config, () => this.models.sequence.components(full, this.personalHistory, null, config));
  }

  async updateItems(updates: unknown): Promise<{ updated: number }> {
    return applyItemUpdates(await this.catalogs.ready(), updates);
  }

  // ------------------------------------------------------------ data rights

  async history(limit?: number): Promise<StoredEvent[]> {
    await this.loadHistory();
    return this.events.history(limit);
  }

  async exportData(): Promise<ExportedData> {
    await Promise.all([this.events.flush(), this.measurement?.persist()]);
    return this.events.exported(await (await this.models.store()).exportAll());
  }

  async deleteData(): Promise<void> {
    this.events.discard();
    this.measurement?.reset();
    await (await this.models.store()).deleteAll();
    this.forget();
    this.deps.channel?.post({ type: 'deleted' });
    this.emit({ type: 'change', what: 'deleted' });
  }

  /** "Forget this": the item's events and their effect everywhere (visitor-controls.ts). */
  forgetItem(itemId: string): Promise<ForgetReport> {
    return this.visitor.forget(itemId);
  }

  controls(): Promise<VisitorControls> {
    return this.visitor.get();
  }

  setControls(change: unknown): Promise<VisitorControls> {
    return this.visitor.set(change);
  }

  /** Forgets the visitor in memory (their data was deleted here or in another tab). */
  private forget(): void {
    this.visitor.reset();
    this.events.clear();
    this.exploration.reset();
    this.measurement?.reset();
    this.profile = null;
  }

  async stats(): Promise<EngineStats> {
    const store = await this.models.store();
    await this.loadHistory();
    const items = this.catalogs.loaded?.items.length ?? null;
    return engineStats(store, { items, events: this.events.counts, encoder: this.models.loadedEncoder(), scorer: this.scoring.current });
  }

  async close(): Promise<void> {
    await this.events.flush();
    await this.exploration.flush().catch(() => undefined);
    await this.measurement?.close();
    this.deps.channel?.close();
    this.models.openedStore()?.close();
    await Promise.all([this.scoring.dispose(), this.models.sequence.dispose()]);
    await this.models.loadedEncoder()?.dispose();
  }
}
