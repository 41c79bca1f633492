// A DNS worker process: listeners, router and forwarder over a mirror of the primary's catalog, fed over IPC.
import cluster from 'node:cluster';
import type { Registry } from '../catalog/registry.js';
import type { Config } from '../config/types.js';
import type { EncodeOptions } from '../dns/codec.js';
import { createDnsServer, type DnsServer, type QueryHandler } from '../dns/server.js';
import { CdnsError } from '../errors.js';
import type { Forwarder } from '../forward/forwarder.js';
import { createLogger, type Logger } from '../log.js';
import type { ResolveContext } from '../resolve/types.js';
import { createQueryHandler } from '../router.js';
import type { Guard } from '../guard/guard.js';
import { createForwarderFor, forwarderKey, nextGuard, toEncodeOptions, toGuard, toResolveContext, toTcpLimits } from '../settings.js';
import { noopMetrics, type DnsMetrics } from '../metrics/types.js';
import { isToWorker, WORKER_ENV, type FromWorker, type ToWorker } from './messages.js';
import { createMetricsRecorder, type MetricsRecorder } from './metrics-relay.js';
import { createMirror } from './mirror.js';

/** True in a process the worker pool forked (not in any cluster worker: the pool marks its own). */
export function isWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_ENV] !== undefined;
}

function send(msg: FromWorker, then?: () => void): void {
  if (!process.connected || !process.send) {
    then?.();
    return;
  }
  process.send(msg, undefined, {}, () => then?.());
}

/** How often counted metrics go to the primary: a scrape sees workers' queries at most this late. */
const METRICS_INTERVAL_MS = 1000;

interface Serving {
  readonly mirror: Registry;
  readonly logger: Logger;
  readonly recorder: MetricsRecorder | undefined;
  config: Config;
  context: ResolveContext;
  encode: EncodeOptions;
  forwarder: Forwarder | undefined;
  guard: Guard;
  /** The primary's registry index this mirror has caught up with. */
  index: number;
  queries: number;
  dns?: DnsServer;
}

function startServing(msg: Extract<ToWorker, { t: 'init' }>, slot: string): Serving {
  const { config } = msg;
  const logger = createLogger({ level: config.logLevel, format: config.logFormat }).child({ worker: Number(slot) || slot });
  const recorder = msg.metrics ? createMetricsRecorder() : undefined;
  return {
    mirror: createMirror(msg.state), logger, recorder, config,
    context: toResolveContext(config), encode: toEncodeOptions(config),
    forwarder: createForwarderFor(config, logger, recorder?.metrics ?? noopMetrics),
    guard: toGuard(config),
    index: msg.index, queries: 0,
  };
}

function countingHandler(s: Serving): QueryHandler {
  const handler = createQueryHandler({
    snapshot: s.mirror.current,
    context: () => s.context,
    encode: () => s.encode,
    forwarder: () => s.forwarder,
    guard: () => s.guard,
    logger: s.logger.child({ component: 'dns' }),
    metrics: s.recorder?.metrics ?? noopMetrics,
  });
  const count = (reply: Buffer | null): Buffer | null => {
    if (reply !== null) s.queries += 1;
    return reply;
  };
  return (raw, proto, client) => {
    const reply = handler(raw, proto, client);
    return reply === null || Buffer.isBuffer(reply) ? count(reply) : reply.then(count);
  };
}

function reconfigure(s: Serving, next: Config): void {
  if (forwarderKey(next) !== forwarderKey(s.config)) {
    const old = s.forwarder;
    s.forwarder = createForwarderFor(next, s.logger, s.recorder?.metrics ?? noopMetrics);
    void old?.close();
  }
  s.guard = nextGuard(s.guard, s.config, next);
  s.config = next;
  s.context = toResolveContext(next);
  s.encode = toEncodeOptions(next);
  s.logger.level = next.logLevel;
}

/**
 * The worker's whole life: says hello, builds its mirror from `init`, listens on the port it is given, and
 * resolves once the primary asked it to stop (or the primary went away) and everything it opened is closed.
 */
export function runWorker(): Promise<void> {
  const slot = process.env[WORKER_ENV] ?? '?';
  return new Promise((resolve) => {
    let s: Serving | undefined;
    let stopping: Promise<void> | undefined;
    let flusher: NodeJS.Timeout | undefined;
    const flush = (): void => {
      const batch = s?.recorder?.take();
      if (batch) send({ t: 'metrics', batch });
    };
    const stop = (): Promise<void> => (stopping ??= (async () => {
      process.off('message', onMessage);
      clearInterval(flusher);
      await s?.dns?.close();
      await s?.forwarder?.close();
      flush();
      s?.logger.info('DNS worker stopped');
      s?.logger.flush();
      resolve();
      // Closing the channel is what lets the process end; the primary then sees a deliberate exit.
      if (process.connected) cluster.worker?.disconnect();
    })());

    const listen = async (serving: Serving, port: number): Promise<void> => {
      try {
        serving.dns = await createDnsServer({
          addresses: [...serving.config.dnsAddresses], port, handler: countingHandler(serving), logger: serving.logger,
          tcp: toTcpLimits(serving.config),
        });
      } catch (err) {
        const code = err instanceof CdnsError ? err.code : 'CDNS_ERR_LISTEN';
        const message = err instanceof Error ? err.message : String(err);
        serving.logger.error({ code }, message);
        send({ t: 'failed', code, message }, () => process.exit(1));
        return;
      }
      if (stopping) {
        await serving.dns.close();
        return;
      }
      serving.logger.info({ dns: serving.dns.endpoints, version: serving.index }, 'DNS worker listening');
      send({ t: 'listening', endpoints: serving.dns.endpoints });
      // Only now can a probe that loops back reach us.
      void serving.forwarder?.loopCheck();
    };

    const onMessage = (m: unknown): void => {
      if (!isToWorker(m)) return;
      switch (m.t) {
        case 'init':
          if (s) return;
          s = startServing(m, slot);
          if (s.recorder) flusher = setInterval(flush, METRICS_INTERVAL_MS).unref();
          void listen(s, m.port);
          return;
        case 'op':
          if (!s) return;
          // Applied synchronously, in channel order, so the next query already sees the change.
          s.mirror.apply(m.op);
          s.index = m.index;
          return;
        case 'config':
          if (s) reconfigure(s, m.config);
          return;
        case 'status':
          send({ t: 'status', id: m.id, pid: process.pid, version: s?.index ?? 0, queries: s?.queries ?? 0 });
          return;
        case 'stop':
          void stop();
          return;
      }
    };
    process.on('message', onMessage);
    // A terminal's ^C reaches the whole process group; the primary stops its workers in order instead.
    process.on('SIGINT', () => undefined);
    process.on('SIGTERM', () => void stop());
    send({ t: 'hello' });
  });
}
