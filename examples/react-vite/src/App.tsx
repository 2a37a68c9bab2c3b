import { useEffect, useState } from 'react';
import type { CatalogItem } from 'on-device-recs';
import { catalogReady, recommender } from './recommender';
import { useRecommendations } from './useRecommendations';

export function App() {
  const { recommendations, loading, error, track } = useRecommendations(recommender, catalogReady, 6);
  const [catalog, setCatalog] = useState<CatalogItem[]>([]);

  useEffect(() => {
    fetch('/catalog.json')
      .then((r) => r.json())
      .then((items: CatalogItem[]) => setCatalog(items.slice(0, 12)));
  }, []);

  return (
    <main className="app">
      <h1>Movie shop (React)</h1>
      <section aria-labelledby="for-you-h">
        <h2 id="for-you-h">Recommended for you</h2>
        {error && <p role="alert">Recommendations are unavailable: {error.message}</p>}
        <ul className="recs" aria-busy={loading}>
          {recommendations.map((r) => (
            <li key={r.itemId} data-rec-id={r.itemId}>
              <button type="button" onClick={() => void track({ type: 'click', itemId: r.itemId })}>
                <strong>{r.item.title}</strong>
                <small>{r.reasons[0]?.text}</small>
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="browse-h">
        <h2 id="browse-h">Browse</h2>
        <ul className="grid">
          {catalog.map((item) => (
            <li key={item.id} data-browse-id={item.id}>
              <button type="button" onClick={() => void track({ type: 'click', itemId: item.id })}>
                {item.title}
              </button>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}
