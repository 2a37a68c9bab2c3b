/**
 * The behaviour model for the loaded catalog (src/ranking/sequence-model.ts): loaded
 * once per catalog (its rows follow the catalog), run over the visitor's own ordered
 * history, and turned into the pipeline's `sequence` components. A model that cannot
 * be used (tampered, truncated or missing file, built for another catalog or encoder)
 * is reported once per catalog as an error event naming the folder and the fix, and
 * the engine ranks without it (the global model's ranking).
 */
import type { EngineEvent, StoredEvent } from '../types';
import type { ItemMatrix } from '../math/matrix';
import {
  REBUILD,
  sequenceCauses,
  sequenceScores,
  type AttributedSequence,
  type OnnxSequenceModel,
  type SequenceCause,
} from '../ranking/sequence-model';
import { chronological } from '../profile/profile';
import { DEFAULT_RANKING_CONFIG, type RankingConfig } from '../ranking/score';
import { spanAsync } from '../runtime/spans';
import { errorEvent } from '../store/errors';
import type { LoadedCatalog } from './catalog-loader';

/** What the engine needs of a loaded behaviour model. */
export type SequenceModel = Pick<OnnxSequenceModel, 'info' | 'items' | 'state' | 'attribution' | 'dispose'>;

/** Loads the behaviour model for a catalog's items (ids and text vectors, catalog order) and the encoder the page runs. */
export type SequenceModelLoader = (
  catalog: { ids: string[]; vectors: ItemMatrix },
  encoder: { modelHash: string; dimensions: number },
) => Promise<SequenceModel>;

export class SequenceModelSlot {
  private catalog: LoadedCatalog | null = null;
  private model: Promise<SequenceModel | null> = Promise.resolve(null);

  constructor(
    private readonly load: SequenceModelLoader | undefined,
    private readonly encoder: () => Promise<{ info: { modelHash: string; dimensions: number } }>,
    private readonly emit: (e: EngineEvent) => void,
  ) {}

  /**
   * The model's components for this history, per item of the ranked index (`rows`: its full-catalog
   * rows when the ranking runs on retrieved candidates). Null without a model or for a cold visitor.
   * `attribute()` names the history items behind each item's score (leave-one-out, one batched run when first asked).
   */
  /** `config`: the ranking that adds them; one weighing conversion by 0 skips the conversion scan (without it, both are computed). */
  async components(
    catalog: LoadedCatalog,
    history: readonly StoredEvent[],
    rows: readonly number[] | null,
    config?: Pick<RankingConfig, 'weights' | 'sequenceTemperature'>,
  ): Promise<AttributedSequence | null> {
    if (!this.load) return null;
    if (this.catalog !== catalog) {
      const previous = this.model;
      this.catalog = catalog;
      this.model = this.open(catalog);
      void previous.then((m) => m?.dispose()).catch(() => undefined);
    }
    const model = await this.model;
    if (!model || history.length === 0) return null;
    const ordered = [...history].sort(chronological);
    const events = ordered.filter((e) => e.itemId !== undefined).map((e) => ({ itemId: e.itemId as string, type: e.type }));
    // the model's own run (what the bench times as sequence_model), then the catalog scan
    const state = await spanAsync('sequence_model', () => model.state(events));
    if (!state) return null;
    const temperature = config?.sequenceTemperature ?? DEFAULT_RANKING_CONFIG.sequenceTemperature;
    const full = sequenceScores(model, state, config?.weights.sequenceConversion !== 0, temperature);
    let causes: Promise<(i: number) => SequenceCause[]> | null = null;
    // "why this": the leave-one-out rows run once, when a slot of the slate needs them
    const attribute = (): Promise<(i: number) => SequenceCause[]> =>
      (causes ??= spanAsync('sequence_attribution', () => model.attribution(events)).then(
        (a) => (i: number) => (a ? sequenceCauses(model, a, full.next, rows ? rows[i] : i, temperature) : []),
      ));
    if (!rows) return { ...full, attribute };
    return { next: Float32Array.from(rows, (r) => full.next[r]), conversion: Float32Array.from(rows, (r) => full.conversion[r]), attribute };
  }

  private async open(catalog: LoadedCatalog): Promise<SequenceModel | null> {
    try {
      const { info } = await this.encoder();
      return await (this.load as SequenceModelLoader)({ ids: catalog.items.map((it) => it.id), vectors: catalog.matrix }, info);
    } catch (e) {
      this.emit(
        errorEvent(e, 'Behaviour model not used', {
          code: 'model_load_failed',
          fix: REBUILD,
        }),
      );
      return null;
    }
  }

  async dispose(): Promise<void> {
    await (await this.model.catch(() => null))?.dispose();
  }
}
