// The shape shared by the UDP and TCP exchanges: one query out, the first acceptable reply back.

export interface UpstreamAddress {
  /** IPv4 or IPv6 literal. */
  readonly address: string;
  readonly port: number;
}

/** Returns the decoded reply to accept it, or undefined to ignore it and keep waiting. */
export type AcceptReply<T> = (reply: Buffer) => T | undefined;

export type ExchangeResult<T> =
  | { readonly ok: true; readonly value: T }
  /** timeout: no acceptable reply in time; error: socket/connection failure; closed: the forwarder closed. */
  | { readonly ok: false; readonly reason: 'timeout' | 'error' | 'closed'; readonly error?: Error };

export interface ExchangeOptions<T> {
  readonly upstream: UpstreamAddress;
  readonly message: Buffer;
  readonly accept: AcceptReply<T>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/**
 * Runs `start` with a settle-once `finish`; the timer, abort listener and whatever `start` returns as
 * cleanup are all released before the promise settles, so nothing outlives it.
 */
export function settleOnce<T>(
  opts: ExchangeOptions<T>,
  start: (finish: (r: ExchangeResult<T>) => void) => () => void,
): Promise<ExchangeResult<T>> {
  return new Promise((resolve) => {
    if (opts.signal.aborted || opts.timeoutMs <= 0) {
      resolve({ ok: false, reason: opts.signal.aborted ? 'closed' : 'timeout' });
      return;
    }
    let done = false;
    let cleanup: (() => void) | undefined;
    const onAbort = (): void => finish({ ok: false, reason: 'closed' });
    const timer = setTimeout(() => finish({ ok: false, reason: 'timeout' }), opts.timeoutMs);
    function finish(r: ExchangeResult<T>): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      cleanup?.();
      resolve(r);
    }
    opts.signal.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = start(finish);
    } catch (error) {
      finish({ ok: false, reason: 'error', error: error instanceof Error ? error : new Error(String(error)) });
    }
    if (done) cleanup?.();
  });
}
