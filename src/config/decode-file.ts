// Decodes one parsed config file into a FilePart: every key typed and checked, nothing defaulted yet.
import { ErrorCode } from '../errors.js';
import { decodeDns, type DnsPart } from './decode-dns.js';
import { decodeChecks } from './decode-check.js';
import { decodeNode } from './decode-node.js';
import { decodeService, readExecMode, readMeta } from './decode-service.js';
import {
  IGNORED_ACL, IGNORED_ACL_TOKENS, IGNORED_ADDRESSES, IGNORED_CONNECT, IGNORED_PORTS, IGNORED_TOP, IGNORED_TOP_PREFIXES,
} from './ignored-keys.js';
import { decodePreparedQuery } from './prepared-query.js';
import { defined, ObjectReader, parsed, type DecodeContext, type Plain } from './reader.js';
import type { CheckDefinition, NodeDefinition, PreparedQueryDefinition, ServiceDefinition, Upstream } from './types.js';
import {
  parseAdvertiseAddress, parseDatacenter, parseDomain, parseIpList, parseLogLevel, parseRecursor, type LogLevel,
} from './values.js';

export type { DnsPart } from './decode-dns.js';

export interface ProxyDefaultsPart {
  execMode?: 'daemon' | 'script';
  daemonCommand?: string[];
  scriptCommand?: string[];
  command?: string[];
  config?: Plain;
}

/** What one file (or the flags) says; absent = not said. Merged in order by mergeParts. */
export interface FilePart {
  datacenter?: string;
  nodeName?: string;
  nodeMeta?: Record<string, string>;
  domain?: string;
  altDomain?: string;
  recursors?: Upstream[];
  /** Per file, not merged: the key each recursor came from (`recursors[1]`), to place a problem found after merging. */
  recursorKeys?: string[];
  clientAddresses?: string[];
  advertiseAddr?: string;
  dnsAddresses?: string[];
  /** http: -1 = the HTTP API is off. */
  ports?: { dns?: number; http?: number; proxyMinPort?: number; proxyMaxPort?: number; sidecarMinPort?: number; sidecarMaxPort?: number };
  dns?: DnsPart;
  connect?: { enabled?: boolean; allowManagedRoot?: boolean; allowManagedApiRegistration?: boolean; proxyDefaults?: ProxyDefaultsPart };
  services?: ServiceDefinition[];
  checks?: CheckDefinition[];
  nodes?: NodeDefinition[];
  logLevel?: LogLevel;
  workers?: number;
  httpAddresses?: string[];
  dataDir?: string;
  enableScriptChecks?: boolean;
  enableLocalScriptChecks?: boolean;
  apiToken?: string;
  preparedQueries?: PreparedQueryDefinition[];
}

function decodeRecursors(r: ObjectReader): Pick<FilePart, 'recursors' | 'recursorKeys'> {
  const list = r.strings('recursors');
  const one = r.string('recursor');
  if (list === undefined && one === undefined) return {};
  const recursorKeys = (list ?? []).map((_, i) => `${r.pathOf('recursors')}[${i}]`);
  const recursors = (list ?? []).map((t, i) => parsed(r, `recursors[${i}]`, t, parseRecursor) as Upstream);
  if (one !== undefined) {
    recursors.push(parsed(r, 'recursor', one, parseRecursor) as Upstream);
    recursorKeys.push(r.pathOf('recursor'));
  }
  return { recursors, recursorKeys };
}

function decodeConnect(r: ObjectReader): FilePart['connect'] {
  const proxy = r.object('proxy');
  const allowManagedRoot = proxy?.bool('allow_managed_root');
  const allowManagedApiRegistration = proxy?.bool('allow_managed_api_registration');
  proxy?.finish();
  const d = r.object('proxy_defaults');
  let proxyDefaults: ProxyDefaultsPart | undefined;
  if (d) {
    proxyDefaults = defined<ProxyDefaultsPart>({
      execMode: readExecMode(d),
      daemonCommand: d.strings('daemon_command'),
      scriptCommand: d.strings('script_command'),
      command: d.strings('command'),
      config: d.free('config'),
    });
    d.finish();
  }
  const part = defined({ enabled: r.bool('enabled'), allowManagedRoot, allowManagedApiRegistration, proxyDefaults });
  r.ignore(...IGNORED_CONNECT);
  r.finish();
  return part;
}

