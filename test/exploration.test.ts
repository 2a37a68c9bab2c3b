/** Exploration layer: slate mixing by bandits, propensities, feedback, determinism, persistence. */
import { engineOptions } from '../support/engine-options';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { Engine } from '../src/engine/engine';
import { openStore } from '../src/store';
import { loadGlobalModel } from '../src/global/global-model';
import { SlateMixer, type SourceLists } from '../src/exploration/mixer';
import { SOURCES } from '../src/vocabulary';
import { mulberry32 } from '../src/math/random';
import type { CatalogItem, RecommenderOptions } from '../src/types';
import { fileReader, MODELS_DIR } from '../support/node-models';
import { useSharedEncoder } from '../support/shared-encoder';

const catalog = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'public', 'catalog', 'movielens-demo.json'), 'utf8')) as CatalogItem[]
).slice(0, 1500);
const sharedEncoder = useSharedEncoder();

function engine(options: RecommenderOptions, factory = new IDBFactory()): Engine {
  return new Engine(engineOptions(options), {
    store: () => openStore({ indexedDB: factory }),
    encoder: async () => sharedEncoder(),
    globalModel: () => loadGlobalModel(fileReader(join(MODELS_DIR, 'global-movielens')), 'global-movielens'),
  });
}

const lists = (): SourceLists => ({
  ranked: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  content: [20, 21, 22, 23, 24, 0],
  global: [30, 31, 32, 33, 34],
  trending: [40, 41, 42, 43, 44],
  explore: [50, 51, 52, 53, 54],
});

