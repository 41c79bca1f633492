// One supervised proxy daemon: start, restart with back-off when it exits, stop with SIGTERM then SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { INITIAL_BACKOFF, nextStart, type BackoffOptions, type BackoffState } from './backoff.js';
import { pipeLines } from './line-log.js';

export interface ProxyProcessOptions {
  readonly id: string;
  readonly command: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly logger: Logger;
  readonly backoff: BackoffOptions;
  readonly stopGraceMs: number;
  /**
   * After each start, onStarted is called at these times (ms since the start, ascending): the process needs a
   * moment to listen, and a slow start must not wait a whole check interval to show up.
   */
  readonly startedDelaysMs: readonly number[];
  readonly onStarted: () => void;
  readonly now?: () => number;
}

export interface ProxyProcess {
  /** The running process's pid; undefined between runs. */
  readonly pid: number | undefined;
  /** Starts after the first. */
  readonly restarts: number;
  /** Stops the daemon for good; resolves once it has exited. */
  stop(): Promise<void>;
}

export function createProxyProcess(opts: ProxyProcessOptions): ProxyProcess {
  const { id, logger } = opts;
  const now = opts.now ?? Date.now;
  let child: ChildProcess | undefined;
  let state: BackoffState = INITIAL_BACKOFF;
  let starts = 0;
  let stopping = false;
  let waitTimer: NodeJS.Timeout | undefined;
  let startedTimer: NodeJS.Timeout | undefined;
  let stopped: Promise<void> | undefined;
  let onExit: (() => void) | undefined;

  function launch(): void {
    if (stopping) return;
    const next = nextStart(state, now(), opts.backoff);
    state = next.state;
    if (next.delayMs <= 0) {
      spawnNow();
      return;
    }
    logger.warn({ proxy: id, waitMs: next.delayMs }, `proxy keeps exiting; waiting ${next.delayMs} ms before restarting it`);
    waitTimer = setTimeout(() => {
      waitTimer = undefined;
      spawnNow();
    }, next.delayMs);
  }

  function notifyStarted(proc: ChildProcess, index: number, elapsed: number): void {
    const at = opts.startedDelaysMs[index];
    if (at === undefined) return;
    startedTimer = setTimeout(() => {
      startedTimer = undefined;
      if (stopping || child !== proc) return;
      opts.onStarted();
      notifyStarted(proc, index + 1, at);
    }, Math.max(0, at - elapsed));
  }

  function spawnNow(): void {
    if (stopping) return;
    const [file, ...args] = opts.command;
    if (file === undefined) return;
    starts += 1;
    const proc = spawn(file, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], shell: false });
    child = proc;
    let done = false;
    const exited = (code: number | null, signal: NodeJS.Signals | null, err?: Error): void => {
      if (done) return;
      done = true;
      child = undefined;
      clearTimeout(startedTimer);
      startedTimer = undefined;
      if (stopping) {
        logger.info({ proxy: id, code, signal }, 'proxy stopped');
        onExit?.();
        return;
      }
      if (err) logger.warn({ proxy: id, err: err.message, command: opts.command }, 'could not start proxy');
      else logger.warn({ proxy: id, code, signal }, `proxy exited (${signal ? `signal ${signal}` : `code ${code}`}); restarting`);
      launch();
    };
    if (proc.stdout) pipeLines(proc.stdout, (line) => logger.debug({ proxy: id, stream: 'stdout' }, line));
    if (proc.stderr) pipeLines(proc.stderr, (line) => logger.debug({ proxy: id, stream: 'stderr' }, line));
    proc.once('error', (err) => {
      // With a pid the process exists and its exit follows; without one it never started.
      if (proc.pid === undefined) exited(null, null, err);
    });
    proc.once('exit', (code, signal) => exited(code, signal));
    if (proc.pid !== undefined) {
      logger.info({ proxy: id, pid: proc.pid, restarts: starts - 1 }, 'proxy started');
      notifyStarted(proc, 0, 0);
    }
  }

  launch();

  return {
    get pid() {
      return child?.pid;
    },
    get restarts() {
      return Math.max(0, starts - 1);
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        stopping = true;
        clearTimeout(waitTimer);
        clearTimeout(startedTimer);
        const proc = child;
        if (!proc) {
          resolve();
          return;
        }
        const kill = setTimeout(() => {
          logger.warn({ proxy: id, pid: proc.pid, graceMs: opts.stopGraceMs }, 'proxy ignored SIGTERM; sending SIGKILL');
          proc.kill('SIGKILL');
        }, opts.stopGraceMs);
        onExit = () => {
          clearTimeout(kill);
          resolve();
        };
        proc.kill('SIGTERM');
      });
      return stopped;
    },
  };
}
