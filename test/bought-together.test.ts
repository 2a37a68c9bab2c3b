/**
 * "Bought together": the site-side build (npm run build:global on user,item,timestamp,type logs)
 * writes co-purchase neighbours (bought.bin) when the logs hold purchases in one session, the
 * engine loads them, and similar(kind 'bought-together') ranks by them with "Often bought with X";
 * without purchases it falls back to co-visitation and says so.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadGlobalModel, placeGlobalModel, type GlobalAsset, type GlobalContext } from '../src/global/global-model';
import { rankSimilar } from '../src/ranking/pipeline';
import { DEFAULT_RANKING_CONFIG } from '../src/ranking/score';
import { buildProfile } from '../src/profile/profile';
import { similarReason } from '../src/slate/explanations';
import type { CatalogIndex } from '../src/vectors/catalog-index';
import { coPurchases, userSequences, type LoggedInteraction } from '../tools/global/build';

const ROOT = join(import.meta.dirname, '..');
const GAP = 30 * 60;

// p1's content twin is p3; p5 is often viewed with p1; p2 (twice) and p4 (once) are bought with p1 in one session
const rows: [string, string, number, string][] = [
  ['u1', 'p1', 0, 'purchase'],
  ['u1', 'p2', 60, 'purchase'],
  ['u2', 'p1', 1000, 'purchase'],
  ['u2', 'p6', 1000 + GAP - 10, 'view'], // keeps the session open ...
  ['u2', 'p2', 1000 + 2 * GAP - 20, 'purchase'], // ... so p2 joins p1's basket
  ['u2', 'p3', 1000 + 5 * GAP, 'purchase'], // a later session: not bought with p1
  ['u3', 'p1', 50, 'purchase'],
  ['u3', 'p4', 90, 'purchase'],
  ['u3', 'p5', 100, ''], // viewed, not bought
  ...['u4', 'u5', 'u6', 'u7'].flatMap((u, n): [string, string, number, string][] => [
    [u, 'p1', 10 * n, 'view'],
    [u, 'p5', 10 * n + 1, 'view'],
    [u, 'p3', 10 * n + 2, n === 0 ? 'view' : ''],
    [u, 'p6', 10 * n + 3, 'view'],
  ]),
];

function build(withTypes: boolean): { dir: string; model: Promise<GlobalAsset> } {
  const tmp = mkdtempSync(join(tmpdir(), 'bought-'));
  const csv = join(tmp, 'logs.csv');
  writeFileSync(
    csv,
    `user,item,timestamp${withTypes ? ',type' : ''}\n${rows.map(([u, i, t, type]) => `${u},${i},${t}${withTypes ? `,${type}` : ''}`).join('\n')}\n`,
  );
  const dir = join(tmp, 'model');
  execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tools/build-global.ts'), csv, dir], { cwd: ROOT, stdio: 'pipe' });
  return { dir, model: loadGlobalModel(async (file) => new Uint8Array(readFileSync(join(dir, file))), dir) };
}

/** The co-purchase neighbours per item the asset's manifest records (0: none). */
const boughtPerItem = (dir: string): number =>
  Number((JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { boughtPerItem?: number }).boughtPerItem ?? 0);

// a catalog of 6 items; p3's vector is closest to p1's
const vectors: Record<string, number[]> = {
  p1: [1, 0, 0, 0],
  p2: [0, 1, 0, 0],
  p3: [0.95, 0.3, 0, 0],
  p4: [0, 0, 1, 0],
  p5: [0, 0, 0, 1],
  p6: [0, 0.7, 0.7, 0],
};
const ids = Object.keys(vectors);
const unit = (v: number[]): number[] => v.map((x) => x / Math.hypot(...v));
const catalog: CatalogIndex = {
  items: ids.map((id) => ({ id, title: id.toUpperCase() })),
  indexOf: new Map(ids.map((id, i) => [id, i] as const)),
  matrix: { count: ids.length, dims: 4, data: Float32Array.from(ids.flatMap((id) => unit(vectors[id]))) },
  prior: new Float32Array(ids.length),
};
const profile = buildProfile([], () => undefined, 0);
const similar = (global: GlobalContext, kind: 'bought-together' | 'viewed-together'): string[] =>
  rankSimilar({ catalog, global, profile, config: DEFAULT_RANKING_CONFIG }, catalog.indexOf.get('p1') as number, 5, { kind, now: 0 }).slate.map(
    (i) => ids[i],
  );
const reason = (global: GlobalContext, item: string, kind: 'bought-together' | 'viewed-together'): string =>
  similarReason({ catalog, global }, catalog.indexOf.get('p1') as number, catalog.indexOf.get(item) as number, kind).text;

describe('bought together', () => {
  test('co-purchases: same user, same session (30-minute gap between any events), one count per session', () => {
    const logs: LoggedInteraction[] = rows.map(([user, item, timestamp, type]) => ({ user, item, timestamp, ...(type ? { type } : {}) }));
    const rowOf = new Map(ids.map((id, r) => [id, r] as const));
    const bought = coPurchases(userSequences(logs).values(), rowOf, ids.length, 4, GAP);
    assert.ok(bought);
    const list = (id: string): [string, number][] => {
      const r = rowOf.get(id) as number;
      const out: [string, number][] = [];
      for (let t = 0; t < bought.k && bought.weights[r * bought.k + t] > 0; t++)
        out.push([ids[bought.neighbours[r * bought.k + t]], bought.weights[r * bought.k + t]]);
      return out;
    };
    assert.deepEqual(list('p1'), [
      ['p2', 2],
      ['p4', 1],
    ]);
    assert.deepEqual(list('p2'), [['p1', 2]]);
    assert.deepEqual(list('p3'), [], 'bought alone in its session');
    assert.equal(coPurchases(userSequences(logs.map(({ type: _t, ...x }) => x)).values(), rowOf, ids.length, 4, GAP), null, 'no purchases, no list');
  });

  test('build:global writes the co-purchase list from typed logs; similar(bought-together) ranks by it with "Often bought with X"', async () => {
    const { dir, model } = build(true);
    assert.ok(boughtPerItem(dir) > 0, 'the asset holds a co-purchase list (in global.bin since the compact asset, version 2)');
    const m = await model;
    assert.ok(m.bought, 'the engine loads the co-purchase list');
    const global = placeGlobalModel(m, catalog.indexOf);
    const slate = similar(global, 'bought-together');
    assert.deepEqual(slate.slice(0, 2), ['p2', 'p4'], 'the co-purchases first, the most frequent one ahead');
    assert.equal(reason(global, 'p2', 'bought-together'), 'Often bought with P1');
    assert.equal(reason(global, 'p3', 'bought-together'), 'Similar to P1', 'content twin, never bought with it');
    assert.notDeepEqual(similar(global, 'viewed-together').slice(0, 2), ['p2', 'p4'], 'viewed-together is another list');
  });

  test('without purchases in the logs: no co-purchase list, bought-together falls back to viewed-together and says so', async () => {
    const { dir, model } = build(false);
    assert.equal(boughtPerItem(dir), 0);
    assert.ok(!existsSync(join(dir, 'bought.bin')));
    const m = await model;
    assert.equal(m.bought, undefined);
    const global = placeGlobalModel(m, catalog.indexOf);
    assert.deepEqual(similar(global, 'bought-together'), similar(global, 'viewed-together'));
    assert.equal(reason(global, 'p5', 'bought-together'), 'Often viewed with P1 (no purchase data yet)');
    assert.equal(reason(global, 'p5', 'viewed-together'), 'Often viewed with P1');
  });
});
