// Which zone a query name falls in: the Consul domain, the alt domain, or a reverse (PTR) zone.
import type { ResolveContext } from './types.js';

export const ReverseZone = { V4: 'in-addr.arpa.', V6: 'ip6.arpa.' } as const;
export type ReverseZone = (typeof ReverseZone)[keyof typeof ReverseZone];

export type ZoneMatch =
  /** `labels` are the lower-case labels left of the zone, outermost last ("a.b.consul." → ["a", "b"]). */
  | { readonly kind: 'domain'; readonly zone: string; readonly labels: readonly string[] }
  | { readonly kind: 'reverse'; readonly zone: ReverseZone; readonly labels: readonly string[] };

function labelsUnder(qname: string, zone: string): readonly string[] | undefined {
  if (qname === zone) return [];
  if (zone === '.') return qname.slice(0, -1).split('.');
  if (!qname.endsWith(`.${zone}`)) return undefined;
  return qname.slice(0, qname.length - zone.length - 1).split('.');
}

/** The longest of domain/alt domain that contains `qname` (lower-case FQDN), else a reverse zone, else undefined. */
export function findZone(qname: string, ctx: ResolveContext): ZoneMatch | undefined {
  let best: ZoneMatch | undefined;
  for (const zone of [ctx.domain, ctx.altDomain]) {
    if (zone === undefined || zone === '') continue;
    const labels = labelsUnder(qname, zone);
    if (labels === undefined) continue;
    if (best === undefined || zone.length > best.zone.length) best = { kind: 'domain', zone, labels };
  }
  if (best) return best;
  for (const zone of [ReverseZone.V4, ReverseZone.V6]) {
    const labels = labelsUnder(qname, zone);
    if (labels !== undefined) return { kind: 'reverse', zone, labels };
  }
  return undefined;
}

export function toFqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}
