/**
 * The measurement simulation's visitors (test/measurement-simulation.test.ts): each goes
 * through the device's own reporting code. Run as a worker thread by the test (the
 * test runner's promise hooks would make 100,000 visitors slow), or imported.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { chooseVariant, Measurement, type MeasurementSettings } from '../src/measurement/measurement';
import { mulberry32 } from '../src/math/random';
import type { RecommenderStore } from '../src/store';

const DAY = 24 * 3600_000;
const T0 = Date.UTC(2025, 2, 3, 9);

export interface SimulationTruth {
  ctr: number[];
  exploredGivenClick: number;
  conversionGivenClick: number;
  dismiss: number;
}

/** A store holding state in memory (the simulation's visitors each have their own; IndexedDB is tested elsewhere). */
function memoryStore(): RecommenderStore {
  const state = new Map<string, unknown>();
  return {
    getState: async (k: string) => state.get(k),
    putState: async (k: string, v: unknown) => void state.set(k, v),
  } as unknown as RecommenderStore;
}

/** One visitor's day through the device code: slates, reactions, the end of the visit; resolves with the bodies sent. */
async function visitor(random: () => number, sent: string[], t: SimulationTruth): Promise<void> {
  const store = memoryStore();
  const names = ['control', 'treatment'];
  const variant = await chooseVariant(store, names, random);
  let now = T0 + Math.floor(random() * 3) * DAY;
  const settings: MeasurementSettings = {
    endpoint: 'https://shop.example/measure',
    placement: 'home',
    epsilon: 4,
    dailyEpsilon: 8,
    visitGapMs: 1800_000,
    maxDelayMs: 0,
    dryRun: false,
    variants: names,
    variant,
  };
  const m = new Measurement(settings, {
    store: async () => store,
    emit: () => undefined,
    now: () => now,
    random,
    send: async (_u, body) => (sent.push(body), true),
  });
  const slate = Array.from({ length: 10 }, (_, i) => ({ itemId: `item-${i}`, source: i < 8 ? ('ranked' as const) : ('explore' as const) }));
  m.slate(slate);
  if (random() < t.dismiss) m.event({ type: 'dismiss', itemId: 'item-7', eventId: 'd', timestamp: now });
  if (random() < t.ctr[variant]) {
    const slot = random() < t.exploredGivenClick ? 8 : Math.floor(random() * 7);
    m.event({ type: 'click', itemId: `item-${slot}`, eventId: 'c', timestamp: now });
    if (random() < t.conversionGivenClick) m.event({ type: 'add_to_cart', itemId: `item-${slot}`, eventId: 'a', timestamp: now });
  }
  await m.settled();
  now += DAY; // the visit is over
  m.checkVisit();
  await m.settled();
}

/** `visitors` simulated visitors, 10,000 at a time; resolves with the report bodies they sent. */
export async function simulateVisitors(visitors: number, seed: number, t: SimulationTruth): Promise<string[]> {
  const random = mulberry32(seed);
  const sent: string[] = [];
  for (let start = 0; start < visitors; start += 10_000) {
    const n = Math.min(10_000, visitors - start);
    await Promise.all(Array.from({ length: n }, () => visitor(random, sent, t)));
    for (let i = 0; i < 200 && sent.length < start + n; i++) await new Promise((r) => setTimeout(r, 5)); // send timers (delay 0)
  }
  return sent;
}

if (parentPort && workerData?.simulation) {
  const { visitors, seed, truth } = workerData.simulation as { visitors: number; seed: number; truth: SimulationTruth };
  void simulateVisitors(visitors, seed, truth).then((sent) => parentPort?.postMessage(sent));
}
