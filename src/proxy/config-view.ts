// The effective config of a managed proxy, as /v1/agent/connect/proxy/:id serves it and the process receives it.
import { createHash } from 'node:crypto';
import type { ServiceInstance, Snapshot } from '../catalog/types.js';
import type { Config } from '../config/types.js';
import { canonicalIp } from '../net/addr.js';
import type { ProxyConfigView } from './types.js';

/** JSON with object keys sorted at every level, so equal configs hash equally whatever their key order. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => stableStringify(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function isLoopback(address: string): boolean {
  const ip = canonicalIp(address);
  return ip !== undefined && (ip === '::1' || ip.startsWith('127.'));
}

/** Where a proxy listens when its config does not say: loopback when the agent serves loopback only. */
export function defaultBindAddress(config: Config): string {
  const client = config.clientAddresses;
  return client.length > 0 && client.every(isLoopback) ? '127.0.0.1' : '0.0.0.0';
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function sortedKeys(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function findManaged(snapshot: Snapshot, proxyId: string): ServiceInstance | undefined {
  const local = snapshot.localNode.name.toLowerCase();
  for (const v of snapshot.instances()) {
    const s = v.instance;
    if (s.id === proxyId && s.node.toLowerCase() === local && s.managed?.type === 'managed') return s;
  }
  return undefined;
}

/** The command a managed proxy runs: its own, else the defaults for its exec mode; [] when none is configured. */
export function effectiveCommand(instance: ServiceInstance, config: Config): { execMode: 'daemon' | 'script'; command: readonly string[] } {
  const defaults = config.connect.proxyDefaults;
  const execMode = instance.managed?.execMode ?? defaults.execMode ?? 'daemon';
  const own = instance.managed?.command;
  const fallback = execMode === 'daemon' ? defaults.daemonCommand : defaults.scriptCommand;
  const command = [own, fallback, defaults.command].find((c) => c !== undefined && c.length > 0) ?? [];
  return { execMode, command };
}

/** Undefined unless `proxyId` is a managed proxy (connect.proxy) on the local node. */
export function buildProxyConfig(snapshot: Snapshot, proxyId: string, config: Config): ProxyConfigView | undefined {
  const instance = findManaged(snapshot, proxyId);
  if (!instance?.managed) return undefined;
  const targetId = instance.managed.targetServiceId;
  const target = snapshot.instances().find((v) => v.instance.id === targetId
    && v.instance.node.toLowerCase() === instance.node.toLowerCase())?.instance;
  const proxy = instance.proxy;
  const merged: Record<string, unknown> = { ...config.connect.proxyDefaults.config, ...proxy?.config };
  merged['bind_address'] ??= instance.address !== '' ? instance.address : defaultBindAddress(config);
  merged['bind_port'] ??= instance.port;
  const localPort = proxy?.localServicePort ?? (target && target.port > 0 ? target.port : undefined);
  if (merged['local_service_address'] === undefined && localPort !== undefined) {
    merged['local_service_address'] = hostPort(proxy?.localServiceAddress || '127.0.0.1', localPort);
  }
  if (merged['upstreams'] === undefined && proxy && proxy.upstreams.length > 0) merged['upstreams'] = proxy.upstreams;
  const { execMode, command } = effectiveCommand(instance, config);
  const rest = {
    ProxyServiceID: instance.id,
    TargetServiceID: targetId,
    TargetServiceName: target?.service ?? proxy?.destinationServiceName ?? targetId,
    ExecMode: execMode,
    Command: [...command],
    Config: sortedKeys(merged),
  };
  // Consul's ContentHash is a 64-bit hash in hex; any stable digest of the rest serves watchers the same way.
  const ContentHash = createHash('sha256').update(stableStringify(rest)).digest('hex').slice(0, 16);
  return {
    ProxyServiceID: rest.ProxyServiceID,
    TargetServiceID: rest.TargetServiceID,
    TargetServiceName: rest.TargetServiceName,
    ContentHash,
    ExecMode: rest.ExecMode,
    Command: rest.Command,
    Config: rest.Config,
  };
}
