// Bounded polling for "within N ms" assertions: one loop, with a plain-result, a throwing and an asserting face.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Polled<T> {
  readonly ok: boolean;
  readonly last: T | undefined;
  readonly elapsedMs: number;
}

/**
 * Probes until `ok` holds or `withinMs` has passed (measured from `since`, default now). The probe runs at least
 * once; the loop is bounded by the deadline and by `maxTries`.
 */
export async function pollUntil<T>(probe: () => Promise<T>, ok: (v: T) => boolean, withinMs: number,
  opts: { since?: number; everyMs?: number; maxTries?: number } = {}): Promise<Polled<T>> {
  const since = opts.since ?? Date.now();
  const deadline = since + withinMs;
  const maxTries = opts.maxTries ?? 1000;
  let last: T | undefined;
  for (let i = 0; i < maxTries; i++) {
    last = await probe();
    if (ok(last)) return { ok: true, last, elapsedMs: Date.now() - since };
    if (Date.now() >= deadline) break;
    await sleep(Math.min(opts.everyMs ?? 50, Math.max(0, deadline - Date.now())));
  }
  return { ok: false, last, elapsedMs: Date.now() - since };
}

/** Resolves once `test()` holds (checked every 10 ms); throws "timed out waiting for <what>" after `withinMs`. */
export async function waitUntil(what: string, test: () => boolean, withinMs: number): Promise<void> {
  const r = await pollUntil(async () => test(), (v) => v, withinMs, { everyMs: 10, maxTries: 10_000 });
  if (!r.ok) throw new Error(`timed out waiting for ${what}`);
}

/**
 * Polls `probe` until `ok` holds, for at most `withinMs` counted from `since` (default: now). Fails with the
 * last value seen, so a miss says what the server answered instead.
 */
export async function eventually<T>(what: string, withinMs: number, probe: () => Promise<T>, ok: (v: T) => boolean,
  since = Date.now()): Promise<T> {
  const r = await pollUntil(probe, ok, withinMs, { since, everyMs: 50, maxTries: 10_000 });
  if (!r.ok) assert.fail(`${what}: not within ${withinMs} ms; last seen ${JSON.stringify(r.last)}`);
  return r.last as T;
}
