/**
 * Server-side rendering probe: imports one entry point of the package in a fresh
 * Node process with no DOM globals, as Next.js, Nuxt, SvelteKit and Astro do when
 * they render a page, and reports which browser globals the import touched (read
 * or written), what it exported, and what calling its main function in Node did.
 * Used by test/ssr.test.ts (the sources, through tsx) and e2e/package-contents.test.ts
 * (the installed tarball, plain Node).
 */
import { execFileSync } from 'node:child_process';

/** The browser globals an import must leave alone. */
export const BROWSER_GLOBALS = [
  'window',
  'document',
  'indexedDB',
  'Worker',
  'customElements',
  'navigator',
  'location',
  'localStorage',
  'MutationObserver',
  'IntersectionObserver',
] as const;

export interface SsrProbe {
  /** The import's error (its stack), if it threw. */
  importError?: string;
  /** Browser globals defined in the process before the import (must be none). */
  definedBefore: string[];
  /** `get <name>` / `set <name>` for each access of a browser global during the import. */
  touched: string[];
  /** Browser globals defined after the import (must be none). */
  definedAfter: string[];
  exports: string[];
  /** What calling the entry's main function in Node did (`createRecommender()`, `defineRecsElement()`, `autoTrack()`). */
  call: { name: string; threw: boolean; errorName?: string; code?: string; message?: string; fix?: string; returned?: string };
}

const SCRIPT = `
const names = JSON.parse(process.env.ODR_SSR_GLOBALS);
const defined = () => names.filter((n) => n in globalThis || globalThis[n] !== undefined);
const definedBefore = defined();
const touched = [];
for (const n of names)
  Object.defineProperty(globalThis, n, {
    configurable: true,
    get() { touched.push('get ' + n); return undefined; },
    set() { touched.push('set ' + n); },
  });
let mod = {};
let importError;
try {
  mod = await import(process.env.ODR_SSR_ENTRY);
} catch (e) {
  importError = String(e?.stack ?? e);
} finally {
  for (const n of names) delete globalThis[n];
}
const definedAfter = defined();
const fake = { track: async () => undefined, recommend: async () => [] };
const calls = {
  createRecommender: () => mod.createRecommender(),
  defineRecsElement: () => mod.defineRecsElement({ recommender: fake }),
  autoTrack: () => mod.autoTrack(fake),
};
const name = Object.keys(calls).find((k) => typeof mod[k] === 'function');
let call = { name, threw: false };
if (name) try {
  const r = calls[name]();
  call.returned = typeof r === 'function' ? (r.name || 'function') : typeof r;
} catch (e) {
  call = { name, threw: true, errorName: e?.constructor?.name, code: e?.code, message: e?.message, fix: e?.fix };
}
process.stdout.write('\\n' + JSON.stringify({ importError, definedBefore, touched, definedAfter, exports: Object.keys(mod).sort(), call }));
`;

/**
 * Imports `entry` (a file URL or a bare specifier resolved from `cwd`) in a child
 * Node process; `tsx` loads TypeScript sources.
 */
export function probeSsrImport(entry: string, options: { cwd: string; tsx?: boolean }): SsrProbe {
  const args = [...(options.tsx ? ['--import', 'tsx'] : []), '--input-type=module', '-e', SCRIPT];
  const out = execFileSync(process.execPath, args, {
    cwd: options.cwd,
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, ODR_SSR_ENTRY: entry, ODR_SSR_GLOBALS: JSON.stringify(BROWSER_GLOBALS) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out.slice(out.lastIndexOf('\n') + 1)) as SsrProbe;
}
