// Command-line flags as one more FilePart, applied after every file; a bad value names the flag.
import { ConfigError, ErrorCode } from '../errors.js';
import type { FilePart } from './decode-file.js';
import {
  parseAdvertiseAddress, parseDatacenter, parseDomain, parseIpList, parseLogLevel, parseRecursor, type Parsed,
} from './values.js';

/** From the CLI; every one optional; flags win over files. */
export interface ConfigFlags {
  client?: string;
  advertise?: string;
  dnsPort?: number;
  domain?: string;
  altDomain?: string;
  datacenter?: string;
  node?: string;
  recursors?: string[];
  logLevel?: string;
  logFormat?: string;
  dataDir?: string;
  /** -1 disables the HTTP API, 0 picks a free port. */
  httpPort?: number;
  apiToken?: string;
  enableScriptChecks?: boolean;
  workers?: number;
}

export const FLAGS_FILE = '<flags>';

function bad(flag: string, reason: string): never {
  throw new ConfigError(ErrorCode.CONFIG_VALUE, { file: FLAGS_FILE, key: flag }, reason);
}

function value<T>(flag: string, text: string | undefined, parse: (t: string) => Parsed<T>): T | undefined {
  if (text === undefined) return undefined;
  const p = parse(text);
  return 'error' in p ? bad(flag, p.error) : p.value;
}

export interface FlagsPart {
  readonly part: FilePart;
  readonly logFormat?: 'json' | 'pretty';
}

export function parseFlags(flags: ConfigFlags): FlagsPart {
  const part: FilePart = {};
  const set = <K extends keyof FilePart>(key: K, v: FilePart[K] | undefined): void => {
    if (v !== undefined) part[key] = v;
  };
  set('clientAddresses', value('--client', flags.client, parseIpList));
  set('advertiseAddr', value('--advertise', flags.advertise, parseAdvertiseAddress));
  if (flags.dnsPort !== undefined) {
    if (!Number.isInteger(flags.dnsPort) || flags.dnsPort < 0 || flags.dnsPort > 65535) {
      bad('--dns-port', `must be a port number 0-65535, got ${String(flags.dnsPort)}`);
    }
    part.ports = { dns: flags.dnsPort };
  }
  if (flags.httpPort !== undefined) {
    if (!Number.isInteger(flags.httpPort) || flags.httpPort < -1 || flags.httpPort > 65535) {
      bad('--http-port', `must be a port number 0-65535, or -1 to disable the HTTP API, got ${String(flags.httpPort)}`);
    }
    part.ports = { ...part.ports, http: flags.httpPort };
  }
  if (flags.dataDir !== undefined) {
    if (flags.dataDir.trim() === '') bad('--data-dir', 'must not be empty');
    part.dataDir = flags.dataDir;
  }
  if (flags.apiToken !== undefined) {
    if (flags.apiToken === '') bad('--api-token', 'must not be empty');
    part.apiToken = flags.apiToken;
  }
  if (flags.enableScriptChecks !== undefined) part.enableScriptChecks = flags.enableScriptChecks;
  if (flags.workers !== undefined) {
    if (!Number.isInteger(flags.workers) || flags.workers < 1 || flags.workers > 64) bad('--workers', `must be a whole number 1-64, got ${String(flags.workers)}`);
    part.workers = flags.workers;
  }
  set('domain', value('--domain', flags.domain, parseDomain));
  set('altDomain', value('--alt-domain', flags.altDomain, parseDomain));
  set('datacenter', value('--datacenter', flags.datacenter, parseDatacenter));
  if (flags.node !== undefined) {
    if (flags.node.trim() === '') bad('--node', 'must not be empty');
    part.nodeName = flags.node;
  }
  if (flags.recursors !== undefined) {
    part.recursors = flags.recursors.map((r) => value('--recursor', r, parseRecursor) ?? bad('--recursor', 'missing'));
  }
  set('logLevel', value('--log-level', flags.logLevel, parseLogLevel));
  let logFormat: FlagsPart['logFormat'];
  if (flags.logFormat !== undefined) {
    if (flags.logFormat !== 'json' && flags.logFormat !== 'pretty') {
      bad('--log-format', `must be "json" or "pretty", got "${flags.logFormat}"`);
    }
    logFormat = flags.logFormat;
  }
  return logFormat === undefined ? { part } : { part, logFormat };
}