describe('SlateMixer', () => {
  test('rate 0 or policy off: the ranking as is, propensity 1', () => {
    for (const config of [
      { policy: 'thompson' as const, rate: 0, decay: 1, draws: 50 },
      { policy: 'off' as const, rate: 0.5, decay: 1, draws: 50 },
    ]) {
      const slate = new SlateMixer(config).compose(lists(), 10, mulberry32(1));
      assert.deepEqual(
        slate.map((s) => s.item),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
      assert.ok(slate.every((s) => s.source === 'ranked' && s.propensity === 1));
    }
  });

  test('open slots: per-slot source propensities sum to 1; the shown item has its propensity; no duplicates', () => {
    for (const policy of ['thompson', 'contextual'] as const) {
      const mixer = new SlateMixer({ policy, rate: 0.5, decay: 1, draws: 400 });
      const slate = mixer.compose(lists(), 10, mulberry32(2), (i, source) => [1, i / 60, 0, 0, 0, ...SOURCES.map((s) => (s === source ? 1 : 0))]);
      assert.equal(slate.length, 10);
      assert.equal(new Set(slate.map((s) => s.item)).size, 10);
      assert.deepEqual(
        slate.slice(0, 5).map((s) => s.item),
        [0, 1, 2, 3, 4],
        'the first slots follow the ranking',
      );
      for (const s of slate.slice(5)) {
        const total = Object.values(s.sourcePropensities).reduce((a, b) => a + (b ?? 0), 0);
        assert.ok(Math.abs(total - 1) < 1e-9, `slot ${s.slot} propensities sum to ${total}`);
        assert.ok(s.propensity > 0 && s.propensity <= 1);
      }
    }
  });

  test('posterior updates: a click raises the chosen source, an impression lowers it, a dismiss lowers it more; evidence decays', () => {
    const mixer = new SlateMixer({ policy: 'thompson', rate: 1, decay: 0.9, draws: 50, prior: 'uniform' });
    const [shown] = mixer.compose(lists(), 1, mulberry32(3));
    const prior = mixer.sourceMeans(0)[shown.source];
    assert.equal(prior, 0.5);
    mixer.feedback(shown, 1);
    const afterClick = mixer.sourceMeans(0)[shown.source];
    assert.ok(afterClick > prior);
    mixer.feedback(shown, 0);
    const afterImpression = mixer.sourceMeans(0)[shown.source];
    assert.ok(afterImpression < afterClick);
    const other = new SlateMixer({ policy: 'thompson', rate: 1, decay: 0.9, draws: 50, prior: 'uniform' });
    const [o] = other.compose(lists(), 1, mulberry32(3));
    other.feedback(o, -1);
    const fresh = new SlateMixer({ policy: 'thompson', rate: 1, decay: 0.9, draws: 50, prior: 'uniform' });
    const [f] = fresh.compose(lists(), 1, mulberry32(3));
    fresh.feedback(f, 0);
    assert.ok(other.sourceMeans(0)[o.source] < fresh.sourceMeans(0)[f.source], 'a dismiss is a strong failure');
    // decay: many later failures on another arm shrink the old click's weight back towards the prior
    const decayed = new SlateMixer({ policy: 'thompson', rate: 1, decay: 0.5, draws: 50, prior: 'uniform' });
    const [d] = decayed.compose(lists(), 1, mulberry32(3));
    decayed.feedback(d, 1);
    for (let t = 0; t < 20; t++) decayed.feedback({ ...d, source: d.source === 'content' ? 'global' : 'content' }, 0);
    assert.ok(Math.abs(decayed.sourceMeans(0)[d.source] - 0.5) < 0.05, 'old evidence decays towards the prior');
  });
});

describe('the contextual policy behind the conservative switch', () => {
  const features = (i: number, source: (typeof SOURCES)[number]): number[] => [1, i / 60, 0, 0, 0, ...SOURCES.map((s) => (s === source ? 1 : 0))];

  test('with no data it chooses as the population prior does; its evidence releases the switch', () => {
    const config = { policy: 'contextual' as const, rate: 0.5, decay: 1, draws: 200, prior: 'population' as const, minEvidence: 20 };
    const contextual = new SlateMixer(config).compose(lists(), 10, mulberry32(4), features);
    const thompson = new SlateMixer({ ...config, policy: 'thompson' }).compose(lists(), 10, mulberry32(4));
    for (const [i, s] of contextual.entries()) {
      if (s.slot < 5) continue;
      assert.equal(s.byPrior, true, `slot ${s.slot}: the switch is engaged without data`);
      assert.ok(s.features, 'the linear model learns from the slots the prior chose');
      assert.deepEqual(s.sourcePropensities, thompson[i].sourcePropensities, 'the same choice probabilities as the population prior');
      assert.equal(s.item, thompson[i].item);
    }
    // feedback on those slots accumulates evidence until the linear model chooses by itself
    const mixer = new SlateMixer(config);
    const rand = mulberry32(9);
    let releasedAfter = -1;
    for (let round = 0; round < 200 && releasedAfter < 0; round++) {
      const slate = mixer.compose(lists(), 10, rand, features);
      if (slate.some((s) => s.slot >= 5 && !s.byPrior)) releasedAfter = round;
      for (const s of slate) mixer.feedback(s, s.source === 'content' ? 1 : 0);
    }
    assert.ok(releasedAfter > 0, `released after ${releasedAfter} slates (engaged at first)`);
    const never = new SlateMixer({ ...config, minEvidence: 1e9 });
    for (let round = 0; round < 20; round++) {
      const slate = never.compose(lists(), 10, rand, features);
      assert.ok(slate.slice(5).every((s) => s.byPrior));
      for (const s of slate) never.feedback(s, 1);
    }
  });
});

describe('exploration in the engine', () => {
  const clicks = ['356', '318', '296', '593'];

  test('deterministic under a seed; explored items are labelled "something new for you"; rate 0 is pure exploitation', async () => {
    const run = async (seed: number, rate = 0.5): Promise<{ ids: string[]; sources: string[]; texts: string[] }> => {
      const e = engine({ seed, exploration: { rate, prior: 'uniform' } });
      await e.setCatalog(catalog);
      for (const id of clicks) await e.track({ type: 'click', itemId: id });
      const out: { ids: string[]; sources: string[]; texts: string[] } = { ids: [], sources: [], texts: [] };
      for (let r = 0; r < 3; r++) {
        const recs = await e.recommend({ k: 10 });
        out.ids.push(...recs.map((x) => x.itemId));
        out.sources.push(...recs.map((x) => x.source ?? ''));
        out.texts.push(...recs.map((x) => (x.source === 'explore' ? x.reasons[0].text : '')));
        await e.track({ type: 'click', itemId: recs[recs.length - 1].itemId });
      }
      await e.close();
      return out;
    };
    const a = await run(7);
    const b = await run(7);
    assert.deepEqual(a, b, 'same seed, same calls: same slates');
    const others = await Promise.all([11, 12, 13].map((s) => run(s)));
    assert.ok(
      others.some((o) => o.ids.join() !== a.ids.join()),
      'other seeds explore differently',
    );
    const all = [a, ...others];
    assert.ok(
      all.some((o) => o.sources.includes('explore')),
      'the explore source is used',
    );
    for (const o of all) o.texts.filter(Boolean).forEach((t) => assert.match(t, /^Something new for you/));
    const exploit = await run(7, 0);
    assert.ok(exploit.sources.every((s) => s === 'ranked'));
  });

  test('feedback and the impression log persist through IndexedDB', async () => {
    const factory = new IDBFactory();
    const e = engine({ seed: 3, exploration: { rate: 0.5, prior: 'uniform' } }, factory);
    await e.setCatalog(catalog);
    for (const id of clicks) await e.track({ type: 'click', itemId: id });
    const recs = await e.recommend({ k: 10 });
    const explored = recs.filter((r) => r.source !== 'ranked');
    assert.ok(explored.length > 0);
    await e.track({ type: 'click', itemId: explored[0].itemId });
    await e.track({ type: 'dismiss', itemId: recs[0].itemId });
    const log = e.impressionLog();
    assert.equal(log.length, 10);
    assert.equal(log.find((i) => i.itemId === explored[0].itemId)?.outcome, 1);
    assert.equal(log.find((i) => i.itemId === recs[0].itemId)?.outcome, -1);
    assert.ok(log.every((i) => i.propensity > 0 && i.propensity <= 1));
    await e.close();
    const again = engine({ seed: 3, exploration: { rate: 0.5, prior: 'uniform' } }, factory);
    await again.setCatalog(catalog);
    await again.history();
    assert.deepEqual(again.impressionLog(), log, 'impressions with propensities and outcomes survive a restart');
    const exported = await again.exportData();
    assert.ok(JSON.stringify(exported.settings).includes(explored[0].itemId), 'the export includes the exploration state');
    await again.deleteData();
    assert.equal(again.impressionLog().length, 0);
  });

  test('the uniform floor: every source keeps at least uniformShare / sources of each open slot, and it is shown that often', () => {
    const share = 0.3;
    const chosen: Record<string, number> = {};
    const runs = 2000;
    for (let seed = 0; seed < runs; seed++) {
      const [s] = new SlateMixer({ policy: 'thompson', rate: 1, decay: 1, draws: 50, priorStrength: 1000, uniformShare: share }).compose(
        lists(),
        1,
        mulberry32(seed),
      );
      const total = Object.values(s.sourcePropensities).reduce((a, b) => a + (b ?? 0), 0);
      assert.ok(Math.abs(total - 1) < 1e-9, `propensities sum to ${total}`);
      for (const source of SOURCES) assert.ok((s.sourcePropensities[source] ?? 0) >= share / SOURCES.length - 1e-12, `${source} keeps its floor`);
      chosen[s.source] = (chosen[s.source] ?? 0) + 1;
    }
    // the population prior alone almost never picks 'explore' (see the test below); the floor shows it share / 5 of the time
    const explore = (chosen.explore ?? 0) / runs;
    assert.ok(
      Math.abs(explore - share / SOURCES.length) < 0.025,
      `explore chosen in ${explore} of slates (expected about ${share / SOURCES.length})`,
    );
    // without a floor the same seeds give the same slates as before the floor existed (no extra random draw)
    const plain = new SlateMixer({ policy: 'thompson', rate: 0.5, decay: 1, draws: 50 }).compose(lists(), 10, mulberry32(7));
    const zero = new SlateMixer({ policy: 'thompson', rate: 0.5, decay: 1, draws: 50, uniformShare: 0 }).compose(lists(), 10, mulberry32(7));
    assert.deepEqual(zero, plain);
  });

  test('bad exploration settings are refused with a clear error', () => {
    assert.throws(() => engine({ exploration: { rate: 2 } }), /exploration.rate must be a number from 0 to 1/);
    assert.throws(() => engine({ exploration: { policy: 'greedy' as 'off' } }), /exploration\.policy must be one of/);
    assert.throws(() => engine({ exploration: { prior: { explore: 3 } } }), /exploration\.prior\.explore must be a rate from 0 to 1/);
    assert.throws(() => engine({ exploration: { uniformShare: 1.5 } }), /exploration\.uniformShare must be a number from 0 to 1/);
  });

  test('the population prior starts each visitor near the measured source rates; uniform explores evenly', () => {
    const counts = (prior: 'population' | 'uniform'): Record<string, number> => {
      const out: Record<string, number> = {};
      for (let seed = 0; seed < 200; seed++) {
        const [s] = new SlateMixer({ policy: 'thompson', rate: 1, decay: 1, draws: 20, prior, priorStrength: 200 }).compose(
          lists(),
          1,
          mulberry32(seed),
        );
        out[s.source] = (out[s.source] ?? 0) + 1;
      }
      return out;
    };
    const population = counts('population');
    const uniform = counts('uniform');
    assert.ok(
      (population.global ?? 0) + (population.ranked ?? 0) > 150,
      `population prior favours the strong sources: ${JSON.stringify(population)}`,
    );
    assert.ok((uniform.explore ?? 0) > 20, `uniform prior explores every source: ${JSON.stringify(uniform)}`);
  });
});
