/**
 * What the engine loads lazily, once: the on-device store, the encoder and the
 * optional models (global model, ranking heads). A failed load is not cached
 * (the next call tries again); an optional model that fails is reported and the
 * engine ranks without it.
 */
import type { EngineEvent } from '../types';
import type { SentenceEncoder } from '../encoding/encoder';
import type { GlobalAsset } from '../global/global-model';
import type { RankingHeads } from '../ranking/heads';
import type { RecommenderStore } from '../store';
import { errorEvent } from '../store/errors';
import { SequenceModelSlot, type SequenceModelLoader } from './sequence-state';

export interface ModelSources {
  store: () => Promise<RecommenderStore>;
  encoder: () => Promise<SentenceEncoder>;
  /** The site's non-personal global model, if it ships one (null: content only). */
  globalModel?: () => Promise<GlobalAsset | null>;
  /** Multi-task ranking heads (null: rank by the linear score). */
  rankingHeads?: () => Promise<RankingHeads | null>;
  /** The behaviour model for a catalog (absent: none); loaded per catalog by `sequence`. */
  sequenceModel?: SequenceModelLoader;
}

/** `load()` once; a rejection clears it so the next call loads again. */
function once<T>(load: () => Promise<T>): { get: () => Promise<T>; value: () => T | null } {
  let value: T | null = null;
  let loading: Promise<T> | null = null;
  return {
    get: () =>
      value !== null
        ? Promise.resolve(value)
        : (loading ??= load().then(
            (v) => (value = v),
            (e: unknown) => {
              loading = null;
              throw e;
            },
          )),
    value: () => value,
  };
}

export class EngineModels {
  private readonly storeOnce;
  private readonly encoderOnce;
  private globalPromise: Promise<GlobalAsset | null> | null = null;
  private headsPromise: Promise<RankingHeads | null> | null = null;
  /** The behaviour model of the loaded catalog (a failure is reported and the engine ranks without it). */
  readonly sequence: SequenceModelSlot;

  constructor(
    private readonly sources: ModelSources,
    private readonly emit: (e: EngineEvent) => void,
  ) {
    this.sequence = new SequenceModelSlot(sources.sequenceModel, () => this.encoder(), emit);
    this.storeOnce = once(sources.store);
    this.encoderOnce = once(async () => {
      emit({ type: 'progress', progress: { phase: 'model', done: 0, total: 1 } });
      const enc = await sources.encoder();
      emit({ type: 'backend', backend: enc.info.backend, reason: enc.backendReason ?? `encoder ${enc.info.name} runs on ${enc.info.backend}` });
      emit({ type: 'progress', progress: { phase: 'model', done: 1, total: 1 } });
      return enc;
    });
  }

  store(): Promise<RecommenderStore> {
    return this.storeOnce.get();
  }

  /** The store if it was opened (close() must not open it). */
  openedStore(): RecommenderStore | null {
    return this.storeOnce.value();
  }

  encoder(): Promise<SentenceEncoder> {
    return this.encoderOnce.get();
  }

  loadedEncoder(): SentenceEncoder | null {
    return this.encoderOnce.value();
  }

  globalModel(): Promise<GlobalAsset | null> {
    this.globalPromise ??= this.optional('Global model', this.sources.globalModel);
    return this.globalPromise;
  }

  /** What loading a catalog needs: the encoder, the store and the global model (the heads load meanwhile). */
  async forCatalog(): Promise<{ encoder: SentenceEncoder; store: RecommenderStore; globalModel: GlobalAsset | null }> {
    const [encoder, store, globalModel] = await Promise.all([this.encoder(), this.store(), this.globalModel(), this.heads()]);
    return { encoder, store, globalModel };
  }

  /** After the encoder: onnxruntime-web's WebGPU backend hung when two sessions were created at once. */
  heads(): Promise<RankingHeads | null> {
    this.headsPromise ??= this.optional('Ranking heads', this.sources.rankingHeads, this.encoder());
    return this.headsPromise;
  }

  /** Loads an optional model after `after` settles; a failure is reported and the engine ranks without it. */
  private optional<T>(what: string, load: (() => Promise<T | null>) | undefined, after: Promise<unknown> = Promise.resolve()): Promise<T | null> {
    if (!load) {
      after.catch(() => undefined); // nothing waits on it then: a failure (e.g. a tampered encoder) is reported by its own caller
      return Promise.resolve(null);
    }
    return after
      .catch(() => undefined)
      .then(() => load())
      .catch((e: unknown) => {
        this.emit(
          errorEvent(e, `${what} not used`, {
            code: 'model_load_failed',
            fix: 'Check the model folder (npm run build:global / build:heads), or leave the option out.',
          }),
        );
        return null;
      });
  }
}
