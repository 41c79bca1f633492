// Composition root: builds the registry, checks, proxies, API, persistence, forwarder and listeners from a Config.
import type { Logger } from 'pino';
import { createApiServer, type ApiServer } from './api/server.js';
import { catalogFromConfig } from './catalog/from-config.js';
import { createRegistry, type Registry } from './catalog/registry.js';
import { snapshotLinks, snapshotSize } from './catalog/snapshot.js';
import type { Snapshot } from './catalog/types.js';
import { loadConfig, type ConfigFlags } from './config/load.js';
import { problemRecords } from './config/problems.js';
import type { Config } from './config/types.js';
import { watchConfig, type ConfigWatcher } from './config/watch.js';
import { createDnsServer, type DnsServer } from './dns/server.js';
import { startWorkers, type WorkerPool } from './cluster/pool.js';
import { CdnsError, ConfigError, ErrorCode } from './errors.js';
import type { Forwarder } from './forward/forwarder.js';
import { createHealthRunner } from './health/runner.js';
import { openStateFile, type PersistedState, type StateFile } from './persist/state-file.js';
import { buildProxyConfig } from './proxy/config-view.js';
import { createProxySupervisor } from './proxy/supervisor.js';
import type { ProxySupervisor } from './proxy/types.js';
import { executePreparedQuery } from './resolve/prepared-query.js';
import { noopMetrics, type DnsMetrics } from './metrics/types.js';
import { createPrometheusMetrics } from './metrics/prometheus.js';
import { createQueryHandler } from './router.js';
import { createForwarderFor, forwarderKey, nextGuard, toEncodeOptions, toGuard, toResolveContext, toTcpLimits } from './settings.js';

export { toEncodeOptions, toResolveContext } from './settings.js';

export interface RunningServer {
  readonly endpoints: DnsServer['endpoints'];
  readonly http: ApiServer['endpoints'];
  readonly registry: Registry;
  /** Re-reads the config sources; a bad config keeps the last good one serving. Resolves true when applied. */
  reload(): Promise<boolean>;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Metrics hooks (default: none). */
  readonly metrics?: DnsMetrics;
  /** Where the config came from, so reload can read it again (and the directories be watched). */
  readonly sources?: { readonly files: readonly string[]; readonly dirs: readonly string[] };
  readonly flags?: ConfigFlags;
  /** Watch config dirs for changes (default true when sources are given). */
  readonly watch?: boolean;
}



/** Ports of the local node's managed and sidecar proxies: persisted so they stay stable. */
function proxyPorts(snapshot: Snapshot): Record<string, number> {
  const out: Record<string, number> = {};
  // Managed and sidecar proxies live on the local node only: O(that node) on every persist.
  for (const i of snapshotLinks(snapshot).servicesOnNode(snapshot.localNode.name)) if (i.managed) out[i.id] = i.port;
  return out;
}


