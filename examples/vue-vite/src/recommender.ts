import { createRecommender, type Recommender } from 'on-device-recs';
import { defineRecsElement } from 'on-device-recs/element';
import { autoTrack } from 'on-device-recs/autotrack';

let started: Recommender | null = null;

/**
 * Starts the engine (in a Web Worker; the history stays in this browser), loads the
 * catalog, registers <on-device-recs> and auto-tracks clicks on [data-item-id].
 * Browser only: call it from onMounted(), which never runs on the server. Importing
 * this module on the server is safe: the package touches no browser global until called.
 */
export function startRecommender(): Recommender {
  if (started) return started;
  started = createRecommender({ rankingHeads: 'ranking-heads' });
  defineRecsElement({ recommender: started, ready: started.setCatalog('/catalog.json') });
  autoTrack(started, { views: false });
  return started;
}
