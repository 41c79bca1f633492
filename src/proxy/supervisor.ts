// The managed-proxy supervisor: follows the registry and keeps one daemon running per managed proxy of this node.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { snapshotLinks } from '../catalog/snapshot.js';
import type { Registry } from '../catalog/registry.js';
import type { ServiceInstance } from '../catalog/types.js';
import type { Config } from '../config/types.js';
import type { HealthRunner } from '../health/types.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { buildProxyConfig } from './config-view.js';
import { buildProxyEnv } from './proxy-env.js';
import { createProxyProcess, type ProxyProcess } from './proxy-process.js';
import type { ProxyConfigView, ProxySupervisor } from './types.js';

export interface ProxySupervisorOptions {
  readonly registry: Registry;
  readonly health: HealthRunner;
  readonly logger: Logger;
  /** Read at every change: connect.proxyDefaults and allowManagedRoot can change on reload. */
  readonly config: () => Config;
  /** For CONSUL_HTTP_ADDR, e.g. "127.0.0.1:8500"; '' when the API is off. */
  readonly httpAddr: () => string;
  readonly isRoot?: () => boolean;
  readonly backoff?: BackoffOptions;
  readonly stopGraceMs?: number;
  /** When, after each start, to run the proxy's listening check; default 200 ms, then 1, 2.5 and 5 s. */
  readonly startedDelaysMs?: readonly number[];
}

/** What to do with one managed proxy, and the identity that restarts it when it changes. */
type Plan =
  | { readonly kind: 'run'; readonly identity: string; readonly view: ProxyConfigView; readonly node: string }
  | { readonly kind: 'script' | 'none' };

interface CachedPlan {
  readonly instance: ServiceInstance;
  readonly target: ServiceInstance | undefined;
  readonly config: Config;
  readonly httpAddr: string;
  readonly plan: Plan;
}

interface Entry {
  readonly identity: string;
  proc: ProxyProcess | undefined;
  cancelled: boolean;
  ready: Promise<void>;
}

