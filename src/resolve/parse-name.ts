// The pure query-name parser: Consul 1.2's grammar (agent/dns.go dispatch) as a tagged union.
import { RrType } from '../dns/records.js';
import { ipToText } from '../net/addr.js';

export type Lookup =
  | { readonly kind: 'service'; readonly service: string; readonly tag?: string; readonly dc?: string }
  | { readonly kind: 'connect'; readonly service: string; readonly dc?: string }
  | { readonly kind: 'node'; readonly node: string; readonly dc?: string }
  | { readonly kind: 'query'; readonly query: string; readonly dc?: string }
  /** `ip` null: the hex label decodes but is neither 4 nor 16 bytes (Consul answers NOERROR, empty). */
  | { readonly kind: 'addr'; readonly ip: string | null; readonly dc?: string };

export interface Invalid {
  readonly kind: 'invalid';
  readonly reason: string;
}

const invalid = (reason: string): Invalid => ({ kind: 'invalid', reason });

function withDc<T extends object>(value: T, dc: string | undefined): T & { dc?: string } {
  return dc === undefined ? value : { ...value, dc };
}

function parseAddrLabel(label: string): string | null | undefined {
  // hex.DecodeString semantics: odd length or a non-hex character is an error (NXDOMAIN).
  if (label.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(label)) return undefined;
  const b = Buffer.from(label, 'hex');
  return b.length === 4 || b.length === 16 ? ipToText(b) : null;
}

/**
 * Parses the labels left of the zone (lower-case, e.g. ["v1", "web", "service", "dc1"]).
 * Datacenter validity is not judged here: `dc` is whatever label sat in the datacenter position.
 */
export function parseLabels(input: readonly string[], qtype: number): Lookup | Invalid {
  let labels = [...input];
  let dc: string | undefined;
  for (;;) {
    let n = labels.length;
    if (n === 0) return invalid('no lookup keyword');
    // RFC 2782: ".service" may be left out of an SRV query whose last label starts with "_".
    if (qtype === RrType.SRV && labels[n - 1]!.startsWith('_')) {
      labels = [...labels, 'service'];
      n += 1;
    }
    const kind = labels[n - 1]!;
    switch (kind) {
      case 'service': {
        if (n === 1) return invalid('service name missing');
        const a = labels[0]!;
        const b = labels[1]!;
        if (n === 3 && a.startsWith('_') && b.startsWith('_')) {
          const tag = b.slice(1);
          return withDc({ kind: 'service', service: a.slice(1), ...(tag === 'tcp' ? {} : { tag }) }, dc);
        }
        const service = labels[n - 2]!;
        const tag = n >= 3 ? labels.slice(0, n - 2).join('.') : '';
        return withDc({ kind: 'service', service, ...(tag === '' ? {} : { tag }) }, dc);
      }
      case 'connect':
        if (n === 1) return invalid('service name missing');
        // Labels left of the service are ignored, as Consul does.
        return withDc({ kind: 'connect', service: labels[n - 2]! }, dc);
      case 'node':
        if (n === 1) return invalid('node name missing');
        return withDc({ kind: 'node', node: labels.slice(0, n - 1).join('.') }, dc);
      case 'query':
        if (n === 1) return invalid('query name missing');
        return withDc({ kind: 'query', query: labels.slice(0, n - 1).join('.') }, dc);
      case 'addr': {
        if (n !== 2) return invalid('.addr takes exactly one label');
        const ip = parseAddrLabel(labels[0]!);
        if (ip === undefined) return invalid('.addr label is not hex');
        return withDc({ kind: 'addr', ip }, dc);
      }
      default:
        // Datacenter names cannot contain dots: only one label may sit between keyword and zone.
        if (dc !== undefined) return invalid('unknown lookup keyword');
        dc = kind;
        labels = labels.slice(0, n - 1);
    }
  }
}

/** Parses a lower-case FQDN inside `zone` (lower-case FQDN). */
export function parseName(qname: string, zone: string, qtype: number): Lookup | Invalid {
  if (qname === zone) return parseLabels([], qtype);
  if (!qname.endsWith(`.${zone}`) && zone !== '.') return invalid('outside the zone');
  const rest = zone === '.' ? qname.slice(0, -1) : qname.slice(0, qname.length - zone.length - 1);
  return parseLabels(rest.split('.'), qtype);
}
