/**
 * The shape of src/ (src/README.md): rooms without import cycles, nothing under
 * src/ importing the tools, tests or demo, one importer of onnxruntime-web and
 * one room touching IndexedDB.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';

const SRC = resolve(import.meta.dirname, '..', 'src');
const files: string[] = [];
(function walk(dir: string): void {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.ts$/.test(f) && !f.endsWith('.d.ts')) files.push(p);
  }
})(SRC);

/** Every import specifier of a file (static, re-exports and dynamic imports). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)].map(
    (m) => m[1] ?? m[2] ?? m[3],
  );
}

/** A file directly in src/ is a room of its own; a folder is one room. */
const roomOf = (file: string): string => {
  const parts = relative(SRC, file).split('/');
  return parts.length === 1 ? parts[0].replace(/\.ts$/, '') : parts.slice(0, -1).join('/');
};

function resolveImport(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return null;
}

describe('architecture of src/', () => {
  test('no import cycle between rooms', () => {
    const edges = new Map<string, Set<string>>();
    for (const f of files) {
      for (const spec of specifiers(f)) {
        if (!spec.startsWith('.')) continue;
        const target = resolveImport(f, spec);
        if (!target || !target.startsWith(SRC)) continue;
        const [a, b] = [roomOf(f), roomOf(target)];
        if (a !== b) edges.set(a, (edges.get(a) ?? new Set()).add(b));
      }
    }
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (n: string): void => {
      state.set(n, 'open');
      stack.push(n);
      for (const m of edges.get(n) ?? []) {
        if (state.get(m) === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m].join(' -> '));
        else if (!state.has(m)) visit(m);
      }
      stack.pop();
      state.set(n, 'done');
    };
    for (const n of edges.keys()) if (!state.has(n)) visit(n);
    assert.deepEqual(cycles, [], 'import cycles between rooms');
  });

  test('nothing under src/ imports tools/, test/, e2e/, support/ or demo/', () => {
    const outside = files.flatMap((f) =>
      specifiers(f)
        .filter((s) => s.startsWith('.'))
        .map((s) => resolve(dirname(f), s))
        .filter((t) => !t.startsWith(SRC))
        .map((t) => `${relative(SRC, f)} -> ${relative(join(SRC, '..'), t)}`),
    );
    assert.deepEqual(outside, []);
  });

  test('onnxruntime-web is imported by src/runtime/onnx.ts only, idb by src/store only', () => {
    const importers = (pkg: RegExp): string[] => files.filter((f) => specifiers(f).some((s) => pkg.test(s))).map((f) => relative(SRC, f));
    assert.deepEqual(importers(/^onnxruntime-web(\/|$)/), ['runtime/onnx.ts']);
    assert.ok(
      importers(/^idb$/).every((f) => f.startsWith('store/')),
      importers(/^idb$/).join(', '),
    );
  });
});