export function createProxySupervisor(opts: ProxySupervisorOptions): ProxySupervisor {
  const { registry, logger } = opts;
  const isRoot = opts.isRoot ?? ((): boolean => process.getuid?.() === 0);
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const stopGraceMs = opts.stopGraceMs ?? 5_000;
  // Several early runs: a proxy that needs longer than 200 ms to listen still shows up within seconds.
  const startedDelaysMs = opts.startedDelaysMs ?? [200, 1_000, 2_500, 5_000];
  const entries = new Map<string, Entry>();
  const plans = new Map<string, CachedPlan>();
  const tokens = new Map<string, string>();
  const owners = new Map<string, string>();
  const warned = new Set<string>();
  const stopping = new Set<Promise<void>>();
  let rootWarned = false;
  let closed = false;
  let seenVersion = -1;

  function planFor(instance: ServiceInstance, target: ServiceInstance | undefined, config: Config, httpAddr: string): Plan {
    const cached = plans.get(instance.id);
    if (cached && cached.instance === instance && cached.target === target && cached.config === config && cached.httpAddr === httpAddr) {
      return cached.plan;
    }
    const view = buildProxyConfig(registry.current(), instance.id, config);
    let plan: Plan;
    if (!view) plan = { kind: 'none' };
    else if (view.ExecMode === 'script') plan = { kind: 'script' };
    else if (view.Command.length === 0) plan = { kind: 'none' };
    else plan = { kind: 'run', identity: `${view.ContentHash}|${httpAddr}`, view, node: instance.node };
    plans.set(instance.id, { instance, target, config, httpAddr, plan });
    return plan;
  }

  function tokenOf(id: string): string {
    let token = tokens.get(id);
    if (token === undefined) {
      token = randomBytes(16).toString('hex');
      tokens.set(id, token);
      owners.set(token, id);
    }
    return token;
  }

  function stopEntry(id: string, entry: Entry): Promise<void> {
    entries.delete(id);
    entry.cancelled = true;
    const p = entry.ready.then(() => entry.proc?.stop()).finally(() => stopping.delete(p));
    stopping.add(p);
    return p;
  }

  function startEntry(id: string, plan: Extract<Plan, { kind: 'run' }>, after: Promise<void>, httpAddr: string): void {
    const entry: Entry = { identity: plan.identity, proc: undefined, cancelled: false, ready: Promise.resolve() };
    // A changed proxy starts only once its old process is gone: both would want the same port.
    entry.ready = after.then(() => {
      if (entry.cancelled || closed) return;
      try {
        entry.proc = createProxyProcess({
          id, command: plan.view.Command, env: buildProxyEnv(process.env, plan.view, tokenOf(id), httpAddr),
          logger, backoff, stopGraceMs, startedDelaysMs,
          onStarted: () => opts.health.runNow(plan.node, `service:${id}`),
        });
      } catch (err) {
        logger.error({ proxy: id, err, command: plan.view.Command }, 'could not start proxy');
      }
    });
    entries.set(id, entry);
  }

  function warnOnce(key: string, emit: () => void): void {
    if (warned.has(key)) return;
    warned.add(key);
    emit();
  }

  function sync(): void {
    if (closed) return;
    const snap = registry.current();
    if (snap.version === seenVersion) return;
    seenVersion = snap.version;
    const config = opts.config();
    const httpAddr = opts.httpAddr();
    const local = snap.localNode.name.toLowerCase();
    const localById = new Map<string, ServiceInstance>();
    const managed: ServiceInstance[] = [];
    // Only the local node's instances matter: O(this node), not O(catalog), on every publish.
    for (const instance of snapshotLinks(snap).servicesOnNode(local)) {
      localById.set(instance.id, instance);
      if (instance.managed?.type === 'managed') managed.push(instance);
    }
    const wanted = new Map<string, Extract<Plan, { kind: 'run' }>>();
    const noCommand: string[] = [];
    for (const instance of managed) {
      const target = localById.get(instance.managed?.targetServiceId ?? '');
      const plan = planFor(instance, target, config, httpAddr);
      if (plan.kind === 'run') wanted.set(instance.id, plan);
      else if (plan.kind === 'script') {
        warnOnce(`script\u0000${instance.id}`, () => logger.warn({ proxy: instance.id },
          'managed proxy in script exec mode: connect-dns does not run script-mode proxies'));
      } else if (!warned.has(`none\u0000${instance.id}`)) {
        warned.add(`none\u0000${instance.id}`);
        noCommand.push(instance.id);
      }
    }
    if (noCommand.length > 0) {
      logger.warn({ proxies: noCommand },
        'managed proxies without a command (connect.proxy.command or proxy_defaults.daemon_command): there is no built-in proxy, so they stay critical until something listens on their port');
    }
    const present = new Set(managed.map((m) => m.id));
    for (const id of [...plans.keys()]) if (!present.has(id)) plans.delete(id);
    if (wanted.size > 0 && isRoot() && !config.connect.allowManagedRoot) {
      if (!rootWarned) {
        rootWarned = true;
        logger.warn({ proxies: [...wanted.keys()] }, 'running as root, will not start managed proxies (set connect.proxy.allow_managed_root to allow it)');
      }
      wanted.clear();
    }
    for (const [id, entry] of [...entries]) {
      const plan = wanted.get(id);
      if (!plan) void stopEntry(id, entry);
      else if (plan.identity !== entry.identity) {
        logger.info({ proxy: id }, 'managed proxy config changed; restarting it');
        startEntry(id, plan, stopEntry(id, entry), httpAddr);
      }
    }
    for (const [id, plan] of wanted) if (!entries.has(id)) startEntry(id, plan, Promise.resolve(), httpAddr);
  }

  const unsubscribe = registry.subscribe(sync);
  sync();

  return {
    tokenFor: (proxyId) => tokens.get(proxyId),
    proxyForToken: (token) => owners.get(token),
    running() {
      const out = new Map<string, { pid: number; restarts: number }>();
      for (const [id, e] of entries) {
        const pid = e.proc?.pid;
        if (pid !== undefined) out.set(id, { pid, restarts: e.proc?.restarts ?? 0 });
      }
      return out;
    },
    async close() {
      if (!closed) {
        closed = true;
        unsubscribe();
        for (const [id, entry] of [...entries]) void stopEntry(id, entry);
      }
      while (stopping.size > 0) await Promise.all([...stopping]);
    },
  };
}
