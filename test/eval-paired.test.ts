import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pairedBootstrap } from '../tools/eval/paired';

// ranks are 0-based; null = the target is not in the ranking
const engine = [0, 3, null, 12, 5, null, 9, 20, null, 1];

test('paired bootstrap: a ranking identical to the baseline differs by exactly 0, interval [0, 0]', () => {
  const d = pairedBootstrap(engine, engine);
  assert.deepEqual([d.hr10, d.ndcg10, d.hr10Ci, d.ndcg10Ci], [0, 0, [0, 0], [0, 0]]);
});

test('paired bootstrap: the difference is the per-user HR@10 / NDCG@10 gain, and its interval holds it', () => {
  // user 2 gains a hit at rank 0, user 3 goes from rank 12 to rank 1, user 0 drops from rank 0 to rank 2
  const better = [2, 3, 0, 1, 5, null, 9, 20, null, 1];
  const d = pairedBootstrap(better, engine);
  assert.equal(d.hr10, 0.2);
  const ndcg = (1 / Math.log2(4) - 1 + 1 + 1 / Math.log2(3)) / 10;
  assert.equal(d.ndcg10, Math.round(ndcg * 1e4) / 1e4);
  assert.ok(d.hr10Ci[0] <= d.hr10 && d.hr10 <= d.hr10Ci[1], `HR@10 interval ${d.hr10Ci} holds ${d.hr10}`);
  assert.ok(d.hr10Ci[0] < d.hr10Ci[1], 'users differ, so the interval has a width');
  // the reverse comparison mirrors it
  const r = pairedBootstrap(engine, better);
  assert.equal(r.hr10, -0.2);
});

test('paired bootstrap: a uniform gain on every user has an interval above 0; deterministic for the seed', () => {
  const all = Array.from({ length: 200 }, (_, i) => (i % 2 ? null : 15));
  const gained = all.map(() => 0);
  const d = pairedBootstrap(gained, all);
  assert.ok(d.hr10Ci[0] > 0, `interval ${d.hr10Ci} above 0`);
  assert.deepEqual(pairedBootstrap(gained, all), d);
});

test('paired bootstrap: rankings of different users are refused with the reason', () => {
  assert.throws(() => pairedBootstrap([0, 1], [0]), /cover 2 and 1 users; they must be the same users/);
});

test('the --sequence weight is chosen on validation NDCG@10 among the default pipeline rows only', async () => {
  const { chosenSequenceRow } = await import('../tools/eval');
  const row = (name: string, hr10: number, ndcg10: number) => ({ name, hr10, ndcg10, ild: 0, ranks: [] });
  const validation = [
    row('+ diversity (MMR, lambda 0.85), with heads', 0.2, 0.1),
    row('behaviour model alone (next-item share)', 0.3, 0.3),
    row('engine + behaviour model (sequence 0.25)', 0.15, 0.08),
    row('engine + behaviour model (sequence 0.5)', 0.14, 0.09),
    row('engine + behaviour model (sequence 1)', 0.16, 0.09),
    row('engine + behaviour model (sequence 2, temperature 4)', 0.15, 0.085),
    // better on validation, but not the pipeline the engine runs by default: never chosen
    row('engine without heads + behaviour model (sequence 2)', 0.3, 0.2),
    row('engine + behaviour model (sequence 1, conversion 0.3)', 0.3, 0.2),
  ];
  // ties on NDCG@10 go to the higher HR@10
  assert.equal(chosenSequenceRow(validation)?.name, 'engine + behaviour model (sequence 1)');
  assert.equal(chosenSequenceRow(validation.slice(0, 2)), undefined);
  // a temperature row is one of the default pipeline's rows
  const warmer = [...validation, row('engine + behaviour model (sequence 0.5, temperature 2)', 0.1, 0.095)];
  assert.equal(chosenSequenceRow(warmer)?.name, 'engine + behaviour model (sequence 0.5, temperature 2)');
  const newItems = [...warmer, row('engine + behaviour model (sequence 0.5, temperature 2, new items by its content path 1)', 0.1, 0.1)];
  assert.equal(chosenSequenceRow(newItems)?.name, 'engine + behaviour model (sequence 0.5, temperature 2, new items by its content path 1)');
});
