import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { GlobalModel } from '../src/formats/global-model-file';
import { EVENT_TYPES, EVENTS } from '../src/vocabulary';
import {
  buildFromInteractions,
  buildFromLogs,
  BuildInputError,
  DEFAULT_BUILD_SETTINGS,
  modelFromTables,
  type BuildSettings,
  type InputSpec,
} from '../tools/global/duckdb-build';
import { writeGlobalAsset } from '../tools/global/write-asset';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'global-duckdb');
const work = mkdtempSync(join(tmpdir(), 'odr-duckdb-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

// the fixture's co-visitation halves over 365 days (not 30) so its one-year gap weighs exactly 0.5
const SETTINGS: BuildSettings = { ...DEFAULT_BUILD_SETTINGS, covisitHalfLifeDays: 365 };
const spec = (path: string, extra: Partial<InputSpec> = {}): InputSpec => ({ path, format: 'auto', strict: true, ...extra });
const file = (name: string, text: string): string => {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
};

/** Row `r`'s list as [id, weight] pairs (empty slots left out). */
function list(m: GlobalModel, which: 'neighbours' | 'next' | 'bought', id: string): [string, number][] {
  const r = m.itemIds.indexOf(id);
  const [k, ids, ws] =
    which === 'neighbours'
      ? [m.k, m.neighbours, m.weights]
      : which === 'next'
        ? [m.kt, m.next, m.nextWeights]
        : [m.bought?.k ?? 0, m.bought?.neighbours, m.bought?.weights];
  const out: [string, number][] = [];
  for (let t = 0; t < k && ws && ids && ws[r * k + t] > 0; t++) out.push([m.itemIds[ids[r * k + t]], ws[r * k + t]]);
  return out;
}

function assertList(actual: [string, number][], expected: [string, number][], what: string): void {
  assert.deepEqual(
    actual.map(([id]) => id),
    expected.map(([id]) => id),
    `${what}: order`,
  );
  actual.forEach(([id, w], i) => assert.ok(Math.abs(w - expected[i][1]) < 1e-6, `${what} -> ${id}: ${w}, expected ${expected[i][1]}`));
}

/*
 * The fixture (test/fixtures/global-duckdb/events.csv), T = 1600000000, Y = 365 days = 31536000 s:
 *   u1: A view, B add_to_cart, C purchase, D purchase, all at T; E purchase at T + 7200 (a new session: > 30 min)
 *   u2: B view, C view (empty type), both at T + Y
 *   u3: A view at T; D like at T + Y (written as ISO 8601 2021-09-13T12:26:40Z)
 * Weights (src/vocabulary.ts): view 1, like 3, add_to_cart 4, purchase 6.
 */
describe('DuckDB global build: every signal against the hand-computed fixture', async () => {
  const { model: m, summary } = await buildFromLogs(spec(join(FIXTURES, 'events.csv')), SETTINGS);

  test('rows: most events first, ties by id (A B C D have 2 events each, E one)', () => {
    assert.deepEqual(m.itemIds, ['A', 'B', 'C', 'D', 'E']);
    assert.equal(summary.events, 9);
    assert.equal(summary.purchases, 3);
    assert.deepEqual(summary.skipped, {});
  });

  test('popularity: weight x 0.5^(age / 365 d), over the most popular', () => {
    // newest event T + Y. Units: A 1*0.5 (u1) + 1*0.5 (u3) = 1; B 4*0.5 + 1*1 = 3; C 6*0.5 + 1 = 4;
    // D 6*0.5 + 3*1 = 6 (the maximum); E 6 * 0.5^((Y - 7200) / Y) = 3 * 2^(7200/Y) = 3.000475 (to 1e-6)
    const expected = [1 / 6, 3 / 6, 4 / 6, 1, 3.000475 / 6];
    m.itemIds.forEach((id, r) => assert.ok(Math.abs(m.popularity[r] - expected[r]) < 1e-6, `${id}: ${m.popularity[r]}`));
  });

  test('next-item transitions: window 3, 1/distance (6, 3, 2), normalised per item', () => {
    // u1 A B C D E: A->B 6, A->C 3, A->D 2; B->C 6, B->D 3, B->E 2; C->D 6, C->E 3; D->E 6. u2: B->C 6. u3: A->D 6.
    assertList(
      list(m, 'next', 'A'),
      [
        ['D', 8 / 17],
        ['B', 6 / 17],
        ['C', 3 / 17],
      ],
      'A',
    );
    assertList(
      list(m, 'next', 'B'),
      [
        ['C', 12 / 17],
        ['D', 3 / 17],
        ['E', 2 / 17],
      ],
      'B',
    );
    assertList(
      list(m, 'next', 'C'),
      [
        ['D', 6 / 9],
        ['E', 3 / 9],
      ],
      'C',
    );
    assertList(list(m, 'next', 'D'), [['E', 1]], 'D');
    assertList(list(m, 'next', 'E'), [], 'E');
  });

  test('co-visitation: mean type weight / position gap x 0.5^(time gap / half-life), cosine-normalised', () => {
    // pair units (x 1e6, rounded): u1 at T (f = 0.5^(7200/Y) = 0.99984176 for pairs with E):
    //   A-B (1+4)/2/1 = 2.5; A-C 3.5/2 = 1.75; A-D 3.5/3 = 1.166667; A-E 3.5/4 f = 0.874862;
    //   B-C 5; B-D 5/2 = 2.5; B-E 5/3 f = 1.666403; C-D 6; C-E 6/2 f = 2.999525; D-E 6 f = 5.999051
    //   u2: B-C (1+1)/2 = 1 (same time). u3: A-D (1+3)/2 * 0.5 (one year apart) = 1.
    // sums: A-B 2.5, A-C 1.75, A-D 2.166667, A-E 0.874862, B-C 6, B-D 2.5, B-E 1.666403, C-D 6, C-E 2.999525, D-E 5.999051
    // totals: A 7.291529, B 12.666403, C 16.749525, D 16.665718, E 11.539841; score = units / sqrt(total_a * total_b)
    // e.g. A-B 2.5 / sqrt(7.291529 * 12.666403) = 0.2601382
    assertList(
      list(m, 'neighbours', 'A'),
      [
        ['B', 0.2601382],
        ['D', 0.196549],
        ['C', 0.1583534],
        ['E', 0.0953741],
      ],
      'A',
    );
    assertList(
      list(m, 'neighbours', 'B'),
      [
        ['C', 0.4119299],
        ['A', 0.2601382],
        ['D', 0.1720685],
        ['E', 0.1378331],
      ],
      'B',
    );
    assertList(
      list(m, 'neighbours', 'C'),
      [
        ['B', 0.4119299],
        ['D', 0.3591187],
        ['E', 0.2157503],
        ['A', 0.1583534],
      ],
      'C',
    );
    assertList(
      list(m, 'neighbours', 'D'),
      [
        ['E', 0.4325842],
        ['C', 0.3591187],
        ['A', 0.196549],
        ['B', 0.1720685],
      ],
      'D',
    );
    assertList(
      list(m, 'neighbours', 'E'),
      [
        ['D', 0.4325842],
        ['C', 0.2157503],
        ['B', 0.1378331],
        ['A', 0.0953741],
      ],
      'E',
    );
  });

  test('co-purchase: purchases of one session (30 min gap), one count per session', () => {
    // u1's session 0 buys C and D; E (2 h later) is alone in session 1
    assertList(list(m, 'bought', 'C'), [['D', 1]], 'C');
    assertList(list(m, 'bought', 'D'), [['C', 1]], 'D');
    assertList(list(m, 'bought', 'E'), [], 'E');
    assertList(list(m, 'bought', 'A'), [], 'A');
  });

  test("EASE over the top items (--ease-top): B = -P / diag(P) of (G + lambda I)^-1, rescaled to the row's co-visitation maximum", async () => {
    // X, Y, Z have 3 events each (u1 X Y, u2 X Y, u3 X Z, u4 Y Z, u5 Z). Gram (users who saw both): diagonal 3, XY 2, XZ 1, YZ 1;
    // lambda 1: G + I = [[4,2,1],[2,4,1],[1,1,4]], det 44, P = adj / 44: P_XX = P_YY = 15/44, P_ZZ = 12/44, P_XY = -7/44, P_XZ = P_YZ = -2/44.
    // B_XY = 7/15, B_XZ = (2/44)/(12/44) = 1/6; B_ZX = B_ZY = (2/44)/(15/44) = 2/15.
    // Co-visitation (same second, 1 position apart, views): XY 2, XZ 1, YZ 1; totals X 3, Y 3, Z 2:
    // X's top is Y at 2/3, Z's top X at 1/sqrt(6) = 0.408248 (tie with Y, by row).
    // EASE rows rescaled so their best weight equals those maxima: X: Y 2/3, Z (1/6)/(7/15) * 2/3 = 0.238095; Z: X, Y 0.408248 each.
    const rows = ['u1,X', 'u1,Y', 'u2,X', 'u2,Y', 'u3,X', 'u3,Z', 'u4,Y', 'u4,Z', 'u5,Z'].map((r) => `${r},1600000000,view`);
    const ease = await buildFromLogs(spec(file('ease.csv', `user,item,timestamp,type\n${rows.join('\n')}\n`)), {
      ...SETTINGS,
      easeTop: 3,
      easeLambda: 1,
    });
    assertList(
      list(ease.model, 'neighbours', 'X'),
      [
        ['Y', 2 / 3],
        ['Z', 0.238095],
      ],
      'X',
    );
    assertList(
      list(ease.model, 'neighbours', 'Y'),
      [
        ['X', 2 / 3],
        ['Z', 0.238095],
      ],
      'Y',
    );
    assertList(
      list(ease.model, 'neighbours', 'Z'),
      [
        ['X', 0.408248],
        ['Y', 0.408248],
      ],
      'Z',
    );
    // off: the co-visitation cosine (Z: X and Y at 1/sqrt(6))
    const covis = await buildFromLogs(spec(join(work, 'ease.csv')), { ...SETTINGS, easeTop: 0 });
    assertList(
      list(covis.model, 'neighbours', 'X'),
      [
        ['Y', 2 / 3],
        ['Z', 1 / Math.sqrt(6)],
      ],
      'X co-visitation',
    );
  });

  test("event weights are the engine's (src/vocabulary.ts) for every type with a positive weight", async () => {
    const positive = EVENT_TYPES.filter((t) => EVENTS[t].weight > 0);
    // one event of each type, each on its own item, seconds apart: popularity = weight x 0.5^(seconds / 365 d) / the largest weight
    const rows = positive.map((t, i) => `v,${t},${1_600_000_000 + i},${t}`);
    const one = await buildFromLogs(
      spec(file('types.csv', `user,item,timestamp,type\n${rows.join('\n')}\nv,x,1600000000,search\nv,y,1600000000,dismiss\n`)),
      SETTINGS,
    );
    const max = Math.max(...positive.map((t) => EVENTS[t].weight));
    for (const t of positive) {
      const r = one.model.itemIds.indexOf(t);
      assert.ok(Math.abs(one.model.popularity[r] - EVENTS[t].weight / max) < 1e-5, `${t}: ${one.model.popularity[r]}`);
    }
    assert.ok(!one.model.itemIds.includes('x') && !one.model.itemIds.includes('y'), 'search and dismiss carry no interest');
  });
});

describe('DuckDB global build: determinism', () => {
  test('the same input twice gives a byte-identical asset, with 1 or 2 threads and rows in any order', async () => {
    const lines = readFileSync(join(FIXTURES, 'events.csv'), 'utf8').trim().split('\n');
    // a bigger log with many ties: 40 users x 30 events over 25 items
    const big = ['user,item,timestamp,type'];
    for (let u = 0; u < 40; u++)
      for (let p = 0; p < 30; p++) big.push(`u${u},i${(u * 7 + p * p) % 25},${1_600_000_000 + p * 600 + (u % 3) * 60},${EVENT_TYPES[(u + p) % 6]}`);
    const inputs = {
      a: file('big-a.csv', `${big.join('\n')}\n`),
      b: file('big-b.csv', `${[big[0], ...big.slice(1).reverse()].join('\n')}\n`),
      c: file('small.csv', `${[lines[0], ...lines.slice(1).reverse()].join('\n')}\n`),
    };
    // each asset in its own parent folder under the same name (the manifest and model card carry the name)
    const asset = async (path: string, threads: number, parent: string): Promise<Record<string, string>> => {
      const { model } = await buildFromLogs(spec(path), SETTINGS, { threads });
      const out = join(work, parent, 'asset');
      await writeGlobalAsset(out, model, { build: {}, describe: () => '', source: 'test' });
      return Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f)).toString('base64')]));
    };
    const first = await asset(inputs.a, 1, 'det-1');
    assert.deepEqual(await asset(inputs.a, 2, 'det-2'), first);
    assert.deepEqual(await asset(inputs.b, 2, 'det-3'), first);
    assert.deepEqual(await asset(inputs.c, 2, 'det-4'), await asset(join(FIXTURES, 'events.csv'), 1, 'det-5'));
  });

  test('interactions held in memory (the evaluation) give the same model as the file', async () => {
    const fromFile = (await buildFromLogs(spec(join(FIXTURES, 'events.csv')), SETTINGS)).model;
    const rows = readFileSync(join(FIXTURES, 'events.csv'), 'utf8').trim().split('\n').slice(1);
    const inMemory = await buildFromInteractions(
      rows.map((l) => {
        const [user, item, ts, type] = l.split(',');
        return { user, item, timestamp: /T/.test(ts) ? Date.parse(ts) / 1000 : Number(ts), ...(type ? { type } : {}) };
      }),
      SETTINGS,
    );
    assert.deepEqual(inMemory, fromFile);
  });
});

