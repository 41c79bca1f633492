// The primary's side of --workers N: forks DNS workers that share the ports, keeps their catalogs in step, restarts them.
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { Registry } from '../catalog/registry.js';
import type { Config } from '../config/types.js';
import type { DnsEndpoint } from '../dns/server.js';
import { CdnsError, ErrorCode } from '../errors.js';
import { noopMetrics, type DnsMetrics } from '../metrics/types.js';
import { INITIAL_BACKOFF, nextStart, type BackoffOptions, type BackoffState } from '../proxy/backoff.js';
import { isFromWorker, WORKER_ENV, type FromWorker, type ToWorker } from './messages.js';
import { replayMetrics } from './metrics-relay.js';
import { exportMirrorState } from './mirror.js';

export interface WorkerStatus {
  /** 1..count, kept by a replacement. */
  readonly slot: number;
  readonly pid: number;
  /** The primary registry index the worker's catalog has caught up with. */
  readonly version: number;
  /** Queries this process answered since it started. */
  readonly queries: number;
}

export interface WorkerPool {
  /** Where every worker listens: one UDP and one TCP endpoint per address, the same for all workers. */
  readonly endpoints: readonly DnsEndpoint[];
  /** The workers that listen now and answered within a second, by slot. */
  status(): Promise<WorkerStatus[]>;
  /** A reloaded config: workers rebuild resolve context, encode options and (when it changed) the forwarder. */
  reconfigure(config: Config): void;
  close(): Promise<void>;
}

export interface WorkerPoolOptions {
  readonly count: number;
  readonly config: Config;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly metrics?: DnsMetrics;
  /** The script a worker runs and its Node flags; default bin/connect-dns (the compiled CLI) with this process's flags. */
  readonly exec?: { readonly file: string; readonly execArgv?: readonly string[] };
  /** How long start-up may take before it fails (default 30 s). */
  readonly startTimeoutMs?: number;
  readonly backoff?: BackoffOptions;
}

const DEFAULT_EXEC = fileURLToPath(new URL('../../bin/connect-dns', import.meta.url));
const RESTART_BACKOFF: BackoffOptions = { minMs: 250, maxMs: 30_000, healthyAfterMs: 10_000 };
const STATUS_TIMEOUT_MS = 1000;
const STOP_TIMEOUT_MS = 5000;

interface Slot {
  readonly n: number;
  worker?: Worker;
  /** Sent `init`: from then on it gets every op. */
  synced: boolean;
  listening: boolean;
  /** The port number this worker was told to bind (see portFor). */
  port: number;
  backoff: BackoffState;
  timer?: NodeJS.Timeout;
}

/**
 * Forks `count` workers and resolves once every one listens; rejects with the first worker's failure
 * (CDNS_ERR_LISTEN for a port in use), after stopping the others.
 */
