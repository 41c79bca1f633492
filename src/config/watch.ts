// Watches the config dirs and files for reload: directory watches, a debounce, a content hash, a slow rescan.
import { createHash } from 'node:crypto';
import { watch, readdirSync, readFileSync, statSync, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { formatOf } from './parse-file.js';

export interface ConfigWatcher {
  close(): void;
}

export interface WatchOptions {
  /** Quiet time after the last event before the files are read (editors write in several steps). */
  readonly debounceMs?: number;
  /** The safety net for events fs.watch misses (network filesystems, a dir created after start). */
  readonly rescanMs?: number;
  readonly logger?: Pick<Logger, 'warn'>;
}

export interface WatchSources {
  readonly files: readonly string[];
  readonly dirs: readonly string[];
}

/** What is watched in one directory: every config file in it (a config dir), and/or some names (--config-file). */
interface DirWatch {
  all: boolean;
  readonly names: Set<string>;
  watcher?: FSWatcher;
  /** The inode the watch is on, to notice a dir replaced under the same name. */
  ino?: number;
}

type Entry = readonly (string | Buffer)[];

function hashEntries(entries: readonly Entry[]): string {
  const h = createHash('sha256');
  for (const parts of entries) {
    h.update(String(parts.length));
    // Length-prefixed, so two different listings never hash the same.
    for (const p of parts) h.update(`${p.length}:`).update(p);
  }
  return h.digest('hex');
}

function configNames(names: readonly string[]): string[] {
  return names.filter((n) => formatOf(n) !== undefined).sort();
}

function safe<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

async function safeAsync<T>(f: () => Promise<T>): Promise<T | undefined> {
  return f().catch(() => undefined);
}

/*
 * What a reload would read: each --config-file's content, then each dir's sorted *.json/*.hcl files (name
 * and content; sub-directories skipped, as the loader does). A missing file or dir is an entry of its own,
 * so its disappearance and its return both count. The sync form takes the baseline before watchConfig
 * returns; the async form keeps later scans off the event loop. Keep the two alike.
 */
function listingSync(s: WatchSources): Entry[] {
  const out: Entry[] = [];
  for (const file of s.files) {
    const b = safe(() => readFileSync(file));
    out.push(b ? ['file', file, b] : ['missing-file', file]);
  }
  for (const dir of s.dirs) {
    const names = safe(() => readdirSync(dir));
    if (!names) { out.push(['missing-dir', dir]); continue; }
    out.push(['dir', dir]);
    for (const name of configNames(names)) {
      const file = path.join(dir, name);
      const b = safe(() => (statSync(file).isFile() ? readFileSync(file) : null));
      // undefined: gone between listing and read; the next event or rescan sees the settled state.
      if (b !== null) out.push(b ? ['in-dir', name, b] : ['vanished', name]);
    }
  }
  return out;
}

async function listingAsync(s: WatchSources): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const file of s.files) {
    const b = await safeAsync(() => readFile(file));
    out.push(b ? ['file', file, b] : ['missing-file', file]);
  }
  for (const dir of s.dirs) {
    const names = await safeAsync(() => readdir(dir));
    if (!names) { out.push(['missing-dir', dir]); continue; }
    out.push(['dir', dir]);
    for (const name of configNames(names)) {
      const file = path.join(dir, name);
      const b = await safeAsync(async () => ((await stat(file)).isFile() ? readFile(file) : null));
      if (b !== null) out.push(b ? ['in-dir', name, b] : ['vanished', name]);
    }
  }
  return out;
}

export function watchConfig(sources: WatchSources, onChange: () => void, opts: WatchOptions = {}): ConfigWatcher {
  const debounceMs = opts.debounceMs ?? 200;
  const rescanMs = opts.rescanMs ?? 5000;
  const log = opts.logger;
  const dirs = new Map<string, DirWatch>();
  for (const dir of sources.dirs) dirs.set(path.resolve(dir), { all: true, names: new Set() });
  for (const file of sources.files) {
    // The parent dir, never the file: an atomic replace (write a temp file, rename) leaves a file watch on the old inode.
    const dir = path.dirname(path.resolve(file));
    const entry = dirs.get(dir) ?? { all: false, names: new Set<string>() };
    entry.names.add(path.basename(file));
    dirs.set(dir, entry);
  }

  let last = hashEntries(listingSync(sources));
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let scanning = false;
  let again = false;

  const scan = async (): Promise<void> => {
    if (scanning) {
      again = true;
      return;
    }
    scanning = true;
    try {
      do {
        again = false;
        const now = hashEntries(await listingAsync(sources));
        if (closed) return;
        if (now !== last) {
          last = now;
          try {
            onChange();
          } catch (err) {
            log?.warn({ err }, 'config reload handler failed');
          }
        }
      } while (again && !closed);
    } finally {
      scanning = false;
    }
  };

  const schedule = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void scan();
    }, debounceMs);
  };

  const attach = (dir: string, entry: DirWatch): void => {
    if (entry.watcher || closed) return;
    try {
      const w = watch(dir, (_event, name) => {
        // No name (some platforms): anything may have changed.
        const n = name?.toString();
        if (n === undefined || (entry.all && formatOf(n) !== undefined) || entry.names.has(n)) schedule();
      });
      w.on('error', (err) => {
        log?.warn({ err, dir }, 'config watch failed; retrying at the next rescan');
        w.close();
        if (entry.watcher === w) delete entry.watcher;
        schedule();
      });
      entry.watcher = w;
      const ino = safe(() => statSync(dir).ino);
      if (ino !== undefined) entry.ino = ino;
    } catch (err) {
      log?.warn({ err, dir }, 'cannot watch config dir; retrying at the next rescan');
    }
  };

  for (const [dir, entry] of dirs) attach(dir, entry);

  const rescan = setInterval(() => {
    for (const [dir, entry] of dirs) {
      // A watch on a removed dir stays open but deaf, also once a new dir of that name exists: start over.
      const ino = safe(() => statSync(dir).ino);
      if (entry.watcher && ino !== entry.ino) {
        entry.watcher.close();
        delete entry.watcher;
      }
      if (ino !== undefined) attach(dir, entry);
    }
    void scan();
  }, rescanMs);
  // The rescan alone must not keep a stopping process alive.
  rescan.unref();

  return {
    close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      clearInterval(rescan);
      for (const entry of dirs.values()) {
        entry.watcher?.close();
        delete entry.watcher;
      }
    },
  };
}
