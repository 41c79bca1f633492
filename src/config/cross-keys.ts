// Rules between keys, checked once every file and flag is merged: each problem is placed where it was set.
import { ConfigError, ErrorCode, type ConfigLocation } from '../errors.js';
import { canonicalIp } from '../net/addr.js';
import { FLAGS_FILE } from './flags.js';
import type { Merged } from './merge.js';
import type { Config } from './types.js';
import { isWildcard } from './values.js';

/** A merged key's location: the file that set it last, its key as written there (or the flag). */
function where(m: Merged, partPath: string, key: string, flag?: string): ConfigLocation {
  const file = m.origins.get(partPath) ?? '<defaults>';
  return { file, key: file === FLAGS_FILE && flag !== undefined ? flag : key };
}

function fail(loc: ConfigLocation, reason: string): never {
  throw new ConfigError(ErrorCode.CONFIG_VALUE, loc, reason);
}

function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export function checkPortRange(m: Merged, which: 'proxy' | 'sidecar', min: number, max: number): void {
  if (min <= max) return;
  const file = m.origins.get(`ports.${which}MaxPort`) ?? m.origins.get(`ports.${which}MinPort`) ?? '<defaults>';
  fail({ file, key: `ports.${which}_max_port` }, `must not be below ports.${which}_min_port (${min}), got ${max}`);
}

/** A down upstream is probed after probe_interval, doubling up to max_probe_interval: the cap cannot be below the start. */
function checkProbeIntervals(m: Merged, c: Config): void {
  const { probeInterval, maxProbeInterval } = c.dns.recursorHealth;
  if (maxProbeInterval >= probeInterval) return;
  const base = 'dns_config.recursor_health';
  if (m.origins.has('dns.recursorHealth.maxProbeInterval')) {
    fail(where(m, 'dns.recursorHealth.maxProbeInterval', `${base}.max_probe_interval`),
      `must not be below probe_interval (${duration(probeInterval)}), got ${duration(maxProbeInterval)}`);
  }
  fail(where(m, 'dns.recursorHealth.probeInterval', `${base}.probe_interval`),
    `must not exceed max_probe_interval (${duration(maxProbeInterval)}, the default), got ${duration(probeInterval)}`);
}

function shareAddress(a: readonly string[], b: readonly string[]): string | undefined {
  for (const x of a) {
    for (const y of b) {
      if (isWildcard(x) || isWildcard(y) || (canonicalIp(x) ?? x) === (canonicalIp(y) ?? y)) return isWildcard(y) ? x : y;
    }
  }
  return undefined;
}

/** DNS listens on TCP too, so the HTTP API on the same port and address could never start. */
function checkPortClash(m: Merged, c: Config): void {
  if (c.dnsPort === 0 || c.http.port !== c.dnsPort) return;
  const shared = shareAddress(c.dnsAddresses, c.http.addresses);
  if (shared === undefined) return;
  const loc = m.origins.has('ports.http') ? where(m, 'ports.http', 'ports.http', '--http-port') : where(m, 'ports.dns', 'ports.dns', '--dns-port');
  fail(loc, `the DNS listener (TCP) and the HTTP API cannot share port ${c.dnsPort} on ${shared}: give one of ports.dns and ports.http another port`);
}

/** The longest name we build under a zone: `<32 hex digits>.addr.<dc>.<zone>`, an IPv6 service address as an SRV target. */
const LONGEST_PREFIX = 33 + 5;
const MAX_WIRE_NAME = 255;

/** Every answer names `….<dc>.<zone>`: together they must leave room for the names under them. */
function checkZoneLength(m: Merged, c: Config): void {
  const zones: [string | undefined, string, string, string][] = [
    [c.domain, 'domain', 'domain', '--domain'], [c.altDomain, 'altDomain', 'alt_domain', '--alt-domain'],
  ];
  for (const [zone, partPath, key, flag] of zones) {
    if (zone === undefined) continue;
    // Text "dc1.consul." is one octet shorter than its wire form.
    const wire = LONGEST_PREFIX + c.datacenter.length + 1 + zone.length + 1;
    if (wire <= MAX_WIRE_NAME) continue;
    fail(where(m, partPath, key, flag), `is too long with datacenter "${c.datacenter}": names under it such as `
      + `<32 hex digits>.addr.${c.datacenter}.<${key}> would be ${wire} octets, more than ${MAX_WIRE_NAME}`);
  }
}

/** The rules between keys of a built Config; throws CONFIG_VALUE at the first broken one. */
export function checkCrossKeys(m: Merged, c: Config): void {
  if (c.altDomain !== undefined && c.altDomain === c.domain) {
    fail(where(m, 'altDomain', 'alt_domain', '--alt-domain'), `must differ from domain (${c.domain})`);
  }
  checkZoneLength(m, c);
  checkPortClash(m, c);
  checkProbeIntervals(m, c);
}
