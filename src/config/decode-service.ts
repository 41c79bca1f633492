// Decodes service definitions (local, on `nodes`, and sidecar_service) from snake_case or CamelCase keys.
import { ErrorCode } from '../errors.js';
import { isIp } from '../net/addr.js';
import { decodeChecks } from './decode-check.js';
import { IGNORED_SERVICE, IGNORED_UNMANAGED_PROXY } from './ignored-keys.js';
import type { ObjectReader } from './reader.js';
import type { ManagedProxyDefinition, ProxyConfig, ServiceDefinition } from './types.js';
import { isHostName, isWildcard, MAX_LABEL } from './values.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type SidecarDefinition = NonNullable<NonNullable<ServiceDefinition['connect']>['sidecarService']>;

const META_KEY = /^[A-Za-z0-9_-]{1,128}$/;

/** Consul's meta rules: at most 64 pairs, keys [A-Za-z0-9_-] up to 128, values up to 512, "consul-" reserved. */
export function readMeta(r: ObjectReader, key: string): Record<string, string> | undefined {
  const meta = r.stringMap(key);
  if (meta === undefined) return undefined;
  const keys = Object.keys(meta);
  if (keys.length > 64) r.fail(ErrorCode.CONFIG_VALUE, key, `at most 64 pairs, got ${keys.length}`);
  for (const k of keys) {
    const where = `${key}.${k}`;
    if (!META_KEY.test(k)) r.fail(ErrorCode.CONFIG_VALUE, where, 'a meta key has 1-128 letters, digits, "_" or "-"');
    if (k.startsWith('consul-')) r.fail(ErrorCode.CONFIG_VALUE, where, 'the "consul-" prefix is reserved');
    if ((meta[k] ?? '').length > 512) r.fail(ErrorCode.CONFIG_VALUE, where, 'a meta value has at most 512 characters');
  }
  return meta;
}

/**
 * An address field: empty, an IP literal or a host name. With `reachable`, an address answered to clients,
 * so not the "any" address (Consul refuses it for services: "Invalid service address").
 */
export function readAddress(r: ObjectReader, key: string, opts: { reachable?: boolean } = {}): string | undefined {
  const a = r.string(key);
  if (a !== undefined && a !== '' && !isIp(a) && !isHostName(a)) {
    r.fail(ErrorCode.CONFIG_VALUE, key, `must be an IP address or a host name, got "${a}"`);
  }
  if (a !== undefined && opts.reachable && isIp(a) && isWildcard(a)) {
    r.fail(ErrorCode.CONFIG_VALUE, key, `must be an address clients can reach, not the "any" address, got "${a}"`);
  }
  return a;
}

function decodeUnmanagedProxy(r: ObjectReader): ProxyConfig {
  const p: Mutable<ProxyConfig> = {};
  const name = r.string('destination_service_name', { nonEmpty: true });
  const id = r.string('destination_service_id', { nonEmpty: true });
  const address = readAddress(r, 'local_service_address');
  const port = r.port('local_service_port');
  const config = r.free('config');
  const upstreams = r.freeList('upstreams');
  r.ignore(...IGNORED_UNMANAGED_PROXY);
  r.finish();
  if (name !== undefined) p.destinationServiceName = name;
  if (id !== undefined) p.destinationServiceId = id;
  if (address !== undefined && address !== '') p.localServiceAddress = address;
  if (port !== undefined) p.localServicePort = port;
  if (config !== undefined) p.config = config;
  if (upstreams !== undefined) p.upstreams = upstreams;
  return p;
}

function readCommand(r: ObjectReader, key: string): string[] | undefined {
  const cmd = r.strings(key);
  if (cmd !== undefined && cmd.length === 0) r.fail(ErrorCode.CONFIG_VALUE, key, 'must name a program');
  return cmd;
}

export function readExecMode(r: ObjectReader): 'daemon' | 'script' | undefined {
  const mode = r.string('exec_mode');
  if (mode === undefined || mode === 'daemon' || mode === 'script') return mode;
  return r.fail(ErrorCode.CONFIG_VALUE, 'exec_mode', `must be "daemon" or "script", got "${mode}"`);
}

function decodeManagedProxy(r: ObjectReader): ManagedProxyDefinition {
  const m: Mutable<ManagedProxyDefinition> = {};
  const execMode = readExecMode(r);
  const command = readCommand(r, 'command');
  // Free-form: Consul hands it to the proxy process untouched (bind_port, upstreams, …); HCL keys stay as written.
  const config = r.free('config');
  // 1.3 moved upstreams here; managed proxies read them from config.upstreams.
  r.ignore('upstreams');
  r.finish();
  if (execMode !== undefined) m.execMode = execMode;
  if (command !== undefined) m.command = command;
  if (config !== undefined) m.config = config;
  return m;
}

function readKind(r: ObjectReader): ServiceDefinition['kind'] | undefined {
  const kind = r.string('kind');
  if (kind === undefined) return undefined;
  if (kind === '') return 'typical';
  if (kind === 'connect-proxy') return kind;
  return r.fail(ErrorCode.CONFIG_VALUE, 'kind', `must be "" or "connect-proxy", got "${kind}"`);
}

