// Which upstreams a forward asks, in what order, and how long the whole answer may take.
import { randomInt } from 'node:crypto';

export type Strategy = 'sequential' | 'random';

/** Configured order, or a fresh uniform shuffle per query (Fisher–Yates). */
export function orderUpstreams<T>(upstreams: readonly T[], strategy: Strategy): T[] {
  const order = [...upstreams];
  if (strategy === 'random') {
    for (let i = order.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      const a = order[i] as T;
      order[i] = order[j] as T;
      order[j] = a;
    }
  }
  return order;
}

/** Stub resolvers give up after about 5 s, so SERVFAIL must reach them well before that. */
export const MAX_DEFAULT_BUDGET_MS = 4000;

export function defaultBudgetMs(timeoutMs: number, upstreamCount: number): number {
  return Math.min(MAX_DEFAULT_BUDGET_MS, timeoutMs * upstreamCount * 2);
}

/** At most one warning per key per interval; the rest are counted and reported with the next one. */
export function createWarnLimiter(intervalMs: number, now: () => number = Date.now) {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (key: string): { warn: boolean; suppressed: number } => {
    const t = now();
    const entry = last.get(key);
    if (entry && t - entry.at < intervalMs) {
      entry.suppressed++;
      return { warn: false, suppressed: 0 };
    }
    const suppressed = entry?.suppressed ?? 0;
    last.set(key, { at: t, suppressed: 0 });
    return { warn: true, suppressed };
  };
}
