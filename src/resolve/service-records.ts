// Record construction for service answers: SRV (Consul's serviceSRVRecords) and the rest (serviceNodeRecords).
import { dedupeRecords, RrType, rrKey } from '../dns/records.js';
import type { Rr, SrvRecord } from '../dns/records.js';
import type { InstanceView } from '../catalog/types.js';
import { canonicalIp, hexAddr, isIp } from '../net/addr.js';
import { buildAddressRecords, isSameAddress } from './address-records.js';
import { buildIpRecord } from './apex.js';
import { isDnsName } from './dns-name.js';
import type { Env } from './env.js';
import { buildMetaTxt } from './txt.js';
import { toFqdn } from './zone.js';

export interface BuiltRecords {
  readonly answer: readonly Rr[];
  readonly additional: readonly Rr[];
}

export function nodeTarget(env: Env, nodeName: string): string {
  return `${nodeName}.node.${env.dc}.${env.zone}`;
}

function weightOf(view: InstanceView): number {
  return view.status === 'warning' ? view.instance.weights.warning : view.instance.weights.passing;
}

/**
 * One SRV per distinct node:address:port. The target is the node name when the instance uses its node's
 * IP, an `.addr` name for another IP, and the hostname itself for a hostname address (RFC 2782 forbids
 * alias targets), with the target's addresses in Additional. An instance whose target cannot be written
 * as a DNS name (a node named "bad node") is left out rather than failing the whole answer.
 */
export function buildSrvRecords(env: Env, views: readonly InstanceView[], ttl: number): BuiltRecords {
  const answer: SrvRecord[] = [];
  const additional: Rr[] = [];
  const seen = new Set<string>();
  const metaTxt = env.ctx.dns.enableAdditionalNodeMetaTxt;
  for (const view of views) {
    const { instance, node } = view;
    const key = `${node.name.toLowerCase()}\u0000${instance.address}\u0000${instance.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const onNodeAddress = instance.address === '' || isSameAddress(instance.address, node.address);
    const address = onNodeAddress ? node.address : instance.address;
    const byNodeName = nodeTarget(env, node.name);
    const ip = isIp(address);
    const target = !ip ? toFqdn(address) : onNodeAddress ? byNodeName : `${hexAddr(address)}.addr.${env.dc}.${env.zone}`;
    if (!isDnsName(target)) continue;
    if (ip) {
      const rr = buildIpRecord(target, address, ttl);
      if (rr) additional.push(rr);
    } else {
      for (const rr of env.chase(target)) additional.push({ ...rr, ttl });
    }
    if (metaTxt && target === byNodeName) additional.push(...buildMetaTxt(byNodeName, node.meta, ttl));
    answer.push({ type: 'SRV', name: env.query.name, ttl, priority: 1, weight: weightOf(view), port: instance.port, target });
  }
  return { answer, additional };
}

/** One instance's contribution to an address answer: its A/AAAA (and, for ANY/TXT, its meta) and the meta TXT for Additional. */
interface AddressGroup {
  readonly answer: readonly Rr[];
  readonly additional: readonly Rr[];
}

export interface AddressRecords extends BuiltRecords {
  /** Answer records cut by `maxAnswers`. */
  readonly dropped: boolean;
}

/**
 * Address records, one instance per distinct address, at most `maxAnswers` answer records (Consul's
 * udp_answer_limit counts records). When the limit cuts, Additional holds the meta TXT of only the
 * instances that kept records in the answer, so it never describes nodes the client was not given.
 * A hostname yields a CNAME chain that is used only when no instance produced a direct record, and only
 * the first one, so a client never sees two aliases.
 */
export function buildServiceAddressRecords(env: Env, views: readonly InstanceView[], ttl: number,
  maxAnswers = Number.POSITIVE_INFINITY): AddressRecords {
  const { query, ctx } = env;
  const qtype = query.qtype;
  const metaInAnswer = qtype === RrType.ANY || qtype === RrType.TXT;
  const metaInAdditional = !metaInAnswer && ctx.dns.enableAdditionalNodeMetaTxt;
  const limit = ctx.dns.aRecordLimit;
  const groups: AddressGroup[] = [];
  let cnameChain: readonly Rr[] | undefined;
  const seen = new Set<string>();
  let produced = 0;
  for (const { instance, node } of views) {
    let address = instance.address !== '' ? instance.address : node.address;
    // A service whose address is the very name asked would alias itself: answer with its node instead.
    if (toFqdn(address).toLowerCase() === query.qname) address = node.address;
    const key = canonicalIp(address) ?? toFqdn(address).toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const records = buildAddressRecords(env, query.name, address, qtype, ttl);
    const meta = buildMetaTxt(query.name, node.meta, ttl);
    if (records.kind === 'cname') {
      cnameChain ??= [...records.records, ...(metaInAnswer ? meta : [])];
      continue;
    }
    const direct = [...records.records, ...(metaInAnswer ? meta : [])];
    groups.push({ answer: direct, additional: metaInAdditional ? meta : [] });
    if (direct.length > 0) {
      produced++;
      if (limit > 0 && produced >= limit) break;
    }
  }
  const answer: Rr[] = [];
  const keys = new Set<string>();
  const kept: AddressGroup[] = [];
  let dropped = false;
  for (const g of groups) {
    const fresh: Rr[] = [];
    for (const rr of g.answer) {
      const k = rrKey(rr);
      if (!keys.has(k)) { keys.add(k); fresh.push(rr); }
    }
    const room = maxAnswers - answer.length;
    if (fresh.length > room) {
      // This instance keeps the records that still fit; every later one is cut entirely.
      answer.push(...fresh.slice(0, room));
      if (room > 0) kept.push(g);
      dropped = true;
      break;
    }
    answer.push(...fresh);
    if (fresh.length > 0) kept.push(g);
  }
  // Uncut, every instance's meta stays (Consul gives it even to an AAAA NODATA); cut, only the kept ones'.
  const additional = (dropped ? kept : groups).flatMap((g) => g.additional);
  if (answer.length === 0 && !dropped && cnameChain !== undefined) {
    const chain = dedupeRecords(cnameChain);
    return { answer: chain.slice(0, maxAnswers), additional: [], dropped: chain.length > maxAnswers };
  }
  return { answer, additional, dropped };
}
