// Per-upstream health: consecutive failures mark an upstream down; probes with back-off bring it back.
import type { Logger } from 'pino';
import type { DnsMetrics } from '../metrics/types.js';
import type { UpstreamAddress } from './exchange.js';

export interface HealthOptions {
  /** Consecutive failed tries after which an upstream is marked down; Infinity: never (only a loop disables one). */
  readonly maxFailures: number;
  /** First wait (ms) before a down upstream is probed; doubles per failed probe. */
  readonly probeIntervalMs: number;
  /** Longest wait (ms) between probes. */
  readonly maxProbeIntervalMs: number;
}

export const UpstreamState = { up: 'up', down: 'down', disabled: 'disabled' } as const;
export type UpstreamState = (typeof UpstreamState)[keyof typeof UpstreamState];

/** What one forward asks: `tries` in order; `probes` are down upstreams whose wait is over, one probe each. */
export interface HealthPlan {
  readonly tries: readonly UpstreamAddress[];
  readonly probes: readonly UpstreamAddress[];
}

export interface UpstreamHealth {
  plan(ordered: readonly UpstreamAddress[]): HealthPlan;
  /** A try got a good reply (NOERROR or NXDOMAIN). */
  succeeded(up: UpstreamAddress, probe: boolean): void;
  /**
   * A try failed. `question` identifies what was asked: an upstream that keeps rejecting (SERVFAIL, REFUSED)
   * the same question is counted once, so one client retrying a broken name cannot take a healthy resolver down.
   */
  failed(up: UpstreamAddress, probe: boolean, kind: 'rejected' | 'no-reply', question: string, reason: string): void;
  /** A planned probe was never sent (the budget ran out first): the next forward may probe instead. */
  unsent(up: UpstreamAddress): void;
  /** Never asked again (it forwards our own queries back to us). */
  disable(up: UpstreamAddress): void;
  state(up: UpstreamAddress): UpstreamState;
}

interface State {
  readonly name: string;
  state: UpstreamState;
  failures: number;
  /** The question of the last counted rejection, so repeats of it are not counted again. */
  lastRejected: string | undefined;
  intervalMs: number;
  nextProbeAt: number;
  downSince: number;
  probing: boolean;
}

export const upstreamName = (up: UpstreamAddress): string => `${up.address}#${up.port}`;

export function createUpstreamHealth(upstreams: readonly UpstreamAddress[], opts: HealthOptions & {
  readonly logger: Logger;
  readonly metrics: DnsMetrics;
  /** Milliseconds, monotonic (default performance.now); tests inject a clock. */
  readonly now?: () => number;
}): UpstreamHealth {
  const now = opts.now ?? (() => performance.now());
  const log = opts.logger;
  if (opts.maxFailures !== Infinity && (!Number.isInteger(opts.maxFailures) || opts.maxFailures < 1)) {
    throw new RangeError(`maxFailures must be a positive integer or Infinity, got ${opts.maxFailures}`);
  }
  for (const [key, v] of Object.entries({ probeIntervalMs: opts.probeIntervalMs, maxProbeIntervalMs: opts.maxProbeIntervalMs })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${key} must be a positive integer, got ${v}`);
  }
  const states = new Map<UpstreamAddress, State>();
  for (const up of upstreams) {
    const name = upstreamName(up);
    states.set(up, { name, state: 'up', failures: 0, lastRejected: undefined, intervalMs: opts.probeIntervalMs, nextProbeAt: 0, downSince: 0, probing: false });
    opts.metrics.upstreamHealth(name, true);
  }

  function stateOf(up: UpstreamAddress): State {
    const s = states.get(up);
    if (!s) throw new Error(`unknown upstream ${upstreamName(up)}`);
    return s;
  }

  function markUp(s: State): void {
    s.failures = 0;
    s.lastRejected = undefined;
    s.intervalMs = opts.probeIntervalMs;
    if (s.state !== 'down') return;
    s.state = 'up';
    log.info({ upstream: s.name, downForMs: Math.round(now() - s.downSince) }, 'upstream is answering again: marked up');
    opts.metrics.upstreamHealth(s.name, true);
  }

  function markDown(s: State, reason: string): void {
    const t = now();
    s.state = 'down';
    s.downSince = t;
    s.intervalMs = opts.probeIntervalMs;
    s.nextProbeAt = t + s.intervalMs;
    log.warn({ upstream: s.name, failures: s.failures, reason, probeInMs: s.intervalMs },
      'upstream failed repeatedly: marked down, skipped until a probe succeeds');
    opts.metrics.upstreamHealth(s.name, false);
  }

  return {
    plan(ordered) {
      const tries: UpstreamAddress[] = [];
      const probes: UpstreamAddress[] = [];
      let t: number | undefined;
      for (const up of ordered) {
        const s = stateOf(up);
        if (s.state === 'up') tries.push(up);
        else if (s.state === 'down' && !s.probing && (t ??= now()) >= s.nextProbeAt) {
          s.probing = true;
          probes.push(up);
        }
      }
      return { tries, probes };
    },

    succeeded(up, probe) {
      const s = stateOf(up);
      if (probe) s.probing = false;
      if (s.state !== 'disabled') markUp(s);
    },

    failed(up, probe, kind, question, reason) {
      const s = stateOf(up);
      if (s.state === 'disabled') return;
      if (s.state === 'down') {
        // Only the probe moves the back-off: tries that were already in flight when it went down say nothing new.
        if (!probe) return;
        s.probing = false;
        s.intervalMs = Math.min(s.intervalMs * 2, opts.maxProbeIntervalMs);
        s.nextProbeAt = now() + s.intervalMs;
        log.debug({ upstream: s.name, reason, probeInMs: s.intervalMs }, 'probe of a down upstream failed');
        return;
      }
      if (kind === 'rejected') {
        if (s.lastRejected === question) return;
        s.lastRejected = question;
      }
      if (++s.failures >= opts.maxFailures) markDown(s, reason);
    },

    unsent(up) {
      stateOf(up).probing = false;
    },

    disable(up) {
      const s = stateOf(up);
      if (s.state === 'disabled') return;
      s.state = 'disabled';
      opts.metrics.upstreamHealth(s.name, false);
    },

    state: (up) => stateOf(up).state,
  };
}
