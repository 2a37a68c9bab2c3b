/**
 * Where the time of one call goes: an opt-in recorder of named spans (milliseconds,
 * summed per name) that the bench turns on inside the worker (`__odrDebug.spans`)
 * to break a recommend() call down into scan, candidates, heads, MMR, reasons.
 * Off (the default) a span is one null check around the work.
 */
let sink: Map<string, number> | null = null;
const now = (): number => (globalThis.performance ?? Date).now();

/** Starts recording (clearing what was recorded) or stops it. */
export function recordSpans(on: boolean): void {
  sink = on ? new Map() : null;
}

/** The recorded sums per span name, then cleared. */
export function takeSpans(): Record<string, number> {
  const out = Object.fromEntries(sink ?? []);
  sink?.clear();
  return out;
}

function add(name: string, ms: number): void {
  sink?.set(name, (sink.get(name) ?? 0) + ms);
}

export function span<T>(name: string, work: () => T): T {
  if (!sink) return work();
  const t0 = now();
  try {
    return work();
  } finally {
    add(name, now() - t0);
  }
}

export async function spanAsync<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (!sink) return work();
  const t0 = now();
  try {
    return await work();
  } finally {
    add(name, now() - t0);
  }
}
