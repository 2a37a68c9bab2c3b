import { useCallback, useEffect, useState } from 'react';
import type { Recommendation, Recommender, TrackEvent } from 'on-device-recs';

export interface UseRecommendations {
  recommendations: Recommendation[];
  loading: boolean;
  error: Error | null;
  /** Tracks an event on the device, then fetches new recommendations. */
  track: (event: TrackEvent) => Promise<void>;
}

/**
 * Personalised recommendations from an on-device recommender. Re-fetches after
 * every track() made through it, and whenever k or ready changes.
 */
export function useRecommendations(recommender: Recommender, ready: Promise<unknown>, k = 8): UseRecommendations {
  const [recommendations, setRecommendations] = useState<Recommendation[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    ready
      .then(() => recommender.recommend({ k }))
      .then(
        (recs) => !cancelled && (setRecommendations(recs), setError(null)),
        (e: unknown) => !cancelled && setError(e as Error),
      )
      .finally(() => !cancelled && setLoading(false));
    return () => {
      cancelled = true;
    };
  }, [recommender, ready, k, version]);

  const track = useCallback(
    async (event: TrackEvent) => {
      await recommender.track(event);
      setVersion((v) => v + 1);
    },
    [recommender],
  );

  return { recommendations, loading, error, track };
}
