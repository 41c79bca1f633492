// The pure resolver's entry point: class and zone routing, then dispatch by lookup kind.
import { DnsClass, Rcode, RrType } from '../dns/records.js';
import type { Answer, Query, Rr } from '../dns/records.js';
import type { Snapshot } from '../catalog/types.js';
import { resolveAddr } from './addr.js';
import { buildApexAnswer, buildSoa } from './apex.js';
import { buildNxdomain, buildRcodeOnly } from './answer.js';
import type { Env } from './env.js';
import { resolveNode } from './node.js';
import { parseName } from './parse-name.js';
import { resolvePtr } from './ptr.js';
import { resolvePreparedQuery } from './query.js';
import { resolveService } from './service.js';
import type { Resolution, ResolveContext } from './types.js';
import { findZone } from './zone.js';

/** How many names deep an in-zone alias chain is followed (Consul 1.5+ uses 3). */
export const MAX_CHASE_DEPTH = 3;

export function resolveQuery(query: Query, snapshot: Snapshot, ctx: ResolveContext): Resolution {
  if (query.qclass !== DnsClass.IN && query.qclass !== DnsClass.ANY) {
    return { kind: 'answer', answer: buildRcodeOnly(Rcode.REFUSED, false) };
  }
  const match = findZone(query.qname, ctx);
  if (match === undefined) return ctx.recursors ? { kind: 'forward' } : { kind: 'refused' };
  if (query.qtype === RrType.AXFR || query.qtype === RrType.IXFR) {
    return { kind: 'answer', answer: buildRcodeOnly(Rcode.NOTIMP, true) };
  }
  if (match.kind === 'reverse') return resolvePtr(query, match.labels, match.zone, snapshot, ctx);
  // An SRV question is not an alias, so its own name may be chased once (a service addressed by its own name).
  const stack = query.qtype === RrType.SRV ? [] : [query.qname];
  return { kind: 'answer', answer: resolveInZone(query, match.zone, snapshot, ctx, stack, false) };
}

/**
 * `stack`: lower-case names being resolved as aliases above this one (loop and depth guard);
 * `internal`: resolving an alias target for another answer, so no count limits.
 */
function resolveInZone(
  query: Query, zone: string, snapshot: Snapshot, ctx: ResolveContext, stack: readonly string[], internal: boolean,
): Answer {
  if (query.qtype === RrType.SOA || query.qtype === RrType.NS) return buildApexAnswer(query.qtype, zone, snapshot, ctx);
  const lookup = parseName(query.qname, zone, query.qtype);
  if (lookup.kind === 'invalid') return buildNxdomain(buildSoa(zone, ctx));
  const dc = snapshot.datacenter.toLowerCase();
  // snapshot.datacenter is the only datacenter there is.
  if (lookup.dc !== undefined && lookup.dc !== dc) return buildNxdomain(buildSoa(zone, ctx));
  const env: Env = {
    query, snapshot, ctx, zone, dc, internal,
    chase: (hostname) => chase(hostname, query, snapshot, ctx, stack),
  };
  switch (lookup.kind) {
    case 'service':
    case 'connect':
      return resolveService(env, lookup);
    case 'node':
      return resolveNode(env, lookup.node);
    case 'addr':
      return resolveAddr(env, lookup.ip);
    case 'query':
      return resolvePreparedQuery(env, lookup.query);
  }
}

function chase(hostname: string, query: Query, snapshot: Snapshot, ctx: ResolveContext, stack: readonly string[]): readonly Rr[] {
  const qname = hostname.toLowerCase();
  if (stack.length >= MAX_CHASE_DEPTH || stack.includes(qname)) return [];
  const match = findZone(qname, ctx);
  if (match?.kind !== 'domain') return [];
  const sub: Query = { ...query, name: hostname, qname, qtype: RrType.ANY, qclass: DnsClass.IN };
  const answer = resolveInZone(sub, match.zone, snapshot, ctx, [...stack, qname], true);
  const out: Rr[] = [];
  for (const rr of answer.answer) {
    // Flattened: whatever chain led there, the addresses belong to the name the caller aliased.
    if (rr.type === 'A' || rr.type === 'AAAA') out.push({ ...rr, name: hostname });
  }
  return out;
}
