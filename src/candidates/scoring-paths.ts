/**
 * The catalog scoring path of a loaded catalog: for large catalogs (or a forced
 * path) the int8 item matrix is scored on WebGPU, WASM or the TypeScript twin
 * (identical results); a GPU device lost mid-session falls back to WASM within
 * the same call. Candidate retrieval asks this for its top k.
 */
import type { EngineEvent } from '../types';
import type { CatalogIndex } from '../vectors/catalog-index';
import type { GlobalContext } from '../global/global-model';
import { quantizeItems, type QuantizedItems } from './quantized-scoring';
import { buildRetrievalIndex, type RetrievalIndex } from './retrieval';
import { createCatalogScorer, type CatalogScorer, type ScoringPath } from './scorer';

export type ScorerFactory = (
  items: QuantizedItems,
  path: ScoringPath | 'auto',
  onFallback: (from: ScoringPath, to: ScoringPath, reason: string) => void,
) => Promise<CatalogScorer>;

export interface ScoringSettings {
  /** The requested path ('auto': WebGPU on a hardware adapter, else WASM). */
  path: ScoringPath | 'auto';
  /** A forced path is used whatever the catalog size. */
  forced: boolean;
  /** From this many items the catalog is scored by two-stage retrieval. */
  minItems: number;
}

export class ScoringPaths {
  private scorer: CatalogScorer | null = null;
  private retrieval: RetrievalIndex | null = null;

  constructor(
    private readonly settings: ScoringSettings,
    private readonly emit: (e: EngineEvent) => void,
    /** Builds a scorer (default: the TypeScript twin only, as in Node without onnxruntime). */
    private readonly factory?: ScorerFactory,
  ) {}

  /** The retrieval index of the prepared catalog (null: small catalog, every item scored exactly). */
  get index(): RetrievalIndex | null {
    return this.retrieval;
  }

  get current(): CatalogScorer | null {
    return this.scorer;
  }

  /** Builds the retrieval index and scorer for a newly loaded catalog (none for a small one). */
  async prepare(catalog: CatalogIndex, global: GlobalContext | null): Promise<void> {
    const old = this.scorer;
    this.scorer = null;
    this.retrieval = null;
    if (old) void old.dispose().catch(() => undefined);
    const n = catalog.items.length;
    if (n === 0 || (!this.settings.forced && n < this.settings.minItems)) return;
    const quantized = quantizeItems(catalog.matrix);
    const retrieval = buildRetrievalIndex(catalog, quantized, global);
    this.scorer = await this.make(quantized, this.settings.path);
    this.retrieval = retrieval;
  }

  private async make(items: QuantizedItems, path: ScoringPath | 'auto'): Promise<CatalogScorer> {
    const onFallback = (from: ScoringPath, to: ScoringPath, reason: string): void =>
      this.emit({ type: 'backend', component: 'scoring', backend: to, reason: `catalog scoring: ${from} unavailable (${reason})` });
    const scorer = this.factory
      ? await this.factory(items, path, onFallback)
      : await createCatalogScorer(items, path === 'auto' ? 'js' : path, { onFallback });
    this.emit({ type: 'backend', component: 'scoring', backend: scorer.path, reason: `catalog scoring on ${scorer.path}: ${scorer.reason}` });
    return scorer;
  }

  /** Top k from the scorer; a lost GPU device falls back to WASM and the call is answered there. */
  async topK(run: (s: CatalogScorer) => Promise<number[]>): Promise<number[]> {
    const scorer = this.scorer;
    if (!scorer || !this.retrieval) throw new Error('no scorer: the catalog is scored exactly');
    if (!scorer.lost) {
      try {
        return await run(scorer);
      } catch (e) {
        if (scorer.path !== 'webgpu') throw e;
      }
    }
    // the GPU device was lost (driver reset, tab in background too long) or failed: keep serving on WASM
    this.emit({
      type: 'error',
      code: 'backend_unavailable',
      message: 'The GPU device was lost; catalog scoring continues on WASM.',
      fix: 'Nothing to do: results are identical on WASM.',
    });
    if (this.scorer === scorer) {
      this.scorer = null;
      void scorer.dispose().catch(() => undefined);
      this.scorer = await this.make(this.retrieval.quantized, 'wasm');
    }
    return run(this.scorer as CatalogScorer);
  }

  async dispose(): Promise<void> {
    await this.scorer?.dispose().catch(() => undefined);
  }
}
