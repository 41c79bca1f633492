// Reverse lookups under in-addr.arpa./ip6.arpa.: node names first, then service names.
import { Rcode, RrType } from '../dns/records.js';
import type { Query, Rr } from '../dns/records.js';
import type { Snapshot } from '../catalog/types.js';
import { ipToText } from '../net/addr.js';
import { buildAnswer } from './answer.js';
import { buildSoa } from './apex.js';
import { isDnsName } from './dns-name.js';
import type { Resolution, ResolveContext } from './types.js';
import { ReverseZone } from './zone.js';

/** The IP a reverse name stands for (labels left of the zone, lower-case), or undefined if it is not one. */
export function parseReverseName(labels: readonly string[], zone: ReverseZone): string | undefined {
  if (zone === ReverseZone.V4) {
    if (labels.length !== 4) return undefined;
    const bytes: number[] = [];
    for (const label of [...labels].reverse()) {
      // Canonical decimal only: "01" is not a label any address reverses to.
      if (!/^(0|[1-9][0-9]{0,2})$/.test(label)) return undefined;
      const v = Number(label);
      if (v > 255) return undefined;
      bytes.push(v);
    }
    return ipToText(Buffer.from(bytes));
  }
  if (labels.length !== 32 || !labels.every((l) => /^[0-9a-f]$/.test(l))) return undefined;
  return ipToText(Buffer.from([...labels].reverse().join(''), 'hex'));
}

/**
 * The first node at `ip`, then the first service, whose name forms a writable DNS name: a node named
 * "bad node" is not discoverable via DNS (as in Consul), and must not turn the reply into SERVFAIL.
 */
function ptrTarget(snapshot: Snapshot, ip: string, ctx: ResolveContext): string | undefined {
  const dc = snapshot.datacenter.toLowerCase();
  for (const node of snapshot.nodesByAddress(ip)) {
    const target = `${node.name}.node.${dc}.${ctx.domain}`;
    if (isDnsName(target)) return target;
  }
  for (const view of snapshot.instancesByAddress(ip)) {
    const target = `${view.instance.service}.service.${dc}.${ctx.domain}`;
    if (isDnsName(target)) return target;
  }
  return undefined;
}

/** Any qtype under the reverse zones gets the PTR (as Consul); a miss is forwarded when recursors exist. */
export function resolvePtr(query: Query, labels: readonly string[], zone: ReverseZone, snapshot: Snapshot, ctx: ResolveContext): Resolution {
  const ip = parseReverseName(labels, zone);
  const target = ip === undefined ? undefined : ptrTarget(snapshot, ip, ctx);
  if (target === undefined) {
    if (ctx.recursors) return { kind: 'forward' };
    return { kind: 'answer', answer: buildAnswer({ rcode: Rcode.NXDOMAIN, authority: [buildSoa(ctx.domain, ctx)] }) };
  }
  const ptr: Rr = { type: 'PTR', name: query.name, ttl: 0, target };
  const authority = query.qtype === RrType.SOA ? [buildSoa(ctx.domain, ctx)] : [];
  return { kind: 'answer', answer: buildAnswer({ answer: [ptr], authority }) };
}
