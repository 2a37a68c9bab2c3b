/**
 * The signal files of tools/global/sql/ (not inputs/, which holds DuckDB's readers) must run
 * unchanged on DuckDB, Spark SQL and BigQuery: each parses with dt-sql-parser's Spark SQL
 * grammar and node-sql-parser's BigQuery grammar, and holds none of the DuckDB-only (or
 * single-dialect) tokens below. tools/global/sql/README.md lists why each is avoided.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SparkSQL } from 'dt-sql-parser';
import nodeSqlParser from 'node-sql-parser';
import { signalFiles } from '../tools/global/duckdb-build';

const SQL_DIR = join(import.meta.dirname, '..', 'tools', 'global', 'sql');

/** Tokens that leave the shared subset, with the reason (matched case-insensitively outside comments and string literals). */
const DENYLIST: [RegExp, string][] = [
  [/::/, ':: casts are DuckDB/Postgres only: use CAST(x AS type)'],
  [/\bqualify\b/i, 'QUALIFY is not in Spark SQL: filter a ROW_NUMBER() subquery'],
  [/\bgroup\s+by\s+all\b|\border\s+by\s+all\b/i, 'GROUP BY ALL / ORDER BY ALL are DuckDB only: list the columns'],
  [/\b(list|list_\w+|array_agg|collect_list|struct_pack|unnest|explode)\s*\(/i, 'list/array functions differ in every dialect'],
  [
    /\b(epoch|epoch_ms|to_timestamp|strftime|strptime|date_diff|datediff|date_trunc|unix_seconds|unix_timestamp)\s*\(/i,
    'time functions differ: the signals take ts as unix seconds (BIGINT) from input_events',
  ],
  [/\b(read_csv\w*|read_parquet|read_json\w*|parquet_scan)\s*\(/i, 'file readers are DuckDB only: they belong in inputs/'],
  [
    /\b(arg_min|arg_max|any_value|first|last|mode|median|quantile\w*|approx_\w+)\s*\(/i,
    'aggregate names differ (or are order-dependent): use min/max/sum/count',
  ],
  [/\b(regexp_\w+|ilike|similar\s+to)\b/i, 'regular expressions differ: keep text matching in inputs/'],
  [
    /\b(double|float64|float|real|string|varchar|text|int64|bigint|hugeint|decimal|numeric)\b/i,
    'type names differ (BigQuery FLOAT64/INT64/STRING, Spark DOUBLE/BIGINT/STRING): only CAST(... AS INTEGER)',
  ],
  [
    /\bcreate\s+or\s+replace\b|\bcreate\s+(temp|temporary)\b/i,
    'CREATE OR REPLACE / TEMP tables differ (Spark needs a v2 catalog): plain CREATE TABLE ... AS',
  ],
  [/"/, 'double quotes are identifiers in DuckDB but strings in Spark and BigQuery: name columns plainly'],
  [/`/, 'backtick identifiers are Spark/BigQuery only'],
  [/\/\//, '// is DuckDB integer division'],
  [/->>?/, 'JSON arrows are DuckDB/Postgres only'],
  [/\bfilter\s*\(\s*where\b/i, 'FILTER (WHERE ...) is not in BigQuery: use CASE inside the aggregate'],
  [/\b(exclude|columns|pivot|unpivot|asof|positional|sample|using\s+sample)\b/i, 'DuckDB-only clause'],
  [/\b(limit|top)\b/i, 'a LIMIT without a total order is not deterministic; rank with ROW_NUMBER() and full tie-breaks'],
  [/\b(rand|random|uuid|now|current_timestamp|current_date|gen_random_uuid)\s*\(?/i, 'not deterministic'],
  [/\bnulls\s+(first|last)\b/i, 'NULLS FIRST/LAST defaults differ: keep NULLs out of ORDER BY columns'],
];

/** The SQL without comments and string literals (so prose in comments and '...' values are not checked). */
const code = (sql: string): string => sql.replace(/--[^\n]*/g, '').replace(/'(?:[^']|'')*'/g, "''");

/** Every way `sql` leaves the shared subset (empty: it stays inside). */
export function dialectProblems(sql: string): string[] {
  const problems: string[] = [];
  const spark = new SparkSQL().validate(sql);
  for (const e of spark.slice(0, 3)) problems.push(`Spark SQL (dt-sql-parser) line ${e.startLine}:${e.startColumn}: ${e.message}`);
  try {
    new nodeSqlParser.Parser().astify(sql, { database: 'bigquery' });
  } catch (e) {
    problems.push(`BigQuery (node-sql-parser): ${(e as Error).message.slice(0, 300)}`);
  }
  // spark-sql's statement splitter has stumbled over quotes and semicolons inside comments (SPARK-30049, SPARK-33100)
  sql.split('\n').forEach((l, i) => {
    const comment = /--(.*)$/.exec(l);
    if (comment && /[;'"`]/.test(comment[1])) problems.push(`line ${i + 1}: a quote or semicolon inside a comment (older spark-sql splits on it)`);
  });
  const body = code(sql);
  for (const [re, why] of DENYLIST) {
    const m = re.exec(body);
    if (m) {
      const line = body.slice(0, m.index).split('\n').length;
      problems.push(`line ${line}: "${m[0]}": ${why}`);
    }
  }
  return problems;
}

describe('the signal SQL stays in the subset DuckDB, Spark SQL and BigQuery share', () => {
  const files = signalFiles();

  test('every numbered file in tools/global/sql/ is a signal file, and inputs/ holds the DuckDB readers', () => {
    const all = readdirSync(SQL_DIR).filter((f) => f.endsWith('.sql'));
    assert.deepEqual(all.sort(), files);
    assert.ok(files.length >= 8, files.join(', '));
    assert.ok(readdirSync(join(SQL_DIR, 'inputs')).some((f) => f === 'validate.sql'));
  });

  for (const file of files) {
    test(file, () => {
      const problems = dialectProblems(readFileSync(join(SQL_DIR, file), 'utf8'));
      assert.deepEqual(problems, [], `${file} leaves the shared subset:\n${problems.join('\n')}`);
    });
  }

  test('the check sees DuckDB-only SQL (each denylisted token, and what a parser refuses)', () => {
    const dialectOnly = [
      'CREATE TABLE t2 AS SELECT a::INTEGER AS b FROM t;',
      'CREATE TABLE t2 AS SELECT a FROM t QUALIFY ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) = 1;',
      'CREATE TABLE t2 AS SELECT a, count(*) AS n FROM t GROUP BY ALL;',
      'CREATE TABLE t2 AS SELECT list(a) AS l FROM t;',
      'CREATE TABLE t2 AS SELECT epoch(a) AS s FROM t;',
      "CREATE TABLE t2 AS SELECT a FROM read_csv('x.csv');",
      'CREATE TABLE t2 AS SELECT CAST(a AS DOUBLE) AS d FROM t;',
      'CREATE TABLE t2 AS SELECT "user" FROM t;',
      'CREATE TABLE t2 AS SELECT arg_max(a, b) AS m FROM t;',
      'CREATE OR REPLACE TABLE t2 AS SELECT a FROM t;',
      "-- the user's items\nCREATE TABLE t2 AS SELECT a FROM t;",
    ];
    for (const sql of dialectOnly) assert.notDeepEqual(dialectProblems(sql), [], sql);
    assert.deepEqual(dialectProblems('CREATE TABLE t2 AS SELECT a, CAST(ROUND(b * 2) AS INTEGER) AS c FROM t;'), []);
  });
});
