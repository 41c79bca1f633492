// The durable state in the data dir: API registrations, TTL states, prepared queries and proxy ports in one file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegistryState } from '../catalog/registry.js';
import type { Logger } from '../log.js';
import { ensureDir, removeLeftoverTemps, writeFileDurably } from './atomic-write.js';
import { buildEnvelope, parseEnvelope } from './envelope.js';
import { parsePersistedState } from './payload.js';
import { errnoOf, PersistError, toPersistFailure } from './persist-error.js';

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
   *  (PERSIST_FAILED, `errno` set when the OS refused); the previous file stays intact. */
  save(): Promise<void>;
}

/**
 * Opens (creating, mode 0700) the data dir and removes temp files of writes a crash interrupted.
 * Throws PersistError (PERSIST_FAILED with the errno) when the dir cannot be created or read.
 */
export function openStateFile(dir: string, state: () => PersistedState, logger: Logger): StateFile {
  const file = join(dir, STATE_FILE_NAME);
  try {
    ensureDir(dir);
    const removed = removeLeftoverTemps(dir, STATE_FILE_NAME);
    if (removed.length > 0) logger.warn({ dir, removed }, 'removed temp files of an interrupted state write');
  } catch (err) {
    throw toPersistFailure(err, dir, 'opening the data dir');
  }

  let tail: Promise<void> = Promise.resolve();
  // The save not started yet; every caller until it starts shares it, since its state() read sees their changes.
  let queued: Promise<void> | undefined;

  async function writeOnce(): Promise<void> {
    let text: string;
    try {
      text = buildEnvelope(state(), new Date());
    } catch (err) {
      throw toPersistFailure(err, file, 'serializing the state');
    }
    try {
      await writeFileDurably(dir, STATE_FILE_NAME, text);
    } catch (err) {
      const failure = toPersistFailure(err, file, 'writing the state');
      logger.error({ file, errno: failure.errno, err: failure.reason }, 'state write failed; the previous state file is kept');
      throw failure;
    }
    logger.debug({ file, bytes: Buffer.byteLength(text) }, 'state saved');
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
    save() {
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
    },
  };
}

export { PersistError };
