// A private mount namespace holding a tiny tmpfs, for real ENOSPC and EROFS faults (needs root and unshare -m).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MountNs {
  /** The tmpfs mount point (inside the namespace; an empty dir outside it). */
  readonly mount: string;
  /** The same path as the test process can reach it: through the holder's root in /proc. */
  readonly outside: (path: string) => string;
  /** Prefix for startBinary: runs the server inside the namespace. */
  readonly prefix: readonly string[];
  /** Runs a command inside the namespace. */
  exec(cmd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Remounts the tmpfs read-only or read-write; retries while a write holds a file open (EBUSY). */
  remount(mode: 'ro' | 'rw'): Promise<void>;
  close(): void;
}

/** Why a real-fault test cannot run here, or undefined when it can. */
export async function mountNsUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  try {
    await run('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c',
      'd=$(mktemp -d) && mount -t tmpfs -o size=64k cdns-probe "$d" && umount "$d" && rmdir "$d"'], { timeout: 10_000 });
    await run('nsenter', ['--version'], { timeout: 10_000 });
    return undefined;
  } catch (err) {
    return `unshare -m with a tmpfs mount, or nsenter, does not work here: ${(err as Error).message}`;
  }
}

/** Starts a holder process in a new mount namespace with a tmpfs of `sizeKiB` mounted on a fresh dir. */
export async function openMountNs(sizeKiB: number): Promise<MountNs> {
  const mount = mkdtempSync(join(tmpdir(), 'cdns-mnt-'));
  // The holder keeps the namespace (and so the tmpfs) alive across server restarts; sleep bounds its life.
  const holder: ChildProcess = spawn('unshare', ['-m', '--propagation', 'private', '--', 'sh', '-c',
    `mount -t tmpfs -o size=${sizeKiB}k,mode=0755 cdns-test "$0" && echo mounted && exec sleep 600`, mount],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  holder.stderr?.on('data', (d: Buffer) => { err += d.toString('utf8'); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the mount namespace did not come up: ${err}`)), 10_000);
    holder.stdout?.on('data', (d: Buffer) => {
      if (d.toString('utf8').includes('mounted')) {
        clearTimeout(timer);
        resolve();
      }
    });
    holder.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the mount namespace holder exited (${code}): ${err}`));
    });
  });
  const pid = String(holder.pid);
  const exec = (cmd: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> =>
    run('nsenter', ['-t', pid, '-m', '--', cmd, ...args], { timeout: 10_000 });
  return {
    mount,
    outside: (path) => `/proc/${pid}/root${path}`,
    prefix: ['nsenter', '-t', pid, '-m', '--'],
    exec,
    async remount(mode) {
      let last: unknown;
      for (let i = 0; i < 50; i++) {
        try {
          await exec('mount', '-o', `remount,${mode}`, mount);
          return;
        } catch (e) {
          last = e;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      throw new Error(`remount,${mode} failed: ${(last as Error).message}`);
    },
    close() {
      holder.kill('SIGKILL');
      rmSync(mount, { recursive: true, force: true });
    },
  };
}
