// Crash-safe file replacement: temp file in the same dir, fsync, rename over the old file, fsync the directory.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DIR_SYNC_UNSUPPORTED, nodeDurableFs, type DurableFs, type DurableHandle } from './durable-fs.js';
import { errnoOf, toPersistFailure } from './persist-error.js';

const TEMP_MARK = '.tmp-';
let tempSeq = 0;

/** The names of leftover temp files for `base` (from writes interrupted by a crash) look like this. */
export function isTempOf(base: string, name: string): boolean {
  return name.startsWith(base + TEMP_MARK);
}

/** Creates `dir` (0700) when missing; the new entries are fsynced so the dir survives a power cut too. */
export function ensureDir(dir: string): void {
  const abs = resolve(dir);
  const first = mkdirSync(abs, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  // Every directory that gained an entry: the parent of the first new one, down to the parent of `abs`.
  const stop = dirname(first);
  for (let p = abs; p !== stop; ) {
    p = dirname(p);
    syncDirSync(p);
  }
}

export interface TempCleanup {
  readonly removed: readonly string[];
  /** Temps that could not be removed (a read-only data dir): harmless, they are never read, only named. */
  readonly kept: readonly { readonly name: string; readonly errno: string }[];
}

/** Removes temp files left by interrupted writes; they were never renamed, so no acknowledged write is in them. */
export function removeLeftoverTemps(dir: string, base: string): TempCleanup {
  const removed: string[] = [];
  const kept: { name: string; errno: string }[] = [];
  for (const name of readdirSync(dir)) {
    if (!isTempOf(base, name)) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno !== 'ENOENT') kept.push({ name, errno: errno ?? String(err) });
    }
  }
  return { removed, kept };
}

/**
 * Replaces `dir/base` with `text` so that after a crash at any point the file holds either the old or the new
 * content, and resolves only once the new content and its directory entry are on disk.
 * Rejects with PersistError (PERSIST_FAILED, errno and operation kept). A failure before the rename leaves the
 * old file untouched and removes the temp file; a failed directory fsync comes after the rename, so the final
 * name then holds the whole new file, but its entry may not be durable yet.
 */
export async function writeFileDurably(dir: string, base: string, text: string, fs: DurableFs = nodeDurableFs): Promise<void> {
  const target = join(dir, base);
  const temp = join(dir, `${base}${TEMP_MARK}${process.pid}-${++tempSeq}`);
  let step = 'creating the temp file';
  let fh: DurableHandle | undefined;
  try {
    fh = await fs.createExclusive(temp);
    step = 'writing';
    await fh.writeFile(text);
    step = 'fsync';
    await fh.sync();
    step = 'closing';
    const closing = fh;
    fh = undefined;
    await closing.close();
    step = 'renaming over the old file';
    await fs.rename(temp, target);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    // A failed fsync means the page cache may have dropped the data: never reuse the temp file, drop it.
    await fs.remove(temp).catch(() => undefined);
    throw toPersistFailure(err, target, step);
  }
  try {
    await fs.syncDir(dir);
  } catch (err) {
    throw toPersistFailure(err, target, 'fsync of the directory');
  }
}

function syncDirSync(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (err) {
    if (!DIR_SYNC_UNSUPPORTED.has(errnoOf(err) ?? '')) throw err;
  } finally {
    closeSync(fd);
  }
}
