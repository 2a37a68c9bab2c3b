import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  BetaBandit,
  conservativeSlate,
  conservativeTrust,
  epsilonGreedySlate,
  estimateSlatePropensities,
  exactBetaSlatePropensities,
  uniformSlate,
  greedyOrder,
  linearBanditFromJSON,
  LinearThompsonBandit,
  LinUCBBandit,
  sampleBeta,
  slatePropensities,
  type BetaBanditState,
  type LinearBanditState,
} from '../src/exploration/bandit';
import { RecommenderError } from '../src/errors';
import { invertSpd } from '../src/math/linalg';
import { mulberry32 } from '../src/math/random';
import {
  bootstrapOpe,
  drEstimate,
  effectiveSampleSize,
  ipsEstimate,
  opeEstimates,
  pairedDifference,
  parseOpeArgs,
  percentileInterval,
  quantile,
  runOpe,
  snipsEstimate,
  type OpeInputs,
} from '../tools/eval/ope';

const close = (actual: number, expected: number, tol = 1e-9, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected}, got ${actual} (tolerance ${tol})`);

describe('BetaBandit', () => {
  test('posterior counts: successes, failures, fractional and strong failures; unknown arms sit at the prior', () => {
    const b = new BetaBandit({ priorAlpha: 1, priorBeta: 2 });
    assert.deepEqual(b.posterior('x'), { alpha: 1, beta: 2 });
    b.update('a', 1);
    b.update('a', 1);
    b.update('a', 0);
    b.update('b', -3); // a dismiss counted as 3 failures
    b.update('b', -0.5); // a negative reward is at least one failure
    b.update('c', 0.25);
    b.update('c', 2); // e.g. a purchase worth two clicks
    assert.deepEqual(b.posterior('a'), { alpha: 3, beta: 3 });
    assert.deepEqual(b.posterior('b'), { alpha: 1, beta: 6 });
    assert.deepEqual(b.posterior('c'), { alpha: 3.25, beta: 2.75 });
    close(b.mean('a'), 0.5);
    assert.equal(b.updates, 7);
    assert.deepEqual(b.knownArms().sort(), ['a', 'b', 'c']);
    assert.throws(() => b.update('a', Number.NaN), RangeError);
  });

  test('decay forgets old evidence towards the prior at every update, for every arm', () => {
    const b = new BetaBandit({ decay: 0.5 });
    b.update('a', 1); // a: 1 success
    b.update('a', 1); // a: 0.5 + 1
    assert.deepEqual(b.posterior('a'), { alpha: 1 + 1.5, beta: 1 });
    b.update('b', 0);
    b.update('b', 0);
    b.update('b', 0);
    // three updates elsewhere: a's evidence halves three times
    assert.deepEqual(b.posterior('a'), { alpha: 1 + 1.5 / 8, beta: 1 });
    assert.deepEqual(b.posterior('b'), { alpha: 1, beta: 1 + 0.25 + 0.5 + 1 });
    // it follows a change of taste: a arm that stops clicking falls behind one that starts
    const t = new BetaBandit({ decay: 0.99 });
    for (let i = 0; i < 300; i++) t.update('old', 1);
    for (let i = 0; i < 300; i++) {
      t.update('old', 0);
      t.update('new', 1);
    }
    assert.ok(t.mean('new') > 0.9 && t.mean('old') < 0.2, `${t.mean('new')} ${t.mean('old')}`);
    assert.throws(() => new BetaBandit({ decay: 0 }), RecommenderError);
    assert.throws(() => new BetaBandit({ decay: 1.5 }), RecommenderError);
  });

  test('Thompson draws are deterministic under a seed and follow the posterior', () => {
    const b = new BetaBandit();
    for (let i = 0; i < 30; i++) b.update('good', i % 3 === 0 ? 0 : 1);
    for (let i = 0; i < 30; i++) b.update('bad', i % 3 === 0 ? 1 : 0);
    const arms = ['good', 'bad', 'new'];
    assert.deepEqual(b.sample(arms, mulberry32(7)), b.sample(arms, mulberry32(7)));
    assert.notDeepEqual(b.sample(arms, mulberry32(7)), b.sample(arms, mulberry32(8)));
    const rand = mulberry32(1);
    let good = 0;
    for (let i = 0; i < 500; i++) if (b.choose(['good', 'bad'], rand) === 'good') good++;
    assert.ok(good > 490, `good chosen ${good}/500`);
    // Beta(3, 7) draws average 0.3
    const r = mulberry32(3);
    let s = 0;
    for (let i = 0; i < 4000; i++) s += sampleBeta(3, 7, r);
    close(s / 4000, 0.3, 0.01, 'Beta(3,7) mean');
    // shapes below 1 work too
    let t = 0;
    for (let i = 0; i < 4000; i++) t += sampleBeta(0.5, 0.5, r);
    close(t / 4000, 0.5, 0.02, 'Beta(0.5,0.5) mean');
  });

  test('toJSON/fromJSON round trip, through JSON and structuredClone', () => {
    const b = new BetaBandit({ priorAlpha: 2, priorBeta: 3, decay: 0.9 });
    for (const [arm, r] of [
      ['a', 1],
      ['b', 0],
      ['a', -2],
      ['c', 0.5],
    ] as const)
      b.update(arm, r);
    const state = b.toJSON();
    for (const copy of [BetaBandit.fromJSON(structuredClone(state)), BetaBandit.fromJSON(JSON.parse(JSON.stringify(state)) as BetaBanditState)]) {
      assert.deepEqual(copy.toJSON(), state);
      for (const arm of ['a', 'b', 'c', 'z']) assert.deepEqual(copy.posterior(arm), b.posterior(arm));
      assert.deepEqual(copy.sample(['a', 'b', 'c'], mulberry32(5)), b.sample(['a', 'b', 'c'], mulberry32(5)));
    }
    const copy = BetaBandit.fromJSON(structuredClone(state));
    copy.update('b', 1);
    b.update('b', 1);
    assert.deepEqual(copy.toJSON(), b.toJSON(), 'a restored bandit keeps learning identically');
    assert.throws(() => BetaBandit.fromJSON({ ...state, kind: 'lints' } as unknown as BetaBanditState), RecommenderError);
    assert.throws(() => BetaBandit.fromJSON({ ...state, arms: { a: { successes: -1, failures: 0, step: 0 } } }), RecommenderError);
  });
});

/** Contexts in [-1, 1]^d with a bias term, rewards linear in them plus noise. */
function linearWorld(d: number, theta: readonly number[], seed: number) {
  const rand = mulberry32(seed);
  const context = (): Float64Array => {
    const x = new Float64Array(d);
    x[0] = 1;
    for (let i = 1; i < d; i++) x[i] = rand() * 2 - 1;
    return x;
  };
  const reward = (x: ArrayLike<number>, noise = 0.1): number => {
    let s = 0;
    for (let i = 0; i < d; i++) s += theta[i] * x[i];
    return s + noise * (rand() * 2 - 1);
  };
  return { rand, context, reward };
}

describe('linear contextual bandits', () => {
  const d = 8;
  const theta = [0.2, 0.5, -0.4, 0.3, 0, 0.1, -0.2, 0.6];

  for (const make of [
    () => new LinearThompsonBandit({ dimension: d, ridge: 1, exploration: 0.1 }),
    () => new LinUCBBandit({ dimension: d, ridge: 1, exploration: 0.5 }),
  ]) {
    const name = make().kind;
    test(`${name} learns a linear reward by choosing among candidates`, () => {
      const bandit = make();
      const world = linearWorld(d, theta, 11);
      let bestLate = 0;
      for (let t = 0; t < 1500; t++) {
        const candidates = Array.from({ length: 5 }, world.context);
        const scores = bandit.scores(candidates, world.rand);
        const pick = greedyOrder(scores, 1)[0];
        const truth = candidates.map((x) => world.reward(x, 0));
        if (t >= 1000 && truth[pick] === Math.max(...truth)) bestLate++;
        bandit.update(candidates[pick], world.reward(candidates[pick]));
      }
      const w = bandit.weights();
      for (let i = 0; i < d; i++) close(w[i], theta[i], 0.08, `weight ${i}`);
      assert.ok(bestLate > 400, `best candidate chosen ${bestLate}/500 times after learning`);
      assert.equal(bandit.updates, 1500);
    });
  }

  test('Sherman-Morrison keeps the covariance equal to the inverse precision; ridge prior shrinks', () => {
    const bandit = new LinearThompsonBandit({ dimension: d, ridge: 2 });
    const world = linearWorld(d, theta, 3);
    for (let t = 0; t < 200; t++) {
      const x = world.context();
      bandit.update(x, world.reward(x), t % 7 === 0 ? 2.5 : 1);
    }
    const state = bandit.toJSON();
    const exact = invertSpd(Float64Array.from(state.precision), d);
    state.covariance.forEach((v, i) => close(v, exact[i], 1e-10, `covariance[${i}]`));
    // with no data the posterior mean is 0 and the uncertainty is 1/sqrt(ridge) per unit axis
    const fresh = new LinUCBBandit({ dimension: 2, ridge: 4 });
    assert.deepEqual(Array.from(fresh.weights()), [0, 0]);
    close(fresh.uncertainty([1, 0]), 0.5);
    fresh.update([1, 0], 1);
    close(fresh.weights()[0], 1 / 5, 1e-12, 'ridge-shrunk weight');
  });

  test('decay pulls the precision back towards the ridge prior and follows a changed reward', () => {
    const g = 0.5;
    const bandit = new LinUCBBandit({ dimension: 2, ridge: 1, decay: g });
    bandit.update([1, 0], 1);
    bandit.update([0, 1], 1);
    // A = ridge I + g x1 x1^T + x2 x2^T ; b = g x1 + x2
    assert.deepEqual(bandit.toJSON().precision, [1 + g, 0, 0, 2]);
    assert.deepEqual(bandit.toJSON().rewardSums, [g, 1]);
    const state = bandit.toJSON();
    const exact = invertSpd(Float64Array.from(state.precision), 2);
    state.covariance.forEach((v, i) => close(v, exact[i], 1e-12));

    const follow = new LinearThompsonBandit({ dimension: d, ridge: 1, decay: 0.99 });
    const still = new LinearThompsonBandit({ dimension: d, ridge: 1 });
    const before = linearWorld(d, theta, 5);
    const after = linearWorld(
      d,
      theta.map((v) => -v),
      6,
    );
    for (let t = 0; t < 1000; t++) {
      const x = before.context();
      const r = before.reward(x);
      follow.update(x, r);
      still.update(x, r);
    }
    for (let t = 0; t < 400; t++) {
      const x = after.context();
      const r = after.reward(x);
      follow.update(x, r);
      still.update(x, r);
    }
    const err = (w: Float64Array): number => w.reduce((s, v, i) => s + Math.abs(v + theta[i]), 0);
    assert.ok(err(follow.weights()) < 0.2 && err(still.weights()) > 1, `decayed ${err(follow.weights())}, undecayed ${err(still.weights())}`);
  });

  test('LinTS draws are deterministic under a seed; exploration 0 scores with the posterior mean', () => {
    const bandit = new LinearThompsonBandit({ dimension: d, ridge: 1, exploration: 1 });
    const world = linearWorld(d, theta, 9);
    for (let t = 0; t < 20; t++) {
      const x = world.context();
      bandit.update(x, world.reward(x));
    }
    const xs = Array.from({ length: 6 }, world.context);
    assert.deepEqual(bandit.scores(xs, mulberry32(1)), bandit.scores(xs, mulberry32(1)));
    assert.notDeepEqual(bandit.scores(xs, mulberry32(1)), bandit.scores(xs, mulberry32(2)));
    const greedy = LinearThompsonBandit.fromJSON({ ...bandit.toJSON(), exploration: 0 });
    assert.deepEqual(greedy.scores(xs, mulberry32(1)), bandit.means(xs));
    assert.throws(() => bandit.update(new Float64Array(d + 1), 1), RangeError);
    assert.throws(() => new LinUCBBandit({ dimension: 0 }), RecommenderError);
    assert.throws(() => new LinUCBBandit({ dimension: 3, ridge: 0 }), RecommenderError);
  });

  test('toJSON/fromJSON round trip through JSON and structuredClone scores and learns identically', () => {
    for (const bandit of [
      new LinearThompsonBandit({ dimension: d, ridge: 1.5, exploration: 0.3 }),
      new LinUCBBandit({ dimension: d, decay: 0.95 }),
    ]) {
      const world = linearWorld(d, theta, 21);
      for (let t = 0; t < 50; t++) {
        const x = world.context();
        bandit.update(x, world.reward(x));
      }
      const state = bandit.toJSON();
      const xs = Array.from({ length: 4 }, world.context);
      for (const copy of [
        linearBanditFromJSON(structuredClone(state)),
        linearBanditFromJSON(JSON.parse(JSON.stringify(state)) as LinearBanditState),
      ]) {
        assert.equal(copy.kind, bandit.kind);
        assert.deepEqual(copy.toJSON(), state);
        assert.deepEqual(copy.scores(xs, mulberry32(4)), bandit.scores(xs, mulberry32(4)));
        const x = world.context();
        copy.update(x, 0.5);
        const twin = linearBanditFromJSON(state);
        twin.update(x, 0.5);
        assert.deepEqual(copy.toJSON(), twin.toJSON());
      }
      assert.throws(() => linearBanditFromJSON({ ...state, precision: [1, 2] }), RecommenderError);
    }
    // without the stored covariance it is recomputed from the precision
    const b = new LinUCBBandit({ dimension: 3 });
    b.update([1, 2, 3], 1);
    const { covariance: _dropped, ...rest } = b.toJSON();
    const restored = LinUCBBandit.fromJSON(rest as LinearBanditState);
    restored.toJSON().covariance.forEach((v, i) => close(v, b.toJSON().covariance[i], 1e-12));
  });
});

describe('slates with propensities', () => {
  const scores = [0.1, 0.9, 0.3, 0.9, -1, Number.NaN, 0.5];

  test('greedy order: best first, ties to the lower index, NaN last, size capped', () => {
    assert.deepEqual(greedyOrder(scores, 4), [1, 3, 6, 2]);
    assert.deepEqual(greedyOrder([1, 2], 5), [1, 0]);
    assert.deepEqual(greedyOrder([Number.NaN, 0], 2), [1, 0]);
  });

  test('propensities over all candidates sum to 1 at every slot; greedy picks get 1 without exploration', () => {
    for (const exploration of [0, 0.1, 0.5, 1]) {
      const rows = slatePropensities(scores, { size: 3, exploration });
      assert.equal(rows.length, 3);
      for (const row of rows)
        close(
          row.reduce((s, v) => s + v, 0),
          1,
          1e-12,
        );
    }
    const greedy = epsilonGreedySlate(scores, { size: 3, exploration: 0 }, mulberry32(1));
    assert.deepEqual(
      greedy.slots.map((s) => [s.candidate, s.position, s.propensity]),
      [
        [1, 0, 1],
        [3, 1, 1],
        [6, 2, 1],
      ],
    );
    assert.equal(greedy.explored, false);
    const uniform = slatePropensities(scores, { size: 2, exploration: 1 });
    for (const row of uniform) for (const p of row) close(p, 1 / scores.length);
    assert.throws(() => slatePropensities(scores, { size: 2, exploration: 1.5 }), RecommenderError);
  });

  test('each shown slot carries the probability it had at its position, and sampling matches it', () => {
    const options = { size: 3, exploration: 0.3 };
    const rows = slatePropensities(scores, options);
    const counts = rows.map(() => new Float64Array(scores.length));
    const rand = mulberry32(99);
    const draws = 20000;
    for (let t = 0; t < draws; t++) {
      const slate = epsilonGreedySlate(scores, options, rand);
      assert.equal(new Set(slate.slots.map((s) => s.candidate)).size, 3, 'distinct candidates');
      for (const s of slate.slots) {
        close(s.propensity, rows[s.position][s.candidate], 1e-12);
        counts[s.position][s.candidate] += 1;
      }
    }
    rows.forEach((row, k) => row.forEach((p, c) => close(counts[k][c] / draws, p, 0.012, `position ${k} candidate ${c}`)));
  });

  test('slates and Monte Carlo propensities are deterministic under a seed', () => {
    const options = { size: 3, exploration: 0.5 };
    const a = Array.from({ length: 20 }, (_, i) => epsilonGreedySlate(scores, options, mulberry32(i)));
    const b = Array.from({ length: 20 }, (_, i) => epsilonGreedySlate(scores, options, mulberry32(i)));
    assert.deepEqual(a, b);
    assert.ok(a.some((s) => s.explored) && a.some((s) => !s.explored));

    const bandit = new LinearThompsonBandit({ dimension: 2, exploration: 1 });
    bandit.update([1, 0], 1);
    const xs = [
      [1, 0],
      [0, 1],
      [0.5, 0.5],
      [0, 0],
    ];
    const run = (seed: number) => estimateSlatePropensities((r) => bandit.scores(xs, r), xs.length, 2, 500, mulberry32(seed));
    const p = run(3);
    assert.deepEqual(p, run(3));
    for (const row of p)
      close(
        row.reduce((s, v) => s + v, 0),
        1,
        1e-12,
      );
    assert.ok(p[0][0] > p[0][1], 'the arm with evidence of reward leads position 1 most often');
  });
});

describe('uncertainty-aware, conservative policies', () => {
  test('Monte Carlo propensities of a Thompson slate match the exact ones on small slates', () => {
    const b = new BetaBandit();
    const outcomes: [string, number, number][] = [
      ['a', 6, 4],
      ['b', 3, 5],
      ['c', 1, 1],
      ['d', 9, 12],
    ];
    for (const [arm, wins, losses] of outcomes) {
      for (let i = 0; i < wins; i++) b.update(arm, 1);
      for (let i = 0; i < losses; i++) b.update(arm, 0);
    }
    const arms = outcomes.map((o) => o[0]);
    const exact = exactBetaSlatePropensities(
      arms.map((a) => b.posterior(a)),
      3,
    );
    const draws = 20000;
    const mc = estimateSlatePropensities((r) => b.sample(arms, r), arms.length, 3, draws, mulberry32(21));
    assert.equal(exact.length, 3);
    exact.forEach((row, k) => {
      close(
        row.reduce((s, v) => s + v, 0),
        1,
        1e-6,
        `exact row ${k} sums to 1`,
      );
      // within 4 Monte Carlo standard errors (plus the grid's own error)
      row.forEach((p, c) => close(mc[k][c], p, 4 * Math.sqrt((p * (1 - p)) / draws) + 2e-3, `position ${k} arm ${arms[c]}`));
    });
    // an arm with clearly more evidence of reward leads position 1 more often than the others
    assert.ok(exact[0][0] > exact[0][1] && exact[0][0] > exact[0][3]);
  });

  test('a policy with no data behaves as the prior', () => {
    // posterior sampling from identical priors: every arm equally likely at every position
    for (const row of exactBetaSlatePropensities(
      Array.from({ length: 4 }, () => ({ alpha: 2, beta: 50 })),
      2,
    ))
      for (const p of row) close(p, 1 / 4, 1e-6);
    // a linear bandit without updates has no evidence behind any choice: the switch returns the prior itself
    const lin = new LinearThompsonBandit({ dimension: 3, exploration: 1 });
    assert.equal(lin.evidence([1, 0.5, 0]), 0);
    const prior = [Float64Array.from([0.7, 0.2, 0.1]), Float64Array.from([0.1, 0.2, 0.7])];
    let asked = 0;
    const out = conservativeSlate(
      () => {
        asked++;
        return uniformSlate(3, 2);
      },
      prior,
      lin.evidence([1, 0.5, 0]),
      { minEvidence: 1 },
    );
    assert.equal(out.engaged, true);
    assert.equal(out.trust, 0);
    assert.deepEqual(out.rows, prior);
    assert.equal(asked, 0, 'the posterior is not even sampled while the switch is engaged');
  });

  test('the conservative switch engages below its threshold and releases above it', () => {
    const lin = new LinearThompsonBandit({ dimension: 2, ridge: 1, exploration: 1 });
    const x = [1, 0];
    const posterior = (): Float64Array[] => [Float64Array.from([1, 0])];
    const prior = uniformSlate(2, 1);
    const threshold = 29.5;
    for (let n = 1; n <= 40; n++) {
      lin.update(x, n % 2);
      // evidence along x counts the observations made there (the ridge prior is not evidence)
      close(lin.evidence(x), n, 1e-6, `evidence after ${n} updates`);
      const s = conservativeSlate(posterior, prior, lin.evidence(x), { minEvidence: threshold, floor: 0.2 });
      if (n < threshold) {
        assert.equal(s.engaged, true, `engaged at ${n}`);
        assert.deepEqual(s.rows, prior);
      } else {
        assert.equal(s.engaged, false, `released at ${n}`);
        close(s.trust, 0.8);
        close(s.rows[0][0], 0.8 * 1 + 0.2 * 0.5);
        close(s.rows[0][1], 0.2 * 0.5);
      }
    }
    // another direction has seen nothing: still engaged there
    assert.equal(lin.evidence([0, 1]), 0);
    assert.equal(conservativeTrust(0, { minEvidence: threshold }), 0);
    assert.equal(conservativeTrust(threshold, { minEvidence: threshold }), 0.9);
    assert.equal(conservativeTrust(threshold - 1e-9, { minEvidence: threshold }), 0);
  });
});

describe('off-policy estimators', () => {
  // 4 logged rows: w = pe / pb = [2, 0, 2, 2]
  const log: OpeInputs = {
    reward: [1, 0, 1, 0],
    loggingPropensity: [0.5, 0.5, 0.25, 0.25],
    targetPropensity: [1, 0, 0.5, 0.5],
    rewardHat: [0.5, 0.5, 0.5, 0.5],
    targetRewardHat: [0.4, 0.3, 0.2, 0.1],
  };

  test('IPS, SNIPS and DR on a hand-made log', () => {
    close(ipsEstimate(log), (2 + 0 + 2 + 0) / 4);
    close(snipsEstimate(log), 4 / 6);
    // DR terms: 0.4 + 2(1 - 0.5), 0.3 + 0, 0.2 + 2(1 - 0.5), 0.1 + 2(0 - 0.5)
    close(drEstimate(log), (1.4 + 0.3 + 1.2 - 0.9) / 4);
    // indices resample rows (with repetition)
    close(ipsEstimate(log, [0, 0, 2]), 2);
    close(snipsEstimate(log, [1, 3]), 0);
    assert.deepEqual(opeEstimates(log, []), { ips: 0, snips: 0, dr: 0 });
  });

  test('on-policy: all three are the observed mean reward; DR with a perfect model has no variance from rewards', () => {
    const reward = [0, 1, 0, 0, 1];
    const same: OpeInputs = { reward, loggingPropensity: [0.2, 0.2, 0.2, 0.2, 0.2], targetPropensity: [0.2, 0.2, 0.2, 0.2, 0.2] };
    const e = opeEstimates(same);
    close(e.ips, 0.4);
    close(e.snips, 0.4);
    close(e.dr, 0.4, 1e-12, 'DR without a reward model is IPS');
    const perfect = opeEstimates({ ...same, rewardHat: reward, targetRewardHat: [0.3, 0.3, 0.3, 0.3, 0.3] });
    close(perfect.dr, 0.3);
  });

  test('bootstrap intervals are deterministic under a seed, paired across policies, and hold the estimate', () => {
    const rand = mulberry32(5);
    const n = 400;
    const reward = Float64Array.from({ length: n }, () => (rand() < 0.2 ? 1 : 0));
    const logging = new Float64Array(n).fill(0.25);
    const a: OpeInputs = { reward, loggingPropensity: logging, targetPropensity: logging };
    const b: OpeInputs = { reward, loggingPropensity: logging, targetPropensity: Float64Array.from({ length: n }, () => (rand() < 0.5 ? 0.5 : 0)) };
    const one = bootstrapOpe([a, b], { resamples: 300, seed: 42 });
    const two = bootstrapOpe([a, b], { resamples: 300, seed: 42 });
    assert.deepEqual(one, two);
    assert.notDeepEqual(bootstrapOpe([a], { resamples: 300, seed: 43 }).intervals[0], one.intervals[0]);
    const point = opeEstimates(a);
    for (const key of ['ips', 'snips', 'dr'] as const) {
      const [lo, hi] = one.intervals[0][key];
      assert.ok(lo < point[key] && point[key] < hi, `${key} ${lo} < ${point[key]} < ${hi}`);
    }
    assert.equal(one.replicates[0].length, 300);
    // same resampled rows for both policies: on-policy IPS of a equals its SNIPS in every replicate
    one.replicates[0].forEach((r) => close(r.ips, r.snips, 1e-12));
    close(quantile([1, 2, 3, 4], 0.5), 2.5);
    close(quantile([1, 2, 3, 4], 0), 1);
  });
});

describe('off-policy evaluation that says how much to trust it', () => {
  /** A logged bandit with known click rates: logging and target policies over 5 items. */
  function syntheticLog(n: number, seed: number, logging: number[], target: number[], ctr: number[]) {
    const rand = mulberry32(seed);
    const draw = (p: number[]): number => {
      let u = rand();
      for (let a = 0; a < p.length; a++) if ((u -= p[a]) < 0) return a;
      return p.length - 1;
    };
    const q = ctr.map((c) => c * 0.7 + 0.01); // a deliberately wrong reward model
    const rows = Array.from({ length: n }, () => {
      const a = draw(logging);
      return { a, r: rand() < ctr[a] ? 1 : 0 };
    });
    const inputs: OpeInputs = {
      reward: rows.map((x) => x.r),
      loggingPropensity: rows.map((x) => logging[x.a]),
      targetPropensity: rows.map((x) => target[x.a]),
      rewardHat: rows.map((x) => q[x.a]),
      targetRewardHat: rows.map(() => target.reduce((s, p, a) => s + p * q[a], 0)),
    };
    return { inputs, truth: target.reduce((s, p, a) => s + p * ctr[a], 0) };
  }

  test('OPE on synthetic logs with a known true value recovers it within its interval', () => {
    const ctr = [0.02, 0.05, 0.1, 0.2, 0.08];
    const cases = [
      { logging: [0.2, 0.2, 0.2, 0.2, 0.2], target: [0.05, 0.05, 0.2, 0.6, 0.1] },
      { logging: [0.4, 0.3, 0.1, 0.1, 0.1], target: [0.1, 0.1, 0.1, 0.6, 0.1] },
    ];
    // 95% intervals on independent logs: they hold the true value about 19 times in 20
    const logs = 20;
    for (const [c, { logging, target }] of cases.entries()) {
      const covered = { ips: 0, snips: 0, dr: 0 };
      const sum = { ips: 0, snips: 0, dr: 0 };
      let truth = 0;
      for (let l = 0; l < logs; l++) {
        const synthetic = syntheticLog(5000, 1000 * c + l, logging, target, ctr);
        truth = synthetic.truth;
        const point = opeEstimates(synthetic.inputs);
        const { intervals } = bootstrapOpe([synthetic.inputs], { resamples: 200, seed: 42 + l });
        for (const key of ['ips', 'snips', 'dr'] as const) {
          const [lo, hi] = intervals[0][key];
          if (lo <= truth && truth <= hi) covered[key]++;
          assert.ok(hi - lo < truth / 2, `case ${c} ${key}: the interval is informative (${hi - lo})`);
          sum[key] += point[key];
        }
      }
      for (const key of ['ips', 'snips', 'dr'] as const) {
        assert.ok(covered[key] >= 16, `case ${c} ${key}: the interval held the true value ${truth} on ${covered[key]}/${logs} logs`);
        close(sum[key] / logs, truth, 0.006, `case ${c} ${key}: mean estimate over ${logs} logs`);
      }
    }
  });

  test('the paired difference interval is computed on shared resamples', () => {
    const ctr = [0.02, 0.05, 0.1, 0.2, 0.08];
    const uniform = [0.2, 0.2, 0.2, 0.2, 0.2];
    const { inputs: a } = syntheticLog(4000, 7, uniform, [0.05, 0.05, 0.2, 0.6, 0.1], ctr);
    const random: OpeInputs = { ...a, targetPropensity: a.loggingPropensity, targetRewardHat: a.rewardHat };
    const same: OpeInputs = { ...random };
    const boot = bootstrapOpe([a, random, same], { resamples: 400, seed: 42 });
    const est = (k: number) => ({ estimates: opeEstimates([a, random, same][k]), replicates: boot.replicates[k] });
    // a policy against itself on the same resamples: no variation at all
    const zero = pairedDifference(est(2), est(1));
    for (const key of ['ips', 'snips', 'dr'] as const) assert.deepEqual(zero.intervals[key], [0, 0]);
    assert.ok(boot.intervals[1].snips[1] - boot.intervals[1].snips[0] > 0.005, 'while each policy alone varies');
    // the difference's replicates are replicate-by-replicate differences
    const d = pairedDifference(est(0), est(1));
    const direct = percentileInterval(boot.replicates[0].map((r, i) => r.snips - boot.replicates[1][i].snips));
    assert.deepEqual(d.intervals.snips, direct);
    close(d.estimates.snips, opeEstimates(a).snips - opeEstimates(random).snips, 1e-12);
    // unpaired resamples (another seed for the baseline) give a wider interval for the same difference
    const other = bootstrapOpe([random], { resamples: 400, seed: 7 });
    const unpaired = percentileInterval(boot.replicates[0].map((r, i) => r.snips - other.replicates[0][i].snips));
    assert.ok(d.intervals.snips[1] - d.intervals.snips[0] < unpaired[1] - unpaired[0], `paired ${d.intervals.snips} vs unpaired ${unpaired}`);
    assert.throws(() => pairedDifference(est(0), { ...est(1), replicates: boot.replicates[1].slice(1) }), RangeError);
  });

  test('effective sample size: all rows on-policy, one row when a single row carries the weight', () => {
    const n = 50;
    const on: OpeInputs = {
      reward: new Float64Array(n),
      loggingPropensity: new Float64Array(n).fill(0.1),
      targetPropensity: new Float64Array(n).fill(0.1),
    };
    close(effectiveSampleSize(on), n, 1e-9);
    const one: OpeInputs = { ...on, targetPropensity: Float64Array.from({ length: n }, (_, i) => (i === 3 ? 1 : 0)) };
    close(effectiveSampleSize(one), 1, 1e-9);
    assert.equal(effectiveSampleSize({ ...on, targetPropensity: new Float64Array(n) }), 0);
  });

  test('the ope command takes any campaign, by name, as the only one of a folder, or as the path of its random log', () => {
    assert.deepEqual(parseOpeArgs(['data/site', '--campaign', 'kids', '--json']), { dir: 'data/site', campaign: 'kids', json: true, options: {} });
    assert.deepEqual(parseOpeArgs(['data/site/random/shoes.csv', '--min-evidence-clicks=5']), {
      dir: 'data/site',
      campaign: 'shoes',
      json: false,
      options: { minEvidenceClicks: 5 },
    });
    assert.equal(parseOpeArgs(['data/open-bandit']).campaign, 'men', 'the only campaign of the folder');
    assert.throws(() => parseOpeArgs(['data/open-bandit', '--floor', 'x']), /--floor needs a number/);
  });
});

describe('runOpe on a directory laid out like Open Bandit', () => {
  test('any campaign name; last stdout line is the JSON summary; random policy passes its sanity check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ope-'));
    try {
      mkdirSync(join(dir, 'random'));
      mkdirSync(join(dir, 'bts'));
      const items = 6;
      const rand = mulberry32(12);
      const header =
        ',timestamp,item_id,position,click,propensity_score,user_feature_0,' +
        Array.from({ length: items }, (_, i) => `user-item_affinity_${i}`).join(',');
      const good = [0.02, 0.02, 0.3, 0.02, 0.25, 0.2];
      const ctrOf = (item: number): number => good[item];
      const rows = (n: number, pick: () => number, propensity: (item: number) => number): string =>
        [
          header,
          ...Array.from({ length: n }, (_, t) => {
            const item = pick();
            const position = 1 + (t % 3);
            const click = rand() < ctrOf(item) ? 1 : 0;
            const stamp = new Date(Date.UTC(2019, 10, 24) + t * 1000).toISOString().replace('T', ' ').replace('Z', '+00:00');
            return [t, stamp, item, position, click, propensity(item), t % 2 ? 'u1' : 'u2', ...Array.from({ length: items }, () => '0.0')].join(',');
          }),
        ].join('\n') + '\n';
      writeFileSync(
        join(dir, 'random', 'kids.csv'),
        rows(
          3000,
          () => Math.floor(rand() * items),
          () => 1 / items,
        ),
      );
      writeFileSync(
        join(dir, 'bts', 'kids.csv'),
        rows(
          500,
          () => (rand() < 0.5 ? 2 : Math.floor(rand() * items)),
          (i) => (i === 2 ? 0.5 + 0.5 / items : 0.5 / items),
        ),
      );
      writeFileSync(
        join(dir, 'item_context.csv'),
        [
          ',item_id,item_feature_0,item_feature_1',
          ...Array.from({ length: items }, (_, i) => `${i},${i},${(i * 7) % 5},${good[i] > 0.1 ? 'hA' : 'hB'}`),
        ].join('\n') + '\n',
      );
      const lines: string[] = [];
      const original = console.log;
      console.log = (...args: unknown[]) => void lines.push(args.join(' '));
      try {
        await runOpe(dir, 'kids', true, { resamples: 200, thompsonDraws: 20 });
      } finally {
        console.log = original;
      }
      const summary = JSON.parse(lines.at(-1) as string);
      assert.equal(summary.protocol, 'ope');
      assert.equal(summary.campaign, 'kids');
      assert.equal(summary.rows, 3000);
      assert.deepEqual(Object.keys(summary.observed_ctr).slice(0, 2), ['random', 'bts']);
      for (const who of ['random', 'policy']) {
        const e = summary.estimates[who];
        for (const k of ['ips', 'snips', 'dr']) assert.equal(typeof e[k], 'number', `${who}.${k}`);
        assert.equal(e.snips_ci.length, 2);
        assert.ok(e.snips_ci[0] <= e.snips && e.snips <= e.snips_ci[1]);
      }
      assert.equal(summary.sanity_random_ci_contains_observed, true);
      // how much to trust it: effective sample size, the paired difference with random, the Monte Carlo error
      const policy = summary.estimates.policy;
      close(summary.estimates.random.ess, summary.eval_rows, 1e-6, 'ESS of the logging policy itself');
      assert.ok(policy.ess > 0 && policy.ess < summary.eval_rows, `policy ESS ${policy.ess}`);
      for (const k of ['ips', 'snips', 'dr']) {
        const [lo, hi] = policy.diff_vs_random[`${k}_ci`];
        assert.ok(lo <= policy.diff_vs_random[k] && policy.diff_vs_random[k] <= hi, `${k} difference inside its interval`);
      }
      assert.ok(policy.monte_carlo.draws_per_row >= 20 && policy.monte_carlo.se.snips >= 0);
      assert.equal(policy.monte_carlo.below_tenth_of_interval, true);
      assert.equal(policy.switch_engaged_share, 0, 'hundreds of clicks per item: the switch is released');
      assert.equal(summary.policy_not_below_random, true);
      // items 2, 4, 5 are far better and the item context singles them out: the learned policy finds them
      assert.ok(summary.estimates.policy.snips > summary.estimates.random.snips + 0.05, JSON.stringify(summary.estimates));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
