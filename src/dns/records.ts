// Our own typed DNS model, shared by every layer; dns2 types never leave src/dns/.

export const RrType = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41,
  IXFR: 251, AXFR: 252, ANY: 255,
} as const;
export type RrTypeName = keyof typeof RrType;

export const Rcode = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, BADVERS: 16,
} as const;
export type RcodeName = keyof typeof Rcode;

export const DnsClass = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

/** Every name in the model is a fully qualified name with its trailing dot. */
interface RrBase {
  readonly name: string;
  readonly ttl: number;
}
export type ARecord = RrBase & { readonly type: 'A'; readonly address: string };
export type AaaaRecord = RrBase & { readonly type: 'AAAA'; readonly address: string };
export type CnameRecord = RrBase & { readonly type: 'CNAME'; readonly target: string };
export type NsRecord = RrBase & { readonly type: 'NS'; readonly target: string };
export type PtrRecord = RrBase & { readonly type: 'PTR'; readonly target: string };
export type SrvRecord = RrBase & {
  readonly type: 'SRV';
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
};
export type TxtRecord = RrBase & { readonly type: 'TXT'; readonly data: readonly string[] };
export type SoaRecord = RrBase & {
  readonly type: 'SOA';
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
};
export type Rr =
  | ARecord | AaaaRecord | CnameRecord | NsRecord | PtrRecord | SrvRecord | TxtRecord | SoaRecord;

export interface Edns {
  /** The client's advertised UDP payload size (OPT CLASS), at least 512 once normalised. */
  readonly udpSize: number;
  readonly version: number;
  readonly do: boolean;
}

export type Transport = 'udp' | 'tcp';

/** A decoded, validated query, built once at the edge (src/dns/). */
export interface Query {
  readonly id: number;
  /** As asked, echoed back, FQDN: "Redis.Connect.Consul." */
  readonly name: string;
  /** Canonical for matching: lower-cased FQDN "redis.connect.consul." */
  readonly qname: string;
  readonly qtype: number;
  readonly qclass: number;
  readonly rd: boolean;
  readonly cd: boolean;
  readonly proto: Transport;
  readonly client: { readonly address: string; readonly port: number };
  readonly edns?: Edns;
  /** The query exactly as received (TCP: without the 2-byte length prefix). */
  readonly raw: Buffer;
  /** Offset just past the question's QCLASS in `raw`: raw[12, questionEnd) is the question. */
  readonly questionEnd: number;
}

/** What an in-zone lookup produces; the edge adds header bits, the question and OPT. */
export interface Answer {
  readonly rcode: number;
  readonly aa: boolean;
  readonly answer: readonly Rr[];
  readonly authority: readonly Rr[];
  readonly additional: readonly Rr[];
  /** Set when records were dropped by count (udp_answer_limit) and enable_truncate asks for TC. */
  readonly tc?: boolean;
}

/**
 * Additional kept in step with Answer (Consul's syncExtra, de-duplicated): for each SRV/CNAME/NS
 * target in the answer, in order, the Additional records owned by that name (and, for CNAME
 * chains inside Additional, by their targets), each record once. Records whose owner is not a
 * target of any answer are dropped, unless the answer holds no SRV/NS/CNAME at all, in which case
 * Additional (for example node-meta TXT of an A answer) is kept, de-duplicated.
 */
export function syncAdditional(answer: readonly Rr[], additional: readonly Rr[]): Rr[] {
  if (!answer.some(hasTarget)) return dedupeRecords(additional);
  return ownedAdditional(answer, additional);
}

/**
 * Only the Additional records some SRV/CNAME/NS target of the answer owns (directly or through a
 * CNAME chain inside Additional), in target order, each once; nothing when the answer has no targets.
 * This is what size fitting keeps: everything else in Additional is optional (RFC 2181 §9).
 */
export function ownedAdditional(answer: readonly Rr[], additional: readonly Rr[]): Rr[] {
  const targets: string[] = [];
  for (const rr of answer) if (hasTarget(rr)) targets.push(rr.target.toLowerCase());
  if (targets.length === 0) return [];
  const byOwner = new Map<string, Rr[]>();
  for (const rr of additional) {
    const owner = rr.name.toLowerCase();
    const list = byOwner.get(owner);
    if (list) list.push(rr);
    else byOwner.set(owner, [rr]);
  }
  const seen = new Set<string>();
  const out: Rr[] = [];
  const visited = new Set<string>();
  const visit = (owner: string, depth: number): void => {
    if (visited.has(owner) || depth > 8) return;
    visited.add(owner);
    for (const rr of byOwner.get(owner) ?? []) {
      const key = rrKey(rr);
      if (!seen.has(key)) {
        seen.add(key);
        out.push(rr);
      }
      if (rr.type === 'CNAME') visit(rr.target.toLowerCase(), depth + 1);
    }
  };
  for (const t of targets) visit(t, 0);
  return out;
}

function hasTarget(rr: Rr): rr is SrvRecord | CnameRecord | NsRecord {
  return rr.type === 'SRV' || rr.type === 'CNAME' || rr.type === 'NS';
}

/** Records once each, in first-seen order (owner case-insensitive, TTL ignored). */
export function dedupeRecords(records: readonly Rr[]): Rr[] {
  const seen = new Set<string>();
  const out: Rr[] = [];
  for (const rr of records) {
    const key = rrKey(rr);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(rr);
  }
  return out;
}

/** A key that identifies a record's content (owner case-insensitive, TTL ignored). */
export function rrKey(rr: Rr): string {
  const owner = rr.name.toLowerCase();
  switch (rr.type) {
    case 'A':
    case 'AAAA':
      return `${owner}|${rr.type}|${rr.address}`;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return `${owner}|${rr.type}|${rr.target.toLowerCase()}`;
    case 'SRV':
      return `${owner}|SRV|${rr.priority}|${rr.weight}|${rr.port}|${rr.target.toLowerCase()}`;
    case 'TXT':
      return `${owner}|TXT|${rr.data.join('\u0000')}`;
    case 'SOA':
      return `${owner}|SOA|${rr.mname}|${rr.rname}|${rr.serial}`;
  }
}