describe('DuckDB global build: input mappings', () => {
  test('MovieLens ratings.csv: every rating a view, or with --like-threshold 4 a rating >= 4 a like (weight 3)', async () => {
    const views = await buildFromLogs(spec(join(FIXTURES, 'ratings.csv')), SETTINGS);
    // all views: 20 has 2 events (popularity 1), 10 and 30 one each (10 is older: 1100 s, 30 at the newest second)
    assert.deepEqual(views.model.itemIds, ['20', '10', '30']);
    assert.ok(Math.abs(views.model.popularity[1] - 0.5) < 1e-4 && Math.abs(views.model.popularity[2] - 0.5) < 1e-4, String(views.model.popularity));
    const { model, summary } = await buildFromLogs(spec(join(FIXTURES, 'ratings.csv'), { likeThreshold: 4 }), SETTINGS);
    assert.equal(summary.format, 'movielens');
    // items: 20 (2 events), then 10, 30. The newest event is at 2100, so ages are at most 1100 s of a 365-day
    // half-life (a factor above 0.99997): 20: 1 (3.0) + 3 (4.0) = 4, the maximum; 10: 3 (5.0) -> 0.75; 30: 1 (3.5) -> 0.25
    assert.deepEqual(model.itemIds, ['20', '10', '30']);
    const pop = Object.fromEntries(model.itemIds.map((id, r) => [id, model.popularity[r]]));
    assert.ok(Math.abs(pop['20'] - 1) < 1e-4 && Math.abs(pop['10'] - 0.75) < 1e-4 && Math.abs(pop['30'] - 0.25) < 1e-4, JSON.stringify(pop));
  });

  test('GA4 events_* exported to Parquet: microseconds, event names, items[] unnested', async () => {
    const path = join(work, 'ga4.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`COPY (SELECT * FROM (VALUES
      ('g1', 1700000000000000, 'page_view', []::STRUCT(item_id VARCHAR, price DOUBLE)[]),
      ('g1', 1700000060000000, 'view_item', [{'item_id': 'sku1', 'price': 9.5}]),
      ('g1', 1700000120000000, 'select_item', [{'item_id': 'sku2', 'price': 3.0}]),
      ('g1', 1700000180000000, 'add_to_cart', [{'item_id': 'sku2', 'price': 3.0}]),
      ('g1', 1700000240000000, 'purchase', [{'item_id': 'sku2', 'price': 3.0}, {'item_id': 'sku3', 'price': 1.0}])
    ) t(user_pseudo_id, event_timestamp, event_name, items)) TO '${path}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    const { model, summary } = await buildFromLogs(spec(path, { format: 'ga4' }), SETTINGS);
    assert.deepEqual(summary.ignored, { page_view: 1 });
    assert.equal(summary.events, 5);
    assert.equal(summary.purchases, 2);
    // sku2: click 2 + add_to_cart 4 + purchase 6 = 3 events; sku1, sku3 one each (ties by id)
    assert.deepEqual(model.itemIds, ['sku2', 'sku1', 'sku3']);
    assertList(list(model, 'bought', 'sku2'), [['sku3', 1]], 'sku2 bought');
    // sequence sku1 (t+60) sku2 sku2 sku2 sku3 (purchase rows at the same second: ties by row): sku1's next are sku2 (6+3+2)
    assertList(list(model, 'next', 'sku1'), [['sku2', 1]], 'sku1 next');
  });

  test('Segment / RudderStack track events in JSON Lines', async () => {
    const { model, summary } = await buildFromLogs(spec(join(FIXTURES, 'segment.jsonl')), SETTINGS);
    assert.equal(summary.format, 'segment');
    assert.deepEqual(summary.ignored, { 'Signed Up': 1 });
    // p1: view + purchase; p3: purchase + click (s2, 09:00Z); p2: add_to_cart (anonymousId)
    assert.equal(summary.events, 5);
    assert.deepEqual(model.itemIds, ['p1', 'p3', 'p2']);
    assertList(list(model, 'bought', 'p1'), [['p3', 1]], 'p1 bought');
  });

  test('JSON Lines and Parquet in the events format read like the CSV', async () => {
    const csv = (await buildFromLogs(spec(join(FIXTURES, 'events.csv')), SETTINGS)).model;
    const rows = readFileSync(join(FIXTURES, 'events.csv'), 'utf8').trim().split('\n').slice(1);
    const jsonl = file(
      'events.jsonl',
      rows
        .map((l) => {
          const [user, item, timestamp, type] = l.split(',');
          return JSON.stringify({ user, item, timestamp, ...(type ? { type } : {}) });
        })
        .join('\n'),
    );
    assert.deepEqual((await buildFromLogs(spec(jsonl), SETTINGS)).model, csv);
    const parquet = join(work, 'events.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`COPY (SELECT * FROM read_csv('${join(FIXTURES, 'events.csv')}', all_varchar = true)) TO '${parquet}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    assert.deepEqual((await buildFromLogs(spec(parquet), SETTINGS)).model, csv);
  });

  test('--from-tables: the signal tables exported as Parquet (a Spark / BigQuery run) give the same model', async () => {
    const tables = join(work, 'tables');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    // run the signal files as Spark would, then export their tables
    const { readFileSync: read } = await import('node:fs');
    const sqlDir = join(import.meta.dirname, '..', 'tools', 'global', 'sql');
    await c.run(`CREATE TABLE input_events AS SELECT "user" AS user_id, item AS item_id,
      CASE WHEN "timestamp" LIKE '%T%' THEN CAST(epoch(CAST("timestamp" AS TIMESTAMPTZ)) AS BIGINT) ELSE CAST("timestamp" AS BIGINT) END AS ts,
      coalesce(nullif(type, ''), 'view') AS event_type FROM read_csv('${join(FIXTURES, 'events.csv')}', all_varchar = true)`);
    const params = read(join(sqlDir, '00_params.sql'), 'utf8').replace(/\b30 AS covisit_half_life_days/, '365 AS covisit_half_life_days');
    await c.run(params);
    for (const f of readdirSync(sqlDir)
      .filter((f) => /^0[1-7]_.*\.sql$/.test(f))
      .sort())
      await c.run(read(join(sqlDir, f), 'utf8'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(tables, { recursive: true });
    for (const t of ['items', 'popularity', 'covisitation', 'transitions', 'bought'])
      await c.run(`COPY ${t} TO '${join(tables, `${t}.parquet`)}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    const fromTables = await modelFromTables(tables, SETTINGS);
    assert.deepEqual(fromTables, (await buildFromLogs(spec(join(FIXTURES, 'events.csv')), SETTINGS)).model);
    // Spark writes a table as a folder of part files: Parquet parts, or CSV parts with a header
    const folders = join(work, 'table-folders');
    for (const t of ['items', 'popularity', 'covisitation', 'bought']) {
      mkdirSync(join(folders, `${t}.parquet`), { recursive: true });
      cpSync(join(tables, `${t}.parquet`), join(folders, `${t}.parquet`, 'part-00000.parquet'));
    }
    const csv = await DuckDBInstance.create(':memory:');
    const cc = await csv.connect();
    mkdirSync(join(folders, 'transitions'), { recursive: true });
    await cc.run(
      `COPY (SELECT * FROM read_parquet('${join(tables, 'transitions.parquet')}')) TO '${join(folders, 'transitions', 'part-00000.csv')}' (HEADER)`,
    );
    cc.closeSync();
    csv.closeSync();
    assert.deepEqual(await modelFromTables(folders, SETTINGS), fromTables, 'folders of part files give the same model');
  });
});

describe('DuckDB global build: bad input', () => {
  const header = 'user,item,timestamp,type\n';
  const good = 'u1,a,1600000000,view\nu1,b,1600000060,click\n';
  const fails = async (path: string, pattern: RegExp, extra: Partial<InputSpec> = {}): Promise<void> => {
    await assert.rejects(buildFromLogs(spec(path, extra), SETTINGS), (e: Error) => {
      assert.ok(e instanceof BuildInputError, `a BuildInputError, got ${e.name}: ${e.message}`);
      assert.match(e.message, pattern);
      assert.match(e.message, /Fix: /);
      assert.ok(e.message.includes(path), `names the file: ${e.message}`);
      return true;
    });
  };
  const skips = async (path: string, problem: string, count: number, extra: Partial<InputSpec> = {}): Promise<GlobalModel> => {
    const { model, summary } = await buildFromLogs(spec(path, { strict: false, ...extra }), SETTINGS);
    assert.equal((summary.skipped as Record<string, { count: number }>)[problem]?.count, count, JSON.stringify(summary.skipped));
    return model;
  };

  test('a missing column names it and the columns found', async () => {
    await fails(file('no-ts.csv', 'user,item,type\nu1,a,view\n'), /missing column "timestamp" \(columns found: user, item, type\)/);
  });

  test('a malformed row: its line (strict), or counted and skipped', async () => {
    const p = file('malformed.csv', `${header}${good}u2,c,1600000000,view,extra,fields\nu2,d,1600000100,view\n`);
    await fails(p, /line 4: malformed row/);
    const m = await skips(p, 'malformed', 1);
    assert.deepEqual(m.itemIds.sort(), ['a', 'b', 'd']);
    const j = file(
      'malformed.jsonl',
      '{"user":"u","item":"a","timestamp":1600000000}\n{"user": "u", "item"\n{"user":"u","item":"b","timestamp":1600000001}\n',
    );
    await fails(j, /line 2: malformed row/);
  });

  test('an unparseable timestamp: its line and the formats accepted', async () => {
    const p = file('bad-ts.csv', `${header}${good}u2,c,yesterday,view\n`);
    await fails(p, /line 4: the timestamp cannot be read \("yesterday"\).*unix seconds.*ISO 8601/);
    await skips(p, 'bad_timestamp', 1);
  });

  test('a future timestamp (milliseconds): its line and the fix', async () => {
    const p = file('future.csv', `${header}u1,a,1600000000000,view\n${good}`);
    await fails(p, /line 2: the timestamp is in the future \("1600000000000"\).*divide milliseconds by 1000/);
    await skips(p, 'future_timestamp', 1);
  });

  test('an unknown event type: its line, the type and the types accepted', async () => {
    const p = file('type.csv', `${header}${good}u1,c,1600000100,wishlist\n`);
    await fails(p, /line 4: unknown event type \("wishlist"\).*view, click/);
    await skips(p, 'unknown_type', 1);
  });

  test('a missing user or item id', async () => {
    const p = file('ids.csv', `${header}${good},c,1600000100,view\nu1,,1600000100,view\n`);
    await fails(p, /line 4: no user id/);
    await skips(p, 'missing_user', 1);
    await skips(p, 'missing_item', 1);
  });

  test('an empty file, or one with no usable event', async () => {
    await fails(file('empty.csv', ''), /the file is empty/);
    await fails(file('header-only.csv', header), /no usable event/, { strict: false });
    await fails(file('all-bad.csv', `${header}u1,a,soon,view\n`), /no usable event \(1 rows skipped: 1 the timestamp cannot be read/, {
      strict: false,
    });
  });

  test('an item absent from the catalog (--catalog)', async () => {
    const p = file('catalog.csv', `${header}${good}u1,zz,1600000100,view\n`);
    await fails(p, /line 4: the item is not in the catalog \(item "zz"\)/, { catalog: new Set(['a', 'b']) });
    const m = await skips(p, 'not_in_catalog', 1, { catalog: new Set(['a', 'b']) });
    assert.deepEqual(m.itemIds.sort(), ['a', 'b']);
  });

  test('npm run build:global: a failed build leaves the previous asset in place, the summary names what was skipped', () => {
    const out = join(work, 'asset');
    const cli = (...args: string[]): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'tools', 'build-global.ts'), ...args], { encoding: 'utf8' });
    const ok = cli(join(FIXTURES, 'events.csv'), out);
    assert.equal(ok.status, 0, String(ok.stderr));
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f)).toString('base64')]));
    const bad = cli(file('cli-bad.csv', `${header}${good}u1,c,later,view\n`), out, '--strict');
    assert.notEqual(bad.status, 0);
    assert.match(String(bad.stderr), /cli-bad\.csv line 4: the timestamp cannot be read/);
    assert.deepEqual(Object.fromEntries(readdirSync(out).map((f) => [f, readFileSync(join(out, f)).toString('base64')])), before);
    const skipped = cli(file('cli-skip.csv', `${header}${good}u1,c,later,view\n`), join(work, 'asset-2'));
    assert.equal(skipped.status, 0, String(skipped.stderr));
    assert.match(String(skipped.stderr), /skipped 1 rows: 1 the timestamp cannot be read \(first: .*cli-skip\.csv line 4/);
  });
});
