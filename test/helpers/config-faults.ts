// Config fault cases shared by the start (loadConfig, validate, serve) and reload tests, written as JSON or HCL.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode } from '../../src/errors.js';

export type Format = 'json' | 'hcl';
export const FORMATS: readonly Format[] = ['json', 'hcl'];

/** The good config every case starts from: one node with `web` on `port`, in `10-base`. */
export function baseConfig(port: number): Record<string, unknown> {
  return { node_name: 'cfg-node', advertise_addr: '127.0.0.1', service: { name: 'web', port } };
}

/** The file a case adds; it sorts after 10-base, so a definition conflicting with the base is the one blamed. */
export const BAD = '20-bad';
export const BASE = '10-base';

export interface FaultCase {
  /** The invalid value class, as issue 5 names them. */
  readonly class: string;
  readonly name: string;
  /** The content of 20-bad, next to 10-base. */
  readonly bad: Record<string, unknown>;
  readonly code: ErrorCode;
  /** The file the problem is reported in (BAD unless said). */
  readonly file?: string;
  readonly key: string;
  /** A distinctive fragment of the reason, not the whole text. */
  readonly reason: RegExp;
  /** Not applicable at reload (the test server's flags override the keys in question). */
  readonly startOnly?: string;
}

const V = ErrorCode.CONFIG_VALUE;
const long = (n: number, c = 'a'): string => c.repeat(n);

