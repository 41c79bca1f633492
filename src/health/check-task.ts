// The life of one running check: its TTL or interval timer, the run in flight, and the critical-service reaper.
import type { Check, HealthStatus } from '../catalog/types.js';
import { runHttpProbe } from './probe-http.js';
import type { ProbeResult } from './probe-result.js';
import { runScriptProbe } from './probe-script.js';
import { runTcpProbe } from './probe-tcp.js';

export const CHECK_DEFAULTS = {
  intervalMs: 10_000,
  httpTimeoutMs: 10_000,
  tcpTimeoutMs: 10_000,
  scriptTimeoutMs: 30_000,
  /** Consul staggers first runs over the interval; we cap the stagger so a new check reports quickly. */
  maxFirstDelayMs: 1_000,
} as const;

export interface TaskHooks {
  /** Applies a status the check reached (registry update and transition log). */
  update(check: Check, status: HealthStatus, output: string): void;
  /** The service has been critical for longer than deregister_critical_service_after. */
  reap(check: Check): void;
  enableScriptChecks(): boolean;
  /** A script check's tick was skipped because script checks are off. */
  scriptSkipped(check: Check): void;
  random(): number;
}

export interface CheckTask {
  readonly check: Check;
  /** The status the catalog holds now (whoever set it): drives the reaper. */
  observe(status: HealthStatus): void;
  /** TTL checks only: a pass/warn/fail/update. */
  ttlUpdate(status: HealthStatus, output: string): void;
  /** Runs an interval check now (or right after the run in flight); false for TTL and static checks. */
  runNow(): boolean;
  /** Clears every timer and aborts the run in flight; resolves when it has settled. */
  stop(): Promise<void>;
}

type Probe = (signal: AbortSignal) => Promise<ProbeResult>;

function probeFor(check: Check): Probe | undefined {
  const d = check.definition;
  const timeout = (fallback: number): number => (d.timeout !== undefined && d.timeout > 0 ? d.timeout : fallback);
  switch (check.type) {
    case 'http': {
      const url = d.http ?? '';
      const opts = {
        url, timeoutMs: timeout(CHECK_DEFAULTS.httpTimeoutMs),
        ...(d.method !== undefined ? { method: d.method } : {}),
        ...(d.header !== undefined ? { header: d.header } : {}),
        ...(d.tlsSkipVerify !== undefined ? { tlsSkipVerify: d.tlsSkipVerify } : {}),
      };
      return (signal) => runHttpProbe(opts, signal);
    }
    case 'tcp': {
      const ms = timeout(CHECK_DEFAULTS.tcpTimeoutMs);
      return (signal) => runTcpProbe(d.tcp ?? '', ms, signal);
    }
    case 'script': {
      const ms = timeout(CHECK_DEFAULTS.scriptTimeoutMs);
      return (signal) => runScriptProbe(d.args ?? [], ms, signal);
    }
    default:
      return undefined;
  }
}

/** Consul's TTL expiry output: the last output is kept so the reason the service gave is not lost. */
export function ttlExpiredOutput(lastOutput: string): string {
  return lastOutput === '' ? 'TTL expired' : `TTL expired (last output before timeout follows): ${lastOutput}`;
}

export function createCheckTask(check: Check, hooks: TaskHooks): CheckTask {
  const d = check.definition;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let reapTimer: NodeJS.Timeout | undefined;
  let inflight: { abort: AbortController; done: Promise<void> } | undefined;
  let again = false;
  let lastOutput = check.output;
  const probe = probeFor(check);
  const interval = d.interval !== undefined && d.interval > 0 ? d.interval : CHECK_DEFAULTS.intervalMs;

  function apply(status: HealthStatus, output: string): void {
    if (stopped) return;
    hooks.update(check, status, output);
    observe(status);
  }

  function observe(status: HealthStatus): void {
    const after = d.deregisterCriticalServiceAfter;
    if (stopped || check.serviceId === '' || after === undefined || after <= 0) return;
    if (status !== 'critical') {
      clearTimeout(reapTimer);
      reapTimer = undefined;
    } else if (reapTimer === undefined) {
      reapTimer = setTimeout(() => {
        reapTimer = undefined;
        if (!stopped) hooks.reap(check);
      }, after);
    }
  }

  function armTtl(): void {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      apply('critical', ttlExpiredOutput(lastOutput));
    }, d.ttl ?? 0);
  }

  function run(): void {
    if (stopped || !probe) return;
    if (inflight) {
      again = true;
      return;
    }
    if (check.type === 'script' && !hooks.enableScriptChecks()) {
      hooks.scriptSkipped(check);
      return;
    }
    const abort = new AbortController();
    const done = probe(abort.signal).then((r) => {
      inflight = undefined;
      apply(r.status, r.output);
      if (again && !stopped) {
        again = false;
        run();
      }
    });
    inflight = { abort, done };
  }

  function tick(): void {
    timer = setTimeout(tick, interval);
    // A run still in flight covers this tick: runs of one check never pile up.
    if (!inflight) run();
  }

  if (check.type === 'ttl') armTtl();
  else if (probe) timer = setTimeout(tick, Math.floor(hooks.random() * Math.min(interval, CHECK_DEFAULTS.maxFirstDelayMs)));
  observe(check.status);

  return {
    check,
    observe,
    ttlUpdate(status, output) {
      if (stopped || check.type !== 'ttl') return;
      lastOutput = output;
      apply(status, output);
      armTtl();
    },
    runNow() {
      if (!probe || stopped) return false;
      run();
      return true;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(reapTimer);
      timer = undefined;
      reapTimer = undefined;
      const current = inflight;
      if (current) {
        current.abort.abort();
        await current.done;
      }
    },
  };
}
