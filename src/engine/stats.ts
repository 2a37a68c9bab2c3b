/** What stats() reports: the catalog, the stored events and vectors, the encoder's backend and the catalog scoring path. */
import type { EngineStats } from '../types';
import type { SentenceEncoder } from '../encoding/encoder';
import type { CatalogScorer } from '../candidates/scorer';
import type { RecommenderStore } from '../store';

export async function engineStats(
  store: RecommenderStore,
  state: {
    items: number | null;
    /** The history's usable and quarantined events (in memory: the stored log as last read and checked, plus unwritten ones). */
    events: { usable: number; quarantined: number };
    encoder: SentenceEncoder | null;
    scorer: CatalogScorer | null;
  },
): Promise<EngineStats> {
  const [cachedVectors, storageBytes] = await Promise.all([store.countVectors(), store.estimateBytes().catch(() => undefined)]);
  const { items, encoder, scorer } = state;
  return {
    items: items ?? 0,
    events: state.events.usable,
    quarantinedEvents: state.events.quarantined,
    backend: encoder?.info.backend ?? null,
    encoder: encoder?.info ?? null,
    storageBytes,
    cachedVectors,
    scoring:
      items === null
        ? null
        : scorer
          ? { path: scorer.path, reason: scorer.reason, deviceBytes: scorer.deviceBytes }
          : { path: 'exact', reason: `${items} items: every item scored exactly`, deviceBytes: 0 },
  };
}
