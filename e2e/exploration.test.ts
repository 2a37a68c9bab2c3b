/** Exploration and negative feedback in the browser, through the public API in the engine's worker. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { useBrowser } from './harness';

const env = useBrowser({ webgpu: true });

async function open(options: Record<string, unknown>): Promise<Page> {
  const page = await env.browser().newPage();
  await page.goto(new URL('lab.html', env.server().url).href);
  await page.waitForFunction(() => document.body.dataset.labReady === 'true');
  await page.evaluate((o) => window.lab.open(o), options);
  return page;
}

test('dismissing an item lowers it and its near neighbours in the next slate', async () => {
  const page = await open({ globalModel: 'global-movielens', exploration: { rate: 0 } });
  const r = await page.evaluate(async () => {
    const recs = window.labRecs!;
    for (const id of ['1', '260', '1196', '1210']) await recs.track({ type: 'click', itemId: id }); // Toy Story, Star Wars IV, V, VI
    const before = (await recs.recommend({ k: 60 })).map((x) => x.itemId);
    const victim = before[0];
    // its near neighbours in content (a dismissal pushes down what looks like it): the most similar items the slate also ranks
    const near = (await recs.similar(victim, { k: 30, kind: 'content' }))
      .map((x) => x.itemId)
      .filter((id) => before.includes(id))
      .slice(0, 5);
    await recs.track({ type: 'dismiss', itemId: victim });
    const after = (await recs.recommend({ k: 60 })).map((x) => x.itemId);
    return { before, after, victim, near };
  });
  assert.ok(!r.after.includes(r.victim), 'the dismissed item is gone');
  assert.ok(r.near.length >= 2, `near neighbours in the slate: ${r.near.length}`);
  const pos = (list: string[], id: string): number => (list.includes(id) ? list.indexOf(id) : list.length);
  let lowered = 0;
  for (const id of r.near) {
    assert.ok(pos(r.after, id) >= pos(r.before, id) - 1, `${id} did not move up (before ${pos(r.before, id)}, after ${pos(r.after, id)})`);
    if (pos(r.after, id) > pos(r.before, id)) lowered++;
  }
  assert.ok(lowered >= Math.ceil(r.near.length / 2), `${lowered}/${r.near.length} neighbours ranked lower`);
  await page.close();
});

test('an item shown to explore says so in its explanation ("something new for you"), with its propensity', async () => {
  const page = await open({ globalModel: 'global-movielens', seed: 5, exploration: { rate: 0.5, prior: 'uniform' } });
  const r = await page.evaluate(async () => {
    const recs = window.labRecs!;
    for (const id of ['356', '318', '296']) await recs.track({ type: 'click', itemId: id });
    const slates = [];
    for (let i = 0; i < 6; i++) {
      const s = await recs.recommend({ k: 10 });
      slates.push(s.map((x) => ({ id: x.itemId, source: x.source, propensity: x.propensity, reason: x.reasons[0] })));
      await recs.track({ type: 'click', itemId: s[9].itemId });
    }
    return slates;
  });
  const all = r.flat();
  const explored = all.filter((x) => x.source === 'explore');
  assert.ok(explored.length > 0, 'the bandit used the "something new" source');
  for (const x of explored) {
    assert.equal(x.reason.kind, 'explore');
    assert.match(x.reason.text, /^Something new for you/);
  }
  for (const x of all) assert.ok(typeof x.propensity === 'number' && x.propensity > 0 && x.propensity <= 1);
  for (const s of r)
    assert.ok(
      s.slice(0, 5).every((x) => x.source === 'ranked'),
      'the first half of the slate is the ranking',
    );
  await page.close();
});