export async function startServer(config: Config, logger: Logger, opts: ServerOptions = {}): Promise<RunningServer> {
  let current = config;
  // Metrics are served on the HTTP API; without it they would cost time and show nowhere.
  const prometheus = opts.metrics === undefined && config.http.port !== -1 ? createPrometheusMetrics() : undefined;
  const metrics: DnsMetrics = opts.metrics ?? prometheus ?? noopMetrics;
  let stateFile: StateFile | undefined;
  let persisted: PersistedState | undefined;
  let registry: Registry | undefined;
  if (config.dataDir) {
    stateFile = openStateFile(config.dataDir, () => ({
      registry: (registry as Registry).exportState(),
      proxyPorts: proxyPorts((registry as Registry).current()),
    }), logger.child({ component: 'persist' }), {
      ...(prometheus ? { onWriteError: (err) => prometheus.stateWriteFailed(err.errno) } : {}),
    });
    persisted = stateFile.load();
  }
  const previousPorts = persisted ? new Map(Object.entries(persisted.proxyPorts)) : undefined;
  const reg = createRegistry(catalogFromConfig(config, previousPorts ? { previousPorts } : {}));
  registry = reg;
  const reportCatalog = (s: Snapshot): void => {
    const size = snapshotSize(s);
    metrics.catalog(size.instances, size.nodes, reg.lastBuildSeconds);
  };
  reportCatalog(reg.current());
  reg.subscribe(reportCatalog);
  if (persisted) reg.restoreState(persisted.registry);
  const persist = stateFile ? () => (stateFile as StateFile).save() : () => Promise.resolve();
  // Records the proxy ports allocated at this start. A data dir that cannot be written (read-only, full) does
  // not stop DNS: the loaded state is served, API writes answer 500 naming the errno, and the write is retried.
  await persist().catch((err: unknown) => {
    if (!(err instanceof CdnsError) || err.code !== ErrorCode.PERSIST_FAILED) throw err;
    logger.error({ dataDir: config.dataDir, err: err.message },
      'the data dir cannot be written: serving the loaded state; API writes fail until a state write succeeds');
  });

  const health = createHealthRunner({ registry: reg, logger: logger.child({ component: 'health' }), enableScriptChecks: () => current.enableScriptChecks });
  let httpAddr = '';
  // Proxies start only once the API listens, so the first process already gets CONSUL_HTTP_ADDR; the API
  // reaches the supervisor through this stand-in until then.
  let supervisor: ProxySupervisor | undefined;
  const proxies: ProxySupervisor = {
    tokenFor: (id) => supervisor?.tokenFor(id),
    proxyForToken: (token) => supervisor?.proxyForToken(token),
    running: () => supervisor?.running() ?? new Map(),
    close: async () => { await supervisor?.close(); },
  };

  let forwarder = createForwarderFor(config, logger, metrics);
  let context = toResolveContext(config);
  let encode = toEncodeOptions(config);
  let guard = toGuard(config);
  const handler = createQueryHandler({
    snapshot: reg.current,
    context: () => context,
    encode: () => encode,
    forwarder: () => forwarder,
    guard: () => guard,
    logger: logger.child({ component: 'dns' }),
    metrics,
  });

  const cleanup: (() => Promise<void>)[] = [() => proxies.close(), () => health.close(), async () => { await forwarder?.close(); }];
  const runCleanup = async (): Promise<void> => {
    for (const c of cleanup.splice(0).reverse()) await c().catch((err: unknown) => logger.error({ err }, 'shutdown step failed'));
  };

  let dnsEndpoints: DnsServer['endpoints'] = [];
  let pool: WorkerPool | undefined;
  let api: ApiServer | undefined;
  try {
    if (config.workers <= 1) {
      const dns = await createDnsServer({
        addresses: [...config.dnsAddresses], port: config.dnsPort, handler, logger, tcp: toTcpLimits(config),
      });
      cleanup.push(() => dns.close());
      dnsEndpoints = dns.endpoints;
      // Only now can a probe that loops back reach us.
      void forwarder?.loopCheck();
    }
    if (config.http.port !== -1) {
      api = await createApiServer({
        registry: reg,
        config: () => current,
        health,
        proxies,
        persist,
        executeQuery: (snap, q, source) => executePreparedQuery(snap, q, source, {
          random: Math.random, serviceTtl: current.dns.serviceTtl, agentNode: snap.localNode.name,
        }),
        proxyConfig: (snap, id) => buildProxyConfig(snap, id, current),
        ...(prometheus ? { metrics: prometheus } : {}),
        logger: logger.child({ component: 'api' }),
      }, { addresses: config.http.addresses, port: config.http.port });
      const a = api;
      cleanup.push(() => a.close());
      const first = api.endpoints[0];
      if (first) httpAddr = formatHostPort(first.address, first.port);
    }
    if (config.workers > 1) {
      // Worker processes answer DNS on shared ports from mirrors of this registry; this process answers none.
      const p = await startWorkers({ count: config.workers, config, registry: reg, logger, metrics });
      pool = p;
      cleanup.push(() => p.close());
      dnsEndpoints = p.endpoints;
    }
    supervisor = createProxySupervisor({
      registry: reg, health, logger: logger.child({ component: 'proxy' }), config: () => current, httpAddr: () => httpAddr,
    });
  } catch (err) {
    await runCleanup();
    throw err;
  }

  const snap = reg.current();
  logger.info(
    {
      dns: dnsEndpoints.map((e) => `${e.proto}://${formatHostPort(e.address, e.port)}`),
      http: (api?.endpoints ?? []).map((e) => `http://${formatHostPort(e.address, e.port)}`),
      domain: config.domain,
      altDomain: config.altDomain,
      datacenter: config.datacenter,
      node: config.nodeName,
      recursors: config.recursors.map((r) => formatHostPort(r.address, r.port)),
      dataDir: config.dataDir,
      services: snapshotSize(snap).instances,
      nodes: snapshotSize(snap).nodes,
    },
    `serving DNS on ${dnsEndpoints.map((e) => `${e.proto} ${formatHostPort(e.address, e.port)}`).join(', ')}` +
      (api ? `, HTTP on ${api.endpoints.map((e) => formatHostPort(e.address, e.port)).join(', ')}` : ''),
  );
  if (!stateFile) logger.info('no data_dir: API registrations and check states live in memory only');

  let reloading: Promise<boolean> | undefined;
  const reload = async (): Promise<boolean> => {
    if (!opts.sources) return false;
    const sources = { files: [...opts.sources.files], dirs: [...opts.sources.dirs] };
    try {
      const { config: next, warnings } = await loadConfig(sources, opts.flags ?? {});
      const input = catalogFromConfig(next, { previousPorts: new Map(Object.entries(proxyPorts(reg.current()))) });
      for (const w of warnings) logger.warn(w);
      const oldForwarder = forwarder;
      if (forwarderKey(next) !== forwarderKey(current)) {
        forwarder = createForwarderFor(next, logger, metrics);
        if (next.workers <= 1) void forwarder?.loopCheck();
        void oldForwarder?.close();
      }
      guard = nextGuard(guard, current, next);
      current = next;
      context = toResolveContext(next);
      encode = toEncodeOptions(next);
      pool?.reconfigure(next);
      reg.replaceConfig(input);
      await persist().catch((err: unknown) => logger.error({ err }, 'could not persist state after reload'));
      logger.info({ files: next.files.length, services: snapshotSize(reg.current()).instances }, 'configuration reloaded');
      return true;
    } catch (err) {
      if (err instanceof CdnsError) {
        // Each problem as data too (file, key, reason), so a log pipeline need not parse the message.
        const problems = err instanceof ConfigError ? { problems: problemRecords(err) } : {};
        logger.error({ code: err.code, ...problems }, `reload failed, still serving the last good configuration: ${err.message}`);
        return false;
      }
      logger.error({ err }, 'reload failed, still serving the last good configuration');
      return false;
    }
  };

  let watcher: ConfigWatcher | undefined;
  if (opts.sources && opts.watch !== false && opts.sources.dirs.length + opts.sources.files.length > 0) {
    watcher = watchConfig({ files: [...opts.sources.files], dirs: [...opts.sources.dirs] }, () => {
      reloading = (reloading ?? Promise.resolve(true)).then(reload, reload);
    });
  }

  let closing: Promise<void> | undefined;
  return {
    endpoints: dnsEndpoints,
    http: api?.endpoints ?? [],
    registry: reg,
    reload: () => {
      reloading = (reloading ?? Promise.resolve(true)).then(reload, reload);
      return reloading;
    },
    close() {
      closing ??= (async () => {
        watcher?.close();
        await runCleanup();
        await persist().catch((err: unknown) => logger.error({ err }, 'could not persist state at stop'));
        stateFile?.close();
        logger.info('stopped');
      })();
      return closing;
    },
  };
}

export function formatHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
