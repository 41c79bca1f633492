// Builds the CatalogInput a config describes: nodes, services, managed and sidecar proxies, checks.
import { ConfigError, ErrorCode, type ConfigLocation } from '../errors.js';
import { isIp } from '../net/addr.js';
import { stableQueryId, toPreparedQuery } from '../config/prepared-query.js';
import type { CheckDefinition, Config, ServiceDefinition } from '../config/types.js';
import { allocatePort, type PortRange } from './ports.js';
import type { CatalogInput, CatalogNode, Check, CheckType, ProxyInfo, ServiceInstance } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Plain = Record<string, unknown>;

/** One instance to register, its port possibly still to be allocated, with the checks that belong to it. */
interface Planned {
  instance: Mutable<ServiceInstance>;
  /** Set when the port is to be allocated from this range. */
  range?: PortRange;
  checks: readonly CheckDefinition[];
  /** The listening check Consul adds to a proxy, built once the port is known. */
  listening?: (port: number) => Check;
  where: ConfigLocation;
  what: string;
}

const DEFAULT_WEIGHTS = { passing: 1, warning: 1 } as const;

function fail(code: ErrorCode, where: ConfigLocation, suffix: string, reason: string): never {
  const key = suffix === '' ? where.key : where.key ? `${where.key}.${suffix}` : suffix;
  throw new ConfigError(code, { ...where, ...(key !== undefined ? { key } : {}) }, reason);
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** "host", "host:port" or "[v6]:port". */
function splitHostPort(text: string): { host: string; port?: number } {
  const m = /^\[(.+)\](?::(\d+))?$/.exec(text) ?? (isIp(text) ? null : /^([^:]+):(\d+)$/.exec(text));
  if (!m) return { host: text };
  return m[2] === undefined ? { host: m[1] ?? text } : { host: m[1] ?? text, port: Number(m[2]) };
}

function isAnyAddress(a: string): boolean {
  return a === '0.0.0.0' || a === '::' || a === '[::]';
}

function checkType(d: CheckDefinition): CheckType {
  if (d.ttl !== undefined) return 'ttl';
  if (d.http !== undefined) return 'http';
  if (d.tcp !== undefined) return 'tcp';
  if (d.args !== undefined) return 'script';
  return 'static';
}

function toCheck(d: CheckDefinition, node: string, id: string, service?: ServiceInstance): Check {
  const definition: Mutable<Check['definition']> = {};
  if (d.ttl !== undefined) definition.ttl = d.ttl;
  if (d.http !== undefined) definition.http = d.http;
  if (d.tcp !== undefined) definition.tcp = d.tcp;
  if (d.args !== undefined) definition.args = d.args;
  if (d.interval !== undefined) definition.interval = d.interval;
  if (d.timeout !== undefined) definition.timeout = d.timeout;
  if (d.method !== undefined) definition.method = d.method;
  if (d.header !== undefined) definition.header = d.header;
  if (d.tlsSkipVerify !== undefined) definition.tlsSkipVerify = d.tlsSkipVerify;
  if (d.deregisterCriticalServiceAfter !== undefined) definition.deregisterCriticalServiceAfter = d.deregisterCriticalServiceAfter;
  return {
    id,
    name: d.name ?? (service ? `Service '${service.service}' check` : id),
    node,
    serviceId: service?.id ?? '',
    serviceName: service?.service ?? '',
    // Consul starts every check critical unless told otherwise, so nothing is served before it is proven.
    status: d.status ?? 'critical',
    notes: d.notes ?? '',
    output: '',
    type: checkType(d),
    definition,
  };
}

function listeningCheck(node: string, instance: ServiceInstance, id: string, name: string, address: string, port: number): Check {
  return {
    id, name, node, serviceId: instance.id, serviceName: instance.service, status: 'critical', notes: '', output: '',
    type: 'tcp', definition: { tcp: hostPort(address, port), interval: 10_000 },
  };
}

/** Reads a typed value from a free-form proxy config map; a wrong type stops the load at that key. */
function configValue<T>(config: Plain, key: string, where: ConfigLocation, path: string,
  test: (v: unknown) => v is T, expected: string): T | undefined {
  const v = config[key];
  if (v === undefined || v === null) return undefined;
  if (!test(v)) fail(ErrorCode.CONFIG_TYPE, where, `${path}.${key}`, `expected ${expected}, got ${JSON.stringify(v)}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
const isObjectList = (v: unknown): v is Plain[] =>
  Array.isArray(v) && v.every((u) => u !== null && typeof u === 'object' && !Array.isArray(u));

function baseInstance(s: ServiceDefinition, node: string): Mutable<ServiceInstance> {
  return {
    id: s.id ?? s.name, service: s.name, node, kind: s.kind, tags: s.tags, address: s.address, port: s.port ?? 0,
    meta: s.meta, weights: s.weights ?? DEFAULT_WEIGHTS, connectNative: s.connect?.native ?? false,
  };
}

function unmanagedProxy(s: ServiceDefinition): ProxyInfo {
  const where = s.source;
  const byProxy = s.proxy?.destinationServiceName;
  if (byProxy !== undefined && s.proxyDestination !== undefined && byProxy !== s.proxyDestination) {
    fail(ErrorCode.CONFIG_VALUE, where, 'proxy.destination_service_name',
      `disagrees with proxy_destination ("${byProxy}" vs "${s.proxyDestination}")`);
  }
  const destination = byProxy ?? s.proxyDestination;
  if (destination === undefined) fail(ErrorCode.CONFIG_VALUE, where, '', 'a connect-proxy needs proxy.destination_service_name (or proxy_destination)');
  if (!s.port) fail(ErrorCode.CONFIG_VALUE, where, 'port', 'a connect-proxy needs a port more than 0');
  if (s.connect?.native) fail(ErrorCode.CONFIG_VALUE, where, 'connect.native', 'a connect-proxy cannot also be connect.native');
  if (s.connect?.proxy || s.connect?.sidecarService) {
    fail(ErrorCode.CONFIG_VALUE, where, 'connect', 'a connect-proxy cannot have its own proxy or sidecar_service');
  }
  const p = s.proxy;
  return {
    destinationServiceName: destination,
    ...(p?.destinationServiceId !== undefined ? { destinationServiceId: p.destinationServiceId } : {}),
    ...(p?.localServiceAddress !== undefined ? { localServiceAddress: p.localServiceAddress } : {}),
    ...(p?.localServicePort !== undefined ? { localServicePort: p.localServicePort } : {}),
    config: p?.config ?? {},
    upstreams: p?.upstreams ?? [],
  };
}

/** connect.proxy: Consul 1.2's managed proxy `<id>-proxy`, registered right after its target. */
function managedProxy(target: ServiceInstance, s: ServiceDefinition, config: Config, onLocalNode: boolean): Planned {
  const def = s.connect?.proxy ?? {};
  const where: ConfigLocation = { ...s.source, key: `${s.source.key ?? 'service'}.connect.proxy` };
  if (!onLocalNode) fail(ErrorCode.CONFIG_VALUE, where, '', 'managed proxies run on the local node only; use connect.sidecar_service or a connect-proxy service');
  if (!config.connect.enabled) fail(ErrorCode.CONFIG_VALUE, where, '', 'a managed proxy needs connect.enabled = true');
  const defaults = config.connect.proxyDefaults;
  const merged: Plain = { ...defaults.config, ...def.config };
  const bindPort = configValue(merged, 'bind_port', where, 'config', isPort, 'a port number 1-65535');
  const bindAddress = configValue(merged, 'bind_address', where, 'config', isString, 'an IP address');
  if (bindAddress !== undefined && !isIp(bindAddress)) {
    fail(ErrorCode.CONFIG_VALUE, where, 'config.bind_address', `must be an IP address, got "${bindAddress}"`);
  }
  const checkAddress = configValue(merged, 'tcp_check_address', where, 'config', isString, 'an address');
  const noCheck = configValue(merged, 'disable_tcp_check', where, 'config', isBool, 'a boolean') ?? false;
  const upstreams = configValue(merged, 'upstreams', where, 'config', isObjectList, 'a list of objects') ?? [];
  const localAddress = configValue(merged, 'local_service_address', where, 'config', isString, 'host:port');
  const execMode = def.execMode ?? defaults.execMode ?? 'daemon';
  const command = def.command
    ?? (execMode === 'daemon' ? defaults.daemonCommand : defaults.scriptCommand)
    ?? defaults.command;
  const id = `${target.id}-proxy`;
  const local = splitHostPort(localAddress ?? '127.0.0.1');
  const localPort = local.port ?? (target.port > 0 ? target.port : undefined);
  if (localAddress === undefined && localPort !== undefined) merged['local_service_address'] = hostPort('127.0.0.1', localPort);
  const instance: Mutable<ServiceInstance> = {
    id, service: id, node: target.node, kind: 'connect-proxy', tags: [], address: bindAddress ?? '',
    port: bindPort ?? 0, meta: {}, weights: DEFAULT_WEIGHTS, connectNative: false,
    proxy: {
      destinationServiceName: target.service,
      destinationServiceId: target.id,
      localServiceAddress: local.host,
      ...(localPort !== undefined ? { localServicePort: localPort } : {}),
      config: merged,
      upstreams,
    },
    managed: { type: 'managed', targetServiceId: target.id, execMode, ...(command ? { command } : {}) },
  };
  const probe = checkAddress ?? (bindAddress !== undefined && !isAnyAddress(bindAddress) ? bindAddress : '127.0.0.1');
  return {
    instance,
    ...(bindPort === undefined ? { range: { min: config.ports.proxyMinPort, max: config.ports.proxyMaxPort } } : {}),
    checks: [],
    ...(noCheck ? {} : {
      listening: (port: number) => listeningCheck(target.node, instance, `service:${id}`, 'Connect Proxy Listening', probe, port),
    }),
    where,
    what: `the managed proxy of service "${target.service}"`,
  };
}

/** connect.sidecar_service: `<id>-sidecar-proxy`, a connect-proxy for its target (Consul 1.3+). */
function sidecarProxy(target: ServiceInstance, s: ServiceDefinition, config: Config): Planned {
  const sc = s.connect?.sidecarService;
  if (!sc) throw new RangeError('sidecarProxy needs a sidecar_service');
  const where = sc.source;
  if (sc.kind === 'typical') fail(ErrorCode.CONFIG_VALUE, where, 'kind', 'a sidecar_service is always a connect-proxy');
  const p = sc.proxy;
  const localPort = p?.localServicePort ?? (target.port > 0 ? target.port : undefined);
  const instance: Mutable<ServiceInstance> = {
    id: sc.id ?? `${target.id}-sidecar-proxy`,
    service: sc.name ?? `${target.service}-sidecar-proxy`,
    node: target.node, kind: 'connect-proxy', tags: sc.tags ?? [], address: sc.address ?? '', port: sc.port ?? 0,
    meta: sc.meta ?? {}, weights: sc.weights ?? DEFAULT_WEIGHTS, connectNative: false,
    proxy: {
      destinationServiceName: p?.destinationServiceName ?? sc.proxyDestination ?? target.service,
      destinationServiceId: p?.destinationServiceId ?? target.id,
      localServiceAddress: p?.localServiceAddress ?? '127.0.0.1',
      ...(localPort !== undefined ? { localServicePort: localPort } : {}),
      config: p?.config ?? {},
      upstreams: p?.upstreams ?? [],
    },
    managed: { type: 'sidecar', targetServiceId: target.id },
  };
  const own = sc.checks ?? [];
  const probe = instance.address !== '' && !isAnyAddress(instance.address) ? instance.address : '127.0.0.1';
  return {
    instance,
    ...(instance.port === 0 ? { range: { min: config.ports.sidecarMinPort, max: config.ports.sidecarMaxPort } } : {}),
    checks: own,
    ...(own.length > 0 ? {} : {
      listening: (port: number) => listeningCheck(target.node, instance, `service:${instance.id}:1`, 'Connect Sidecar Listening', probe, port),
    }),
    where,
    what: `the sidecar of service "${target.service}"`,
  };
}

function plan(s: ServiceDefinition, node: string, config: Config, local: boolean): Planned[] {
  const where = s.source;
  const instance = baseInstance(s, node);
  if (s.kind === 'connect-proxy') {
    instance.proxy = unmanagedProxy(s);
  } else {
    if (s.proxy !== undefined) fail(ErrorCode.CONFIG_VALUE, where, 'proxy', 'only a kind = "connect-proxy" service takes proxy settings');
    if (s.proxyDestination !== undefined) fail(ErrorCode.CONFIG_VALUE, where, 'proxy_destination', 'only a kind = "connect-proxy" service takes a proxy_destination');
    const c = s.connect;
    if (c?.native && (c.proxy || c.sidecarService)) {
      fail(ErrorCode.CONFIG_VALUE, where, 'connect', 'connect.native and a proxy (connect.proxy or sidecar_service) are mutually exclusive');
    }
    if (c?.proxy && c.sidecarService) fail(ErrorCode.CONFIG_VALUE, where, 'connect', 'connect.proxy and connect.sidecar_service each register a proxy: use one');
  }
  const out: Planned[] = [{ instance, checks: s.checks, where, what: `service "${s.name}"` }];
  if (s.connect?.proxy) out.push(managedProxy(instance, s, config, local));
  if (s.connect?.sidecarService) out.push(sidecarProxy(instance, s, config));
  return out;
}

export interface CatalogFromConfigOptions {
  /** Proxy ID → port it had before (persisted): kept when still in its range and not taken. */
  readonly previousPorts?: ReadonlyMap<string, number>;
}

/** Registers one node's services and checks; ports and IDs are unique per node, as on a Consul agent. */
function buildNode(node: string, services: readonly ServiceDefinition[], nodeChecks: readonly CheckDefinition[],
  config: Config, local: boolean, out: { services: ServiceInstance[]; checks: Check[] }, previous: ReadonlyMap<string, number>): void {
  const planned = services.flatMap((s) => plan(s, node, config, local));
  const ids = new Map<string, Planned>();
  for (const p of planned) {
    const first = ids.get(p.instance.id);
    if (first) {
      fail(ErrorCode.CONFIG_DUPLICATE_ID, p.where, '',
        `duplicate service ID "${p.instance.id}" on node "${node}": ${first.what} (${first.where.file} ${first.where.key ?? ''}) already has it; `
        // A generated proxy's ID follows from its target, so the fix is always on the other definition.
        + `give ${p.instance.managed && !first.instance.managed ? first.what : p.what} another id`);
    }
    ids.set(p.instance.id, p);
  }
  const used = new Set<number>();
  for (const p of planned) if (!p.range && p.instance.port > 0) used.add(p.instance.port);
  // Persisted assignments go first, so a new proxy's hash start never takes a port a running proxy holds.
  const kept = new Map<Planned, number>();
  for (const p of planned) {
    const before = p.range && previous.get(p.instance.id);
    if (!p.range || before === undefined || before < p.range.min || before > p.range.max || used.has(before)) continue;
    kept.set(p, before);
    used.add(before);
  }
  for (const p of planned) {
    if (!p.range) continue;
    const port = kept.get(p) ?? allocatePort(p.instance.id, p.range, used);
    if (port === undefined) {
      fail(ErrorCode.CONFIG_VALUE, p.where, '', `no port provided for proxy bind_port and none left in the allocated range ${p.range.min}-${p.range.max}`);
    }
    used.add(port);
    p.instance.port = port;
    if (p.instance.managed?.type === 'managed' && p.instance.proxy) {
      // The process reads its listener from the effective config, as Consul serves it at /v1/agent/connect/proxy.
      p.instance.proxy = { ...p.instance.proxy, config: { ...p.instance.proxy.config, bind_port: port } };
    }
  }
  const checkIds = new Map<string, ConfigLocation>();
  const addCheck = (c: Check, where: ConfigLocation): void => {
    const first = checkIds.get(c.id);
    if (first) {
      fail(ErrorCode.CONFIG_DUPLICATE_ID, where, '', `duplicate check ID "${c.id}" on node "${node}" (first at ${first.file} ${first.key ?? ''})`);
    }
    checkIds.set(c.id, where);
    out.checks.push(c);
  };
  for (const p of planned) {
    out.services.push(p.instance);
    const n = p.checks.length;
    p.checks.forEach((d, i) => {
      const id = d.id ?? `service:${p.instance.id}${n > 1 ? `:${i + 1}` : ''}`;
      addCheck(toCheck(d, node, id, p.instance), d.source);
    });
    if (p.listening) addCheck(p.listening(p.instance.port), p.where);
  }
  for (const d of nodeChecks) {
    let service: ServiceInstance | undefined;
    if (d.serviceId !== undefined) {
      service = ids.get(d.serviceId)?.instance;
      if (!service) fail(ErrorCode.CONFIG_VALUE, d.source, 'service_id', `no service with ID "${d.serviceId}" on node "${node}"`);
    }
    addCheck(toCheck(d, node, d.id ?? d.name ?? '', service), d.source);
  }
}

export function catalogFromConfig(config: Config, opts: CatalogFromConfigOptions = {}): CatalogInput {
  const previous = opts.previousPorts ?? new Map<string, number>();
  const localNode: CatalogNode = {
    name: config.nodeName, address: config.advertiseAddr, datacenter: config.datacenter, meta: config.nodeMeta,
  };
  const out = { services: [] as ServiceInstance[], checks: [] as Check[] };
  buildNode(localNode.name, config.services, config.checks, config, true, out, previous);
  const names = new Map<string, ConfigLocation>([[localNode.name.toLowerCase(), { file: '<local node>' }]]);
  const nodes: CatalogNode[] = [];
  for (const n of config.nodes) {
    const first = names.get(n.node.toLowerCase());
    if (first) {
      fail(ErrorCode.CONFIG_DUPLICATE_ID, n.source, 'node',
        `duplicate node name "${n.node}" (${first.file === '<local node>' ? 'the local node_name' : `first at ${first.file} ${first.key ?? ''}`})`);
    }
    names.set(n.node.toLowerCase(), n.source);
    nodes.push({ name: n.node, address: n.address, datacenter: config.datacenter, meta: n.meta });
    buildNode(n.node, n.services, n.checks, config, false, out, previous);
  }
  // Index 0: config entries predate every API write; a name-derived ID survives reloads and restarts.
  const preparedQueries = config.preparedQueries.map((q) => toPreparedQuery(q, q.id ?? stableQueryId(q.name), 0));
  return { datacenter: config.datacenter, localNode, nodes, services: out.services, checks: out.checks, preparedQueries };
}
