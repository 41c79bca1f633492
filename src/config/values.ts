// Parsers for config values with a meaning beyond their JSON type: addresses, recursors, DNS names, levels.
import { canonicalIp, ipToText, isIp, parseIp } from '../net/addr.js';
import type { Upstream } from './types.js';

export type Parsed<T> = { readonly value: T } | { readonly error: string };

/** The longest DNS label (RFC 1035 §2.3.4). */
export const MAX_LABEL = 63;
const LABEL = /^[A-Za-z0-9_-]{1,63}$/;

/** A host name: dot-separated labels of letters, digits, '-' and '_' (a trailing dot allowed). */
export function isHostName(text: string): boolean {
  const bare = text.endsWith('.') ? text.slice(0, -1) : text;
  if (bare === '' || bare.length > 253) return false;
  return bare.split('.').every((l) => LABEL.test(l));
}

/** A DNS zone name as Consul stores it: lower-case, fully qualified ("Consul" → "consul."). */
export function parseDomain(text: string): Parsed<string> {
  if (!isHostName(text)) {
    const bare = text.endsWith('.') ? text.slice(0, -1) : text;
    const long = bare.split('.').find((l) => l.length > MAX_LABEL);
    if (long !== undefined) return { error: `has a label longer than ${MAX_LABEL} characters ("${long.slice(0, 20)}…" has ${long.length})` };
    if (bare.length > 253) return { error: `must be at most 253 characters, got ${bare.length}` };
    return { error: `must be a DNS name (labels of 1-63 letters, digits, '-' or '_'), got "${text}"` };
  }
  const lower = text.toLowerCase();
  return { value: lower.endsWith('.') ? lower : `${lower}.` };
}

/** The IP literal as written when it carries a zone (fe80::1%eth0), else its canonical text. */
function ipText(text: string): string {
  return text.includes('%') ? text : (canonicalIp(text) ?? text);
}

function notAnIp(text: string): string {
  if (text.includes('{{')) return `must be an IP address (go-sockaddr templates are not supported), got "${text}"`;
  return `must be an IP address, got "${text}"`;
}

export function parseIpAddress(text: string): Parsed<string> {
  return isIp(text) ? { value: ipText(text) } : { error: notAnIp(text) };
}

/** advertise_addr / --advertise: an IP clients can reach, so never the "any" address (Consul refuses it too). */
export function parseAdvertiseAddress(text: string): Parsed<string> {
  const p = parseIpAddress(text);
  if ('error' in p) return p;
  if (isWildcard(p.value)) return { error: `must be an address clients can reach, not the "any" address, got "${text}"` };
  return p;
}

/** Consul's client_addr / addresses.dns: one or more IPs separated by spaces. */
export function parseIpList(text: string): Parsed<string[]> {
  const parts = text.split(/\s+/).filter((p) => p !== '');
  if (parts.length === 0) return { error: 'must be an IP address, got an empty string' };
  const out: string[] = [];
  for (const p of parts) {
    const r = parseIpAddress(p);
    if ('error' in r) return r;
    out.push(r.value);
  }
  return { value: out };
}

/** "ip", "ip:port", "[v6]:port" or a bare IPv6 literal; port 53 when absent. Host names are refused. */
export function parseRecursor(text: string): Parsed<Upstream> {
  const bad = (why: string): Parsed<Upstream> => ({ error: `${why}, got "${text}"` });
  if (isIp(text)) return { value: { address: ipText(text), port: 53 } };
  let host: string;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracket) {
    host = bracket[1] ?? '';
    portText = bracket[2];
    if (!isIp(host) || !host.includes(':')) return bad('must be an IPv6 address inside [ ]');
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) return bad('must be an IP address');
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    // An IPv6 address with a port must be bracketed; "1.2.3.4::53" lands here too.
    if (!isIp(host) || host.includes(':')) return bad('must be an IP address, optionally with :port ([v6]:port for IPv6)');
  }
  let port = 53;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      return bad('has a bad port (1-65535)');
    }
    port = Number(portText);
  }
  return { value: { address: ipText(host), port } };
}

export const LogLevel = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LogLevel)[number];

/** Our levels, plus Consul's spellings ("INFO", "WARN", "ERR") so a Consul config dir loads. */
export function parseLogLevel(text: string): Parsed<LogLevel> {
  const lower = text.toLowerCase();
  const alias: Record<string, LogLevel> = { err: 'error', warning: 'warn' };
  const level = alias[lower] ?? LogLevel.find((l) => l === lower);
  if (level) return { value: level };
  return { error: `must be one of ${LogLevel.join(', ')}, got "${text}"` };
}

/** Consul lower-cases the datacenter and allows only [a-z0-9_-]; it is a label of every name we answer. */
export function parseDatacenter(text: string): Parsed<string> {
  const lower = text.toLowerCase();
  if (!/^[a-z0-9_-]+$/.test(lower)) {
    return { error: `must be letters, digits, '_' or '-' only, got "${text}"` };
  }
  if (lower.length > MAX_LABEL) {
    return { error: `must be at most ${MAX_LABEL} characters (it is a DNS label in every answer), got ${lower.length}` };
  }
  return { value: lower };
}

/** Whether an address is the "any" address (0.0.0.0 or ::). */
export function isWildcard(address: string): boolean {
  const c = canonicalIp(address);
  return c === '0.0.0.0' || c === '::';
}

export function isLoopback(address: string): boolean {
  const c = canonicalIp(address);
  return c !== undefined && (c === '::1' || c.startsWith('127.'));
}

/**
 * "10.0.0.0/8", "fc00::/7", or a bare address (a host route). The address must be the network's first one
 * ("10.1.0.0/8" is refused, as it is almost always a typo); the value is the canonical "address/prefix".
 */
export function parseCidr(text: string): Parsed<string> {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const bytes = addrText.includes('%') ? undefined : parseIp(addrText);
  if (!bytes) return { error: `must be a CIDR like "10.0.0.0/8" or "fc00::/7", got "${text}"` };
  const bits = bytes.length * 8;
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
    return { error: `has a bad prefix length (0-${bits} for IPv${bytes.length === 4 ? 4 : 6}), got "${text}"` };
  }
  const prefix = Number(prefixText);
  for (let bit = prefix; bit < bits; bit++) {
    if (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) {
      return { error: `has host bits set beyond /${prefix} (did you mean ${networkOf(bytes, prefix)}/${prefix}?), got "${text}"` };
    }
  }
  return { value: `${ipToText(bytes)}/${prefix}` };
}

function networkOf(bytes: Buffer, prefix: number): string {
  const out = Buffer.from(bytes);
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3] = (out[bit >> 3] ?? 0) & ~(1 << (7 - (bit & 7)));
  return ipToText(out);
}