function readWeights(r: ObjectReader): ServiceDefinition['weights'] {
  const w = r.object('weights');
  if (!w) return undefined;
  const passing = w.int('passing', { min: 1, max: 65535 }) ?? 1;
  const warning = w.int('warning', { min: 0, max: 65535 }) ?? 1;
  w.finish();
  return { passing, warning };
}

/** The fields every service definition shares; a sidecar's are all optional. */
function decodeFields(r: ObjectReader, sidecar: boolean): Mutable<Partial<ServiceDefinition>> {
  const s: Mutable<Partial<ServiceDefinition>> = {};
  const id = r.string('id', { nonEmpty: true });
  const name = r.string('name', { nonEmpty: true });
  if (name === undefined && !sidecar) r.fail(ErrorCode.CONFIG_VALUE, 'name', 'a service needs a name');
  const tags = r.strings('tags');
  const address = readAddress(r, 'address', { reachable: true });
  const port = r.port('port');
  const meta = readMeta(r, 'meta');
  const weights = readWeights(r);
  const kind = readKind(r);
  const proxyDestination = r.string('proxy_destination', { nonEmpty: true });
  const proxyReader = r.object('proxy');
  const proxy = proxyReader ? decodeUnmanagedProxy(proxyReader) : undefined;
  const connectReader = r.object('connect');
  if (connectReader && sidecar) r.fail(ErrorCode.CONFIG_VALUE, 'connect', 'a sidecar_service cannot have its own connect settings');
  const connect = connectReader ? decodeConnect(connectReader) : undefined;
  const checks = decodeChecks(r, true);
  const enableTagOverride = r.bool('enable_tag_override');
  r.ignore(...IGNORED_SERVICE);
  r.finish();
  if (id !== undefined) s.id = id;
  if (name !== undefined) s.name = name;
  if (tags !== undefined) s.tags = tags;
  if (address !== undefined) s.address = address;
  if (port !== undefined) s.port = port;
  if (meta !== undefined) s.meta = meta;
  if (weights !== undefined) s.weights = weights;
  if (kind !== undefined) s.kind = kind;
  if (proxyDestination !== undefined) s.proxyDestination = proxyDestination;
  if (proxy !== undefined) s.proxy = proxy;
  if (connect !== undefined) s.connect = connect;
  if (checks.length > 0 || !sidecar) s.checks = checks;
  if (enableTagOverride !== undefined) s.enableTagOverride = enableTagOverride;
  return s;
}

function decodeConnect(r: ObjectReader): NonNullable<ServiceDefinition['connect']> {
  const c: Mutable<NonNullable<ServiceDefinition['connect']>> = {};
  const native = r.bool('native');
  const proxyReader = r.object('proxy');
  const proxy = proxyReader ? decodeManagedProxy(proxyReader) : undefined;
  const sidecarReader = r.object('sidecar_service');
  let sidecarService: SidecarDefinition | undefined;
  if (sidecarReader) {
    sidecarService = { ...decodeFields(sidecarReader, true), source: { file: r.ctx.file, key: sidecarReader.path } };
  }
  r.finish();
  if (native !== undefined) c.native = native;
  if (proxy !== undefined) c.proxy = proxy;
  if (sidecarService !== undefined) c.sidecarService = sidecarService;
  return c;
}

/** Why `<tag>.<name>.service…` can never be asked for this tag, or undefined when it can (tags may hold dots). */
function tagProblem(tag: string): string | undefined {
  const labels = tag.split('.');
  if (labels.some((l) => l === '')) return tag === '' ? 'it is empty' : 'it has an empty label (a leading, trailing or doubled ".")';
  if (labels.some((l) => l.length > MAX_LABEL)) return `it has a part longer than ${MAX_LABEL} characters`;
  return undefined;
}

/** Consul's warnings for names that register but that no DNS question can reach, with file and key. */
function warnUndiscoverable(r: ObjectReader, f: Partial<ServiceDefinition>): void {
  const where = `${r.ctx.file}: ${r.pathOf('name')}`;
  if (f.name !== undefined && /[^A-Za-z0-9-]/.test(f.name)) {
    r.ctx.warnings.push(`${where}: service name "${f.name}" will not be discoverable via DNS `
      + 'due to invalid characters (use letters, digits and dashes)');
  } else if (f.name !== undefined && f.name.length > MAX_LABEL) {
    r.ctx.warnings.push(`${where}: service name "${f.name}" will not be discoverable via DNS `
      + `due to it being too long (a DNS label has 1-${MAX_LABEL} characters, it has ${f.name.length})`);
  }
  (f.tags ?? []).forEach((tag, i) => {
    const problem = tagProblem(tag);
    if (problem) r.ctx.warnings.push(`${r.ctx.file}: ${r.pathOf('tags')}[${i}]: tag ${JSON.stringify(tag)} will not be discoverable via DNS: ${problem}`);
  });
}

export function decodeService(r: ObjectReader): ServiceDefinition {
  const f = decodeFields(r, false);
  warnUndiscoverable(r, f);
  return {
    ...f,
    name: f.name ?? '',
    tags: f.tags ?? [],
    address: f.address ?? '',
    meta: f.meta ?? {},
    kind: f.kind ?? 'typical',
    checks: f.checks ?? [],
    source: { file: r.ctx.file, key: r.path },
  };
}