/**
 * A bound of a proxy port range. 0 has no meaning here: a proxy given port 0 would have no port at all.
 * (Consul's sidecar_min_port = 0 turns automatic assignment off; connect-dns always assigns, so it is refused.)
 */
function rangePort(r: ObjectReader, key: string): number | undefined {
  const port = r.port(key);
  if (port === 0) {
    r.fail(ErrorCode.CONFIG_VALUE, key, 'must be a port from 1 to 65535 (proxies are given ports from this range), got 0');
  }
  return port;
}

function decodePorts(r: ObjectReader): FilePart['ports'] {
  const part = defined({
    dns: r.port('dns'),
    http: r.int('http', { min: -1, max: 65535 }),
    proxyMinPort: rangePort(r, 'proxy_min_port'),
    proxyMaxPort: rangePort(r, 'proxy_max_port'),
    sidecarMinPort: rangePort(r, 'sidecar_min_port'),
    sidecarMaxPort: rangePort(r, 'sidecar_max_port'),
  });
  r.ignore(...IGNORED_PORTS);
  r.finish();
  return part;
}

/** Consul's ACL settings: only the master token means something here (it guards API writes). */
function decodeAcl(r: ObjectReader): string | undefined {
  const tokens = r.object('tokens');
  // 1.4 named it master, 1.11 initial_management; either is the token that may do everything.
  const master = tokens?.string('master');
  const initial = tokens?.string('initial_management');
  if (master !== undefined && initial !== undefined && master !== initial) {
    tokens?.fail(ErrorCode.CONFIG_VALUE, 'initial_management', 'disagrees with acl.tokens.master (the same token under its newer name)');
  }
  tokens?.ignore(...IGNORED_ACL_TOKENS);
  tokens?.finish();
  r.ignore(...IGNORED_ACL);
  r.finish();
  const token = master ?? initial;
  return token === '' ? undefined : token;
}

export function decodeFile(root: Plain, ctx: DecodeContext): FilePart {
  const r = new ObjectReader(ctx, '', root);
  const addresses = r.object('addresses');
  const dnsAddresses = parsed(r, 'addresses.dns', addresses?.string('dns'), parseIpList);
  const httpAddresses = parsed(r, 'addresses.http', addresses?.string('http'), parseIpList);
  addresses?.ignore(...IGNORED_ADDRESSES);
  addresses?.finish();
  const ports = r.object('ports');
  const dnsConfig = r.object('dns_config');
  const connect = r.object('connect');
  const acl = r.object('acl');
  const aclToken = acl && decodeAcl(acl);
  const legacyToken = r.string('acl_master_token');
  const part = defined<FilePart>({
    datacenter: parsed(r, 'datacenter', r.string('datacenter'), parseDatacenter),
    nodeName: r.string('node_name', { nonEmpty: true }),
    nodeMeta: readMeta(r, 'node_meta'),
    domain: parsed(r, 'domain', r.string('domain'), parseDomain),
    altDomain: parsed(r, 'alt_domain', r.string('alt_domain'), parseDomain),
    ...decodeRecursors(r),
    clientAddresses: parsed(r, 'client_addr', r.string('client_addr'), parseIpList),
    advertiseAddr: parsed(r, 'advertise_addr', r.string('advertise_addr'), parseAdvertiseAddress),
    dnsAddresses,
    ports: ports && decodePorts(ports),
    dns: dnsConfig && decodeDns(dnsConfig),
    connect: connect && decodeConnect(connect),
    services: [
      ...r.objects('service', { single: true, camel: true }),
      ...r.objects('services', { camel: true }),
    ].map(decodeService),
    checks: decodeChecks(r, false),
    nodes: r.objects('nodes', { camel: true }).map(decodeNode),
    logLevel: parsed(r, 'log_level', r.string('log_level'), parseLogLevel),
    workers: r.int('workers', { min: 1, max: 64 }),
    httpAddresses,
    dataDir: r.string('data_dir', { nonEmpty: true }),
    enableScriptChecks: r.bool('enable_script_checks'),
    enableLocalScriptChecks: r.bool('enable_local_script_checks'),
    // acl.tokens.master replaced acl_master_token (1.4); the newer spelling wins when a file has both.
    apiToken: aclToken ?? (legacyToken === '' ? undefined : legacyToken),
    preparedQueries: r.objects('prepared_queries', { camel: true }).map((q) => decodePreparedQuery(q)),
  });
  r.ignore(...IGNORED_TOP);
  r.ignorePrefix(...IGNORED_TOP_PREFIXES);
  r.finish();
  return part ?? {};
}
