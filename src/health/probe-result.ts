// What one run of a check yields, and the output limit every probe shares (Consul's 4 KiB BufSize).
import type { HealthStatus } from '../config/types.js';

export interface ProbeResult {
  readonly status: HealthStatus;
  readonly output: string;
}

/** Consul keeps at most this many bytes of a check's output. */
export const OUTPUT_LIMIT = 4096;

/** Milliseconds as Go prints a duration ("300ms", "10s", "1m30s"), so outputs read like Consul's. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  return rest === 0 ? `${m}m0s` : `${m}m${rest}s`;
}

/** "host:port" or "[v6]:port" into its parts; undefined when it has no valid port. */
export function splitHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]*):(\d+)$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1] === '' ? '127.0.0.1' : m[1], port };
}

/**
 * The frame every network probe shares: `start` begins the work and returns its cleanup; the first of
 * `finish`, the timeout or an abort settles the run once, clears the timer and runs the cleanup.
 */
export function boundedProbe(
  prefix: string,
  timeoutMs: number,
  signal: AbortSignal,
  start: (finish: (r: ProbeResult) => void) => () => void,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let cleanup: (() => void) | undefined;
    const finish = (r: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      cleanup?.();
      resolve(r);
    };
    const onAbort = (): void => finish({ status: 'critical', output: `${prefix}: aborted` });
    const timer = setTimeout(
      () => finish({ status: 'critical', output: `${prefix}: timed out after ${formatDuration(timeoutMs)}` }),
      timeoutMs,
    );
    cleanup = start(finish);
    if (settled) cleanup();
    else if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
