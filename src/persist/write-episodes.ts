// A fault episode of state writes (first failure to next success): logged once, retried with back-off until it ends.
import type { Logger } from '../log.js';
import type { PersistError } from './persist-error.js';

export interface RetryPolicy {
  /** Delay before the first retry; it doubles after each retry that fails, up to maxMs. */
  readonly firstMs: number;
  readonly maxMs: number;
}

/** A full disk or read-only remount lasts minutes: retrying a small file every few seconds costs nothing. */
export const DEFAULT_RETRY: RetryPolicy = { firstMs: 500, maxMs: 10_000 };

export interface WriteEpisodes {
  failed(err: PersistError): void;
  succeeded(): void;
  /** The last failure of the episode under way, or undefined while writes succeed. */
  failing(): PersistError | undefined;
  /** Stops retrying (at shutdown). */
  close(): void;
}

export interface EpisodeOptions {
  readonly file: string;
  readonly logger: Logger;
  readonly policy: RetryPolicy;
  /** Writes the current state again; its outcome comes back through failed() or succeeded(). */
  readonly retry: () => void;
}

export function createWriteEpisodes(opts: EpisodeOptions): WriteEpisodes {
  const { file, logger, policy } = opts;
  let episode: { readonly since: number; failures: number; last: PersistError } | undefined;
  let delay = policy.firstMs;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const schedule = (): void => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      opts.retry();
    }, delay);
    // A pending retry must not keep a finished process alive.
    timer.unref();
    delay = Math.min(delay * 2, policy.maxMs);
  };

  return {
    failed(err) {
      if (!episode) {
        episode = { since: Date.now(), failures: 0, last: err };
        delay = policy.firstMs;
        // Once per episode: a full disk fails every write until it is freed, and one line says all of it.
        logger.error(
          { file, operation: err.operation, errno: err.errno, err: err.reason },
          `state write failed (${err.errno ?? err.operation ?? 'error'}); the previous state file is kept, changes stay in memory, retrying with back-off`,
        );
      } else {
        logger.debug({ file, operation: err.operation, errno: err.errno, failures: episode.failures + 1 }, 'state write failed again');
      }
      episode.failures += 1;
      episode.last = err;
      schedule();
    },
    succeeded() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (!episode) return;
      logger.info(
        { file, failures: episode.failures, seconds: Math.round((Date.now() - episode.since) / 100) / 10 },
        'state write succeeded again; the state file holds every change',
      );
      episode = undefined;
    },
    failing: () => episode?.last,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
