// Records for one address (IP literal or hostname) as a given qtype: A/AAAA, or a CNAME with its in-zone resolution.
import { RrType } from '../dns/records.js';
import type { Rr } from '../dns/records.js';
import { canonicalIp, isIp } from '../net/addr.js';
import { buildIpRecord } from './apex.js';
import { isDnsName } from './dns-name.js';
import type { Env } from './env.js';
import { toFqdn } from './zone.js';

export type AddressRecords =
  | { readonly kind: 'ip'; readonly records: readonly Rr[] }
  | { readonly kind: 'cname'; readonly records: readonly Rr[] };

const CNAME_QTYPES: ReadonlySet<number> = new Set([RrType.A, RrType.AAAA, RrType.ANY, RrType.TXT, RrType.CNAME]);

/** Which chased records a qtype wants: an A question gets no AAAA, a CNAME question only the alias. */
function wantsChased(qtype: number, rr: Rr): boolean {
  if (qtype === RrType.A) return rr.type === 'A';
  if (qtype === RrType.AAAA) return rr.type === 'AAAA';
  if (qtype === RrType.CNAME) return false;
  return rr.type === 'A' || rr.type === 'AAAA';
}

export function buildAddressRecords(env: Env, owner: string, address: string, qtype: number, ttl: number): AddressRecords {
  if (isIp(address)) {
    const rr = buildIpRecord(owner, address, ttl);
    if (rr === undefined) return { kind: 'ip', records: [] };
    const wanted = qtype === RrType.ANY || (rr.type === 'A' ? qtype === RrType.A : qtype === RrType.AAAA);
    return { kind: 'ip', records: wanted ? [rr] : [] };
  }
  if (!CNAME_QTYPES.has(qtype)) return { kind: 'ip', records: [] };
  const target = toFqdn(address);
  // A host name that cannot be written as a DNS name gives no alias rather than an unencodable reply.
  if (!isDnsName(target)) return { kind: 'ip', records: [] };
  const chased = env.chase(target).filter((rr) => wantsChased(qtype, rr)).map((rr) => ({ ...rr, ttl }));
  return { kind: 'cname', records: [{ type: 'CNAME', name: owner, ttl, target }, ...chased] };
}

/** Whether two catalog addresses are the same (IPs compared in canonical form, hostnames case-insensitively). */
export function isSameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  const ia = canonicalIp(a);
  const ib = canonicalIp(b);
  if (ia !== undefined || ib !== undefined) return ia === ib;
  return toFqdn(a).toLowerCase() === toFqdn(b).toLowerCase();
}