export async function startWorkers(opts: WorkerPoolOptions): Promise<WorkerPool> {
  const { registry, logger } = opts;
  const backoff = opts.backoff ?? RESTART_BACKOFF;
  const metrics = opts.metrics ?? noopMetrics;
  let config = opts.config;
  let endpoints: readonly DnsEndpoint[] = [];
  let closing = false;
  const slots: Slot[] = Array.from({ length: opts.count }, (_, i) => ({
    n: i + 1, synced: false, listening: false, port: config.dnsPort, backoff: INITIAL_BACKOFF,
  }));
  let started!: { resolve: () => void; reject: (err: Error) => void; done: boolean };
  const ready = new Promise<void>((resolve, reject) => { started = { resolve, reject, done: false }; });

  const post = (w: Worker, msg: ToWorker): void => {
    if (w.isConnected()) w.send(msg, undefined, (err: Error | null) => {
      if (err) logger.debug({ err, pid: w.process.pid }, 'message to worker not delivered');
    });
  };

  /**
   * Cluster shares one handle per (address, port argument): with port 0, every worker alive asks for 0 and gets
   * the one port the first bound. Once none is left holding it, the handle is gone, so a replacement asks for
   * the port learned from the first, keeping the endpoints the same for clients.
   */
  const portFor = (self: Slot): number => {
    const holder = slots.find((s) => s !== self && s.worker && s.synced);
    if (holder) return holder.port;
    return endpoints[0]?.port ?? config.dnsPort;
  };

  const fail = (err: Error): void => {
    if (started.done) return;
    started.done = true;
    started.reject(err);
  };

  const onMessage = (slot: Slot, w: Worker, m: FromWorker): void => {
    switch (m.t) {
      case 'hello':
        slot.port = portFor(slot);
        slot.synced = true;
        post(w, {
          t: 'init', config, state: exportMirrorState(registry), index: registry.index, port: slot.port,
          metrics: metrics !== noopMetrics,
        });
        return;
      case 'listening': {
        const ports = (e: readonly DnsEndpoint[]): string => JSON.stringify(e.map((x) => [x.proto, x.address, x.port]));
        if (endpoints.length === 0) endpoints = m.endpoints;
        else if (ports(endpoints) !== ports(m.endpoints)) {
          // Only when the last holder died between our choice and its bind: retry, on the learned port.
          logger.error({ worker: slot.n, got: m.endpoints, want: endpoints }, 'worker bound other ports than the pool; replacing it');
          w.kill('SIGKILL');
          return;
        }
        slot.listening = true;
        if (!started.done && slots.every((s) => s.listening)) {
          started.done = true;
          started.resolve();
        }
        return;
      }
      case 'failed':
        logger.error({ worker: slot.n, code: m.code }, `DNS worker failed: ${m.message}`);
        fail(new CdnsError(toErrorCode(m.code), m.message));
        return;
      case 'metrics':
        replayMetrics(m.batch, metrics);
        return;
      case 'status':
        return; // answered through the status() listener
    }
  };

  const fork = (slot: Slot): void => {
    slot.timer = undefined;
    if (closing) return;
    cluster.setupPrimary({
      exec: opts.exec?.file ?? DEFAULT_EXEC,
      args: [],
      execArgv: [...(opts.exec?.execArgv ?? process.execArgv)],
      // Structured clone: the catalog and config cross as they are, without a JSON detour.
      serialization: 'advanced',
    });
    const w = cluster.fork({ [WORKER_ENV]: String(slot.n) });
    slot.worker = w;
    slot.synced = false;
    slot.listening = false;
    w.on('message', (m: unknown) => {
      if (isFromWorker(m)) onMessage(slot, w, m);
    });
    w.on('error', (err) => logger.warn({ err, worker: slot.n }, 'worker channel error'));
    w.once('exit', (code, signal) => {
      if (slot.worker === w) {
        slot.worker = undefined;
        slot.synced = false;
        slot.listening = false;
      }
      if (closing) return;
      if (!started.done) {
        fail(new CdnsError(ErrorCode.LISTEN, `DNS worker ${slot.n} exited before it listened (code ${code}, signal ${signal})`));
        return;
      }
      const { delayMs, state } = nextStart(slot.backoff, Date.now(), backoff);
      slot.backoff = state;
      logger.warn({ worker: slot.n, pid: w.process.pid, code, signal, restartInMs: delayMs }, 'DNS worker exited; restarting it');
      slot.timer = setTimeout(() => fork(slot), delayMs);
    });
  };

  const unsubscribe = registry.subscribeOps((op) => {
    const index = registry.index;
    for (const s of slots) if (s.worker && s.synced) post(s.worker, { t: 'op', op, index });
  });

  let nextStatusId = 1;
  const status = async (): Promise<WorkerStatus[]> => {
    const asked = slots.filter((s) => s.worker && s.listening);
    const replies = await Promise.all(asked.map((s) => new Promise<WorkerStatus | undefined>((resolve) => {
      const w = s.worker as Worker;
      const id = nextStatusId++;
      const onReply = (m: unknown): void => {
        if (!isFromWorker(m) || m.t !== 'status' || m.id !== id) return;
        done({ slot: s.n, pid: m.pid, version: m.version, queries: m.queries });
      };
      const done = (v: WorkerStatus | undefined): void => {
        clearTimeout(timer);
        w.off('message', onReply);
        w.off('exit', onExit);
        resolve(v);
      };
      const onExit = (): void => done(undefined);
      const timer = setTimeout(() => done(undefined), STATUS_TIMEOUT_MS);
      w.on('message', onReply);
      w.once('exit', onExit);
      post(w, { t: 'status', id });
    })));
    return replies.filter((r): r is WorkerStatus => r !== undefined);
  };

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= (async () => {
    closing = true;
    unsubscribe();
    for (const s of slots) clearTimeout(s.timer);
    await Promise.all(slots.map((s) => stopWorker(s, (w) => post(w, { t: 'stop' }))));
  })());

  for (const s of slots) {
    s.backoff = nextStart(INITIAL_BACKOFF, Date.now(), backoff).state;
    fork(s);
  }
  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  const timer = setTimeout(() => fail(new CdnsError(ErrorCode.LISTEN, `DNS workers did not listen within ${timeoutMs} ms`)), timeoutMs);
  try {
    await ready;
  } catch (err) {
    await close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  logger.info({ workers: opts.count, dns: endpoints.map((e) => `${e.proto}://${e.address}:${e.port}`) }, 'DNS workers listening');
  return {
    get endpoints() {
      return endpoints;
    },
    status,
    reconfigure(next) {
      config = next;
      for (const s of slots) if (s.worker && s.synced) post(s.worker, { t: 'config', config: next });
    },
    close,
  };
}

function toErrorCode(code: string): ErrorCode {
  return (Object.values(ErrorCode) as string[]).includes(code) ? code as ErrorCode : ErrorCode.LISTEN;
}

/** Asks a worker to stop, and kills it if it has not exited in time. */
function stopWorker(slot: Slot, ask: (w: Worker) => void): Promise<void> {
  const w = slot.worker;
  if (!w || w.process.exitCode !== null || w.process.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => w.kill('SIGKILL'), STOP_TIMEOUT_MS);
    w.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    // One that has not said hello yet listens for nothing and has opened nothing: it is simply ended.
    if (slot.synced && w.isConnected()) ask(w);
    else w.kill('SIGKILL');
  });
}
