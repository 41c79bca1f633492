// Restart back-off for proxy daemons, after Consul's agent/proxyprocess keepAlive loop.

export interface BackoffOptions {
  /** The first wait once quick restarts exceed QUICK_RESTARTS. */
  readonly minMs: number;
  readonly maxMs: number;
  /** A process that ran this long resets the count. */
  readonly healthyAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 1_000, maxMs: 60_000, healthyAfterMs: 10_000 };

/** Starts in a row that go without waiting (Consul's daemonRestartBackoffMin). */
export const QUICK_RESTARTS = 3;

export interface BackoffState {
  /** Starts since the count was last reset. */
  readonly attempts: number;
  /** When the last start happened (ms); undefined before the first start. */
  readonly lastStart: number | undefined;
}

export const INITIAL_BACKOFF: BackoffState = { attempts: 0, lastStart: undefined };

/** The wait before the next start, and the state once that start happens (`now` is when it is asked). */
export function nextStart(state: BackoffState, now: number, opts: BackoffOptions): { delayMs: number; state: BackoffState } {
  const healthy = state.lastStart !== undefined && now - state.lastStart >= opts.healthyAfterMs;
  const attempts = (healthy ? 0 : state.attempts) + 1;
  const over = attempts - QUICK_RESTARTS;
  const delayMs = over > 0 ? Math.min(opts.minMs * 2 ** Math.min(over - 1, 30), opts.maxMs) : 0;
  return { delayMs, state: { attempts, lastStart: now + delayMs } };
}
