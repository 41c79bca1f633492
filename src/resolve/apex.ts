// Zone apex records: the SOA (also the negative-answer SOA) and the NS set with its glue.
import { RrType } from '../dns/records.js';
import type { Answer, NsRecord, Rr, SoaRecord } from '../dns/records.js';
import type { Snapshot } from '../catalog/types.js';
import { canonicalIp, ipFamily } from '../net/addr.js';
import { buildAnswer } from './answer.js';
import type { ResolveContext } from './types.js';

/** The zone's SOA; its own TTL is min_ttl, which makes it the negative TTL (RFC 2308). */
export function buildSoa(zone: string, ctx: ResolveContext): SoaRecord {
  const soa = ctx.dns.soa;
  return {
    type: 'SOA',
    name: zone,
    ttl: soa.minTtl,
    mname: `ns.${zone}`,
    rname: `hostmaster.${zone}`,
    serial: Math.floor(ctx.now()) >>> 0,
    refresh: soa.refresh,
    retry: soa.retry,
    expire: soa.expire,
    minimum: soa.minTtl,
  };
}

/** A/AAAA of an IP literal owned by `owner`; nothing for a hostname. */
export function buildIpRecord(owner: string, address: string, ttl: number): Rr | undefined {
  const ip = canonicalIp(address);
  if (ip === undefined) return undefined;
  return ipFamily(ip) === 4 ? { type: 'A', name: owner, ttl, address: ip } : { type: 'AAAA', name: owner, ttl, address: ip };
}

/**
 * A standalone server is its own name server: the local node, skipped if its name is not a hostname label
 * (Consul only warns about a node name over 63 octets; the zone's SOA must still answer).
 */
export function buildNameServers(zone: string, snapshot: Snapshot, ctx: ResolveContext): { ns: NsRecord[]; glue: Rr[] } {
  const node = snapshot.localNode;
  if (!/^[A-Za-z0-9-]{1,63}$/.test(node.name)) return { ns: [], glue: [] };
  const target = `${node.name}.node.${snapshot.datacenter}.${zone}`.toLowerCase();
  // 253 characters of dotted text (plus the root) is the 255-octet wire limit.
  if (target.length > 254) return { ns: [], glue: [] };
  const ttl = ctx.dns.nodeTtl;
  const glue = buildIpRecord(target, node.address, ttl);
  return { ns: [{ type: 'NS', name: zone, ttl, target }], glue: glue ? [glue] : [] };
}

/** SOA or NS asked at any name in the zone. */
export function buildApexAnswer(qtype: number, zone: string, snapshot: Snapshot, ctx: ResolveContext): Answer {
  const { ns, glue } = buildNameServers(zone, snapshot, ctx);
  if (qtype === RrType.SOA) return buildAnswer({ answer: [buildSoa(zone, ctx)], authority: ns, additional: glue });
  return buildAnswer({ answer: ns, additional: glue });
}
