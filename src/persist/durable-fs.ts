// The few file operations a durable write makes, behind one seam so tests can fail each step with a chosen errno.
import { open, rename, rm } from 'node:fs/promises';
import { errnoOf } from './persist-error.js';

export interface DurableHandle {
  writeFile(text: string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export interface DurableFs {
  /** Creates `path` (mode 0600), failing if it exists, and opens it for writing. */
  createExclusive(path: string): Promise<DurableHandle>;
  rename(from: string, to: string): Promise<void>;
  /** Removes `path`; a missing file is not an error. */
  remove(path: string): Promise<void>;
  /** Makes `dir`'s entries durable (fsync of the directory). */
  syncDir(dir: string): Promise<void>;
}

// Some filesystems cannot fsync a directory; there the rename is as durable as it gets.
export const DIR_SYNC_UNSUPPORTED: ReadonlySet<string> = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP']);

export const nodeDurableFs: DurableFs = {
  async createExclusive(path) {
    const fh = await open(path, 'wx', 0o600);
    return {
      writeFile: (text) => fh.writeFile(text, 'utf8'),
      sync: () => fh.sync(),
      close: () => fh.close(),
    };
  },
  rename: (from, to) => rename(from, to),
  remove: (path) => rm(path, { force: true }),
  async syncDir(dir) {
    if (process.platform === 'win32') return;
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } catch (err) {
      if (!DIR_SYNC_UNSUPPORTED.has(errnoOf(err) ?? '')) throw err;
    } finally {
      await dh.close();
    }
  },
};
