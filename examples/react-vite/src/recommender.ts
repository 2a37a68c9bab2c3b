import { createRecommender } from 'on-device-recs';

/** One engine for the whole app: it runs in a Web Worker; history stays in this browser. */
export const recommender = createRecommender({ rankingHeads: 'ranking-heads' });

/** Resolves once the catalog is loaded (the engine embeds it on the device, cached for next time). */
export const catalogReady = recommender.setCatalog('/catalog.json');
