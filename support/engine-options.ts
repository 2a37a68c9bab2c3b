/** Test helper: createRecommender() options resolved as the page resolves them, for engines built directly in Node. */
import { resolveOptions, type ResolvedOptions } from '../src/options';
import type { RecommenderOptions } from '../src/types';

export function engineOptions(options: RecommenderOptions = {}): ResolvedOptions {
  return resolveOptions(options, 'http://localhost/');
}
