// Record construction for service answers: SRV (Consul's serviceSRVRecords) and the rest (serviceNodeRecords).
import { RrType } from '../dns/records.js';
import type { Rr, SrvRecord } from '../dns/records.js';
import type { InstanceView } from '../catalog/types.js';
import { canonicalIp, hexAddr, isIp } from '../net/addr.js';
import { buildAddressRecords, isSameAddress } from './address-records.js';
import { buildIpRecord } from './apex.js';
import { dedupeRecords } from './answer.js';
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
 * alias targets), with the target's addresses in Additional.
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
    let target: string;
    if (isIp(address)) {
      target = onNodeAddress ? byNodeName : `${hexAddr(address)}.addr.${env.dc}.${env.zone}`;
      const rr = buildIpRecord(target, address, ttl);
      if (rr) additional.push(rr);
    } else {
      target = toFqdn(address);
      for (const rr of env.chase(target)) additional.push({ ...rr, ttl });
    }
    if (metaTxt && target === byNodeName) additional.push(...buildMetaTxt(byNodeName, node.meta, ttl));
    answer.push({ type: 'SRV', name: env.query.name, ttl, priority: 1, weight: weightOf(view), port: instance.port, target });
  }
  return { answer, additional };
}

/**
 * Address records, one instance per distinct address. A hostname yields a CNAME chain that is used only
 * when no instance produced a direct record, and only the first one, so a client never sees two aliases.
 */
export function buildServiceAddressRecords(env: Env, views: readonly InstanceView[], ttl: number): BuiltRecords {
  const { query, ctx } = env;
  const qtype = query.qtype;
  const metaInAnswer = qtype === RrType.ANY || qtype === RrType.TXT;
  const limit = ctx.dns.aRecordLimit;
  const answer: Rr[] = [];
  const additional: Rr[] = [];
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
    answer.push(...direct);
    if (!metaInAnswer && ctx.dns.enableAdditionalNodeMetaTxt) additional.push(...meta);
    if (direct.length > 0) {
      produced++;
      if (limit > 0 && produced >= limit) break;
    }
  }
  if (answer.length === 0 && cnameChain !== undefined) return { answer: dedupeRecords(cnameChain), additional: [] };
  return { answer: dedupeRecords(answer), additional };
}
