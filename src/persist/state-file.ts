// The durable state in the data dir: API registrations, TTL states, prepared queries and proxy ports in one file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistryState } from '../catalog/registry.js';
import type { Logger } from '../log.js';
import { ensureDir, removeLeftoverTemps, writeFileDurably } from './atomic-write.js';
import type { DurableFs } from './durable-fs.js';
import { buildEnvelope, parseEnvelope } from './envelope.js';
import { parsePersistedState } from './payload.js';
import { errnoOf, PersistError, toPersistFailure } from './persist-error.js';
import { createWriteEpisodes, DEFAULT_RETRY, type RetryPolicy } from './write-episodes.js';

export const STATE_FILE_NAME = 'connect-dns-state.json';

export interface PersistedState {
  readonly registry: RegistryState;
  /** proxy ID → port: assignments of managed and sidecar proxies, kept stable across restarts. */
  readonly proxyPorts: Readonly<Record<string, number>>;
}

export interface StateFile {
  /** The file this state lives in (for logs and messages). */
  readonly file: string;
  /** The last durably written state, or undefined when there is none. Corrupt or foreign files: throws
   *  PersistError (PERSIST_CORRUPT) naming the file, so the server refuses to start rather than lose data. */
  load(): PersistedState | undefined;
  /** Durably writes `state()`; resolves only after the bytes are on disk. A save requested while one is in
   *  flight waits for ONE more write that includes everything up to its call. Rejects with PersistError
   *  (PERSIST_FAILED, `errno` set when the OS refused); the previous file stays intact. After a failure the
   *  state is written again with back-off until a write succeeds (the first failure of such an episode is
   *  logged at error level, the rest at debug). */
  save(): Promise<void>;
  /** The last failure while writes keep failing; undefined once a write succeeded. */
  failing(): PersistError | undefined;
  /** Stops the retries; later saves still write, but a failure is no longer retried. */
  close(): void;
}

export interface StateFileOptions {
  /** The file operations (default: node:fs); tests inject faults here. */
  readonly fs?: DurableFs;
  readonly retry?: RetryPolicy;
  /** Called for every failed write, retries included (the write-errors metric). */
  readonly onWriteError?: (err: PersistError) => void;
}

/**
 * Opens (creating, mode 0700) the data dir and removes temp files of writes a crash interrupted.
 * Throws PersistError (PERSIST_FAILED with the errno) when the dir cannot be created or read. An existing dir
 * that cannot be written (read-only) opens: loading works, and saves fail with the errno until it is writable.
 */
export function openStateFile(dir: string, state: () => PersistedState, logger: Logger, options: StateFileOptions = {}): StateFile {
  const file = join(dir, STATE_FILE_NAME);
  try {
    ensureDir(dir);
    const { removed, kept } = removeLeftoverTemps(dir, STATE_FILE_NAME);
    if (removed.length > 0) logger.warn({ dir, removed }, 'removed temp files of an interrupted state write');
    if (kept.length > 0) logger.warn({ dir, kept }, 'could not remove temp files of an interrupted state write (they are never read)');
  } catch (err) {
    throw toPersistFailure(err, dir, 'opening the data dir');
  }

  let tail: Promise<void> = Promise.resolve();
  // The save not started yet; every caller until it starts shares it, since its state() read sees their changes.
  let queued: Promise<void> | undefined;
  const episodes = createWriteEpisodes({
    file, logger, policy: options.retry ?? DEFAULT_RETRY, retry: () => void save().catch(() => undefined),
  });

  async function writeOnce(): Promise<void> {
    let text: string;
    try {
      text = buildEnvelope(state(), new Date());
      await writeFileDurably(dir, STATE_FILE_NAME, text, options.fs);
    } catch (err) {
      const failure = toPersistFailure(err, file, 'serializing the state');
      options.onWriteError?.(failure);
      episodes.failed(failure);
      throw failure;
    }
    episodes.succeeded();
    logger.debug({ file, bytes: Buffer.byteLength(text) }, 'state saved');
  }

  function save(): Promise<void> {
    if (queued) return queued;
    const next = tail
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return writeOnce();
      });
    queued = next;
    tail = next;
    return next;
  }

  return {
    file,
    load() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') return undefined;
        throw toPersistFailure(err, file, 'reading the state');
      }
      const envelope = parseEnvelope(text, file);
      const loaded = parsePersistedState(envelope.payload, file);
      const r = loaded.registry;
      logger.info(
        {
          file, written: envelope.written, services: r.services.length, checks: r.checks.length,
          preparedQueries: r.preparedQueries.length, proxyPorts: Object.keys(loaded.proxyPorts).length,
        },
        'state loaded',
      );
      return loaded;
    },
    save,
    failing: episodes.failing,
    close: episodes.close,
  };
}

export { PersistError };