export const FAULTS: readonly FaultCase[] = [
  // Ports: 0 where it means something (dns: pick one; http: pick one), else 1-65535.
  { class: 'port', name: 'dns port above 65535', bad: { ports: { dns: 65536 } }, code: V, key: 'ports.dns', reason: /from 0 to 65535, got 65536/ },
  { class: 'port', name: 'http port below -1', bad: { ports: { http: -2 } }, code: V, key: 'ports.http', reason: /from -1 to 65535/ },
  { class: 'port', name: 'proxy range bound 0', bad: { ports: { proxy_min_port: 0 } }, code: V, key: 'ports.proxy_min_port', reason: /from 1 to 65535/ },
  { class: 'port', name: 'proxy range upside down', bad: { ports: { proxy_min_port: 20100, proxy_max_port: 20000 } }, code: V,
    key: 'ports.proxy_max_port', reason: /must not be below ports\.proxy_min_port/ },
  { class: 'port', name: 'service port negative', bad: { services: [{ name: 'api', port: -1 }] }, code: V, key: 'services[0].port', reason: /from 0 to 65535/ },
  { class: 'port', name: 'tcp check port 70000', bad: { checks: [{ name: 'probe', tcp: '127.0.0.1:70000', interval: '10s' }] }, code: V,
    key: 'checks[0].tcp', reason: /bad port \(1-65535\)/ },
  { class: 'port', name: 'http check port 99999', bad: { checks: [{ name: 'probe', http: 'http://127.0.0.1:99999/health', interval: '10s' }] }, code: V,
    key: 'checks[0].http', reason: /http:\/\/ or https:\/\/ URL/ },
  { class: 'port', name: 'recursor port 0', bad: { recursors: ['127.0.0.1:0'] }, code: V, key: 'recursors[0]', reason: /bad port \(1-65535\)/ },
  // Durations: not a duration, negative, zero where a wait must be positive, beyond what a timer or a TTL holds.
  { class: 'duration', name: 'not a duration', bad: { dns_config: { node_ttl: 'ten seconds' } }, code: V, key: 'dns_config.node_ttl', reason: /is not a duration/ },
  { class: 'duration', name: 'a bare number', bad: { dns_config: { recursor_timeout: 5 } }, code: ErrorCode.CONFIG_TYPE,
    key: 'dns_config.recursor_timeout', reason: /duration string like "10s"/ },
  { class: 'duration', name: 'negative', bad: { dns_config: { recursor_timeout: '-1s' } }, code: V, key: 'dns_config.recursor_timeout', reason: /must not be negative/ },
  { class: 'duration', name: 'zero idle timeout', bad: { dns_config: { tcp: { idle_timeout: '0s' } } }, code: V,
    key: 'dns_config.tcp.idle_timeout', reason: /at least 1ms/ },
  { class: 'duration', name: 'recursor_timeout beyond a timer', bad: { dns_config: { recursor_timeout: '1000h' } }, code: V,
    key: 'dns_config.recursor_timeout', reason: /longest timer Node can set/ },
  { class: 'duration', name: 'check interval beyond a timer', bad: { checks: [{ name: 'probe', tcp: '127.0.0.1:80', interval: '1000h' }] }, code: V,
    key: 'checks[0].interval', reason: /longest timer Node can set/ },
  { class: 'duration', name: 'check interval under 1ms', bad: { checks: [{ name: 'probe', tcp: '127.0.0.1:80', interval: '100us' }] }, code: V,
    key: 'checks[0].interval', reason: /at least 1ms/ },
  { class: 'duration', name: 'service_ttl beyond a DNS TTL', bad: { dns_config: { service_ttl: { web: '600000h' } } }, code: V,
    key: 'dns_config.service_ttl.web', reason: /largest TTL DNS allows/ },
  // CIDRs (recursion_allow).
  { class: 'cidr', name: 'prefix too long', bad: { dns_config: { recursion_allow: ['10.0.0.0/33'] } }, code: V,
    key: 'dns_config.recursion_allow[0]', reason: /bad prefix length \(0-32/ },
  { class: 'cidr', name: 'host bits set', bad: { dns_config: { recursion_allow: ['127.0.0.0/8', '10.1.0.0/8'] } }, code: V,
    key: 'dns_config.recursion_allow[1]', reason: /did you mean 10\.0\.0\.0\/8/ },
  { class: 'cidr', name: 'a host name', bad: { dns_config: { recursion_allow: ['example.com'] } }, code: V,
    key: 'dns_config.recursion_allow[0]', reason: /must be a CIDR/ },
  // Addresses: IPs where Consul wants an IP, IP or host name where it allows both; never the "any" address in answers.
  { class: 'address', name: 'advertise_addr not an IP', bad: { advertise_addr: '300.1.1.1' }, code: V, key: 'advertise_addr', reason: /must be an IP address/ },
  { class: 'address', name: 'advertise_addr the any address', bad: { advertise_addr: '0.0.0.0' }, code: V, key: 'advertise_addr', reason: /not the "any" address/ },
  { class: 'address', name: 'client_addr with a bad part', bad: { client_addr: '127.0.0.1 localhost' }, code: V, key: 'client_addr', reason: /must be an IP address/ },
  { class: 'address', name: 'addresses.dns a bad IPv6', bad: { addresses: { dns: '::1::2' } }, code: V, key: 'addresses.dns', reason: /must be an IP address/ },
  { class: 'address', name: 'service address not a host', bad: { services: [{ name: 'api', address: 'bad host!' }] }, code: V,
    key: 'services[0].address', reason: /IP address or a host name/ },
  { class: 'address', name: 'service address the any address', bad: { services: [{ name: 'api', address: '::' }] }, code: V,
    key: 'services[0].address', reason: /not the "any" address/ },
  { class: 'address', name: 'node without an address', bad: { nodes: [{ node: 'other' }] }, code: V, key: 'nodes[0].address', reason: /needs an address/ },
  { class: 'address', name: 'recursor a host name', bad: { recursors: ['dns.example.com'] }, code: V, key: 'recursors[0]', reason: /must be an IP address/ },
  { class: 'address', name: 'tcp check host', bad: { checks: [{ name: 'probe', tcp: 'bad host:80', interval: '10s' }] }, code: V,
    key: 'checks[0].tcp', reason: /IP address or a host name before the port/ },
  // Empty names.
  { class: 'empty name', name: 'service name', bad: { services: [{ name: '', port: 1 }] }, code: V, key: 'services[0].name', reason: /must not be empty/ },
  { class: 'empty name', name: 'service without a name', bad: { services: [{ port: 1 }] }, code: V, key: 'services[0].name', reason: /needs a name/ },
  { class: 'empty name', name: 'service id blank', bad: { services: [{ name: 'api', id: '  ' }] }, code: V, key: 'services[0].id', reason: /must not be empty/ },
  { class: 'empty name', name: 'node_name blank', bad: { node_name: ' ' }, code: V, key: 'node_name', reason: /must not be empty/ },
  { class: 'empty name', name: 'check name', bad: { checks: [{ name: '', ttl: '10s' }] }, code: V, key: 'checks[0].name', reason: /must not be empty/ },
  { class: 'empty name', name: 'check id', bad: { checks: [{ id: '', name: 'c', ttl: '10s' }] }, code: V, key: 'checks[0].id', reason: /must not be empty/ },
  { class: 'empty name', name: 'check with neither', bad: { checks: [{ ttl: '10s' }] }, code: V, key: 'checks[0].name', reason: /needs an id or a name/ },
  { class: 'empty name', name: 'other node', bad: { nodes: [{ node: '', address: '10.0.0.9' }] }, code: V, key: 'nodes[0].node', reason: /must not be empty/ },
  // Overlong labels: a datacenter is a label of every answer; a domain must leave room for the names under it.
  { class: 'overlong label', name: 'datacenter of 64', bad: { datacenter: long(64, 'd') }, code: V, key: 'datacenter', reason: /at most 63 characters/ },
  { class: 'overlong label', name: 'domain label of 64', bad: { domain: `${long(64)}.example` }, code: V, key: 'domain', reason: /label longer than 63/ },
  { class: 'overlong label', name: 'domain of 254', bad: { domain: Array(6).fill(long(41)).join('.').concat('.xy') }, code: V,
    key: 'domain', reason: /at most 253 characters, got 254/ },
  { class: 'overlong label', name: 'domain too long for its names', bad: { domain: Array(5).fill(long(45)).join('.') }, code: V,
    key: 'domain', reason: /would be \d+ octets, more than 255/ },
  // Conflicting IDs, within a file and across files.
  { class: 'conflicting id', name: 'two services, one ID', bad: { services: [{ name: 'a', id: 'same' }, { name: 'b', id: 'same' }] },
    code: ErrorCode.CONFIG_DUPLICATE_ID, key: 'services[1]', reason: /duplicate service ID "same"/ },
  { class: 'conflicting id', name: 'a service ID taken in another file', bad: { service: { name: 'web2', id: 'web', port: 81 } },
    code: ErrorCode.CONFIG_DUPLICATE_ID, key: 'service', reason: /duplicate service ID "web".*10-base/ },
  { class: 'conflicting id', name: 'two checks, one ID', bad: { checks: [{ id: 'c1', name: 'a', ttl: '10s' }, { id: 'c1', name: 'b', ttl: '10s' }] },
    code: ErrorCode.CONFIG_DUPLICATE_ID, key: 'checks[1]', reason: /duplicate check ID "c1"/ },
  { class: 'conflicting id', name: 'a check for a missing service', bad: { checks: [{ name: 'c', ttl: '10s', service_id: 'nope' }] }, code: V,
    key: 'checks[0].service_id', reason: /no service with ID "nope"/ },
  { class: 'conflicting id', name: 'another node with the local name', bad: { nodes: [{ node: 'CFG-node', address: '10.0.0.9' }] },
    code: ErrorCode.CONFIG_DUPLICATE_ID, key: 'nodes[0].node', reason: /duplicate node name/ },
  { class: 'conflicting id', name: 'two prepared queries, one name',
    bad: { prepared_queries: [{ name: 'q', service: { service: 'web' } }, { name: 'Q', service: { service: 'web' } }] },
    code: ErrorCode.CONFIG_DUPLICATE_ID, key: 'prepared_queries[1]', reason: /duplicate prepared query name/ },
  // Rules between keys.
  { class: 'cross-key', name: 'max_probe_interval below probe_interval',
    bad: { dns_config: { recursor_health: { probe_interval: '10s', max_probe_interval: '2s' } } }, code: V,
    key: 'dns_config.recursor_health.max_probe_interval', reason: /must not be below probe_interval \(10s\)/ },
  { class: 'cross-key', name: 'probe_interval above the default cap', bad: { dns_config: { recursor_health: { probe_interval: '1m' } } }, code: V,
    key: 'dns_config.recursor_health.probe_interval', reason: /must not exceed max_probe_interval \(30s, the default\)/ },
  { class: 'cross-key', name: 'alt_domain equal to domain', bad: { domain: 'example.', alt_domain: 'Example' }, code: V,
    key: 'alt_domain', reason: /must differ from domain/ },
  { class: 'cross-key', name: 'DNS and HTTP on one port', bad: { ports: { dns: 8600, http: 8600 } }, code: V,
    key: 'ports.http', reason: /cannot share port 8600/, startOnly: 'the test servers pass --dns-port 0 --http-port 0, which win' },
  // What a user mistypes most.
  { class: 'unknown key', name: 'a typo', bad: { service: { name: 'api', prot: 80 } }, code: ErrorCode.CONFIG_UNKNOWN_KEY,
    key: 'service.prot', reason: /did you mean "port"/ },
  { class: 'type', name: 'a port as a string', bad: { service: { name: 'api', port: '80' } }, code: ErrorCode.CONFIG_TYPE,
    key: 'service.port', reason: /expected a number, got string "80"/ },
];

/** Names that register but that no DNS question can reach: a warning with file and key, as Consul gives. */
export interface WarningCase {
  readonly name: string;
  readonly bad: Record<string, unknown>;
  readonly key: string;
  readonly reason: RegExp;
}

export const WARNINGS: readonly WarningCase[] = [
  { name: 'service name of 64', bad: { service: { name: long(64, 's'), port: 1 } }, key: 'service.name', reason: /too long/ },
  { name: 'an empty tag', bad: { service: { name: 'api', port: 1, tags: ['v1', ''] } }, key: 'service.tags[1]', reason: /tag "" .*it is empty/ },
  { name: 'a tag part of 64', bad: { service: { name: 'api', port: 1, tags: [`v1.${long(64, 't')}`] } }, key: 'service.tags[0]', reason: /longer than 63/ },
  { name: 'node name of 64', bad: { node_name: long(64, 'n') }, key: 'node_name', reason: /part longer than 63/ },
];

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function hclValue(v: unknown, indent: string): string {
  if (Array.isArray(v)) return `[${v.map((item) => hclValue(item, indent)).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{\n${hclBody(v as Record<string, unknown>, `${indent}  `)}${indent}}`;
  return JSON.stringify(v);
}

function hclBody(obj: Record<string, unknown>, indent: string): string {
  let out = '';
  for (const [k, v] of Object.entries(obj)) {
    const key = IDENT.test(k) ? k : JSON.stringify(k);
    // Objects as blocks, the way people write HCL; lists of objects stay lists.
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && IDENT.test(k)) out += `${indent}${key} ${hclValue(v, indent)}\n`;
    else out += `${indent}${key} = ${hclValue(v, indent)}\n`;
  }
  return out;
}

/** A config object as HCL v1: objects as blocks, lists and scalars as assignments. */
export function toHcl(obj: Record<string, unknown>): string {
  return hclBody(obj, '');
}

export function configText(obj: Record<string, unknown>, format: Format): string {
  return format === 'json' ? `${JSON.stringify(obj, null, 2)}\n` : toHcl(obj);
}

/** Writes `<name>.<format>` into dir; returns its path. */
export function writeConfig(dir: string, name: string, obj: Record<string, unknown>, format: Format): string {
  const file = join(dir, `${name}.${format}`);
  writeFileSync(file, configText(obj, format));
  return file;
}
