// `.service` and `.connect` lookups: select, filter, shuffle, build, apply count limits.
import { RrType } from '../dns/records.js';
import type { Answer } from '../dns/records.js';
import type { InstanceView } from '../catalog/types.js';
import { buildAnswer, buildNodata, buildNxdomain } from './answer.js';
import { buildSoa } from './apex.js';
import type { Env } from './env.js';
import { limitAnswerCount } from './limits.js';
import { filterHealthy, shuffle } from './select.js';
import { buildServiceAddressRecords, buildSrvRecords } from './service-records.js';
import { serviceTtl } from './ttl.js';

export interface ServiceLookup {
  readonly kind: 'service' | 'connect';
  readonly service: string;
  readonly tag?: string;
}

export function resolveService(env: Env, lookup: ServiceLookup): Answer {
  const { snapshot, ctx } = env;
  // `.connect` never returns the plain instance: only proxies for it and Connect-native instances.
  const candidates = lookup.kind === 'connect'
    ? snapshot.connectEndpoints(lookup.service)
    : snapshot.serviceInstances(lookup.service, lookup.tag);
  const healthy = filterHealthy(candidates, ctx.dns.onlyPassing);
  if (healthy.length === 0) return buildNxdomain(buildSoa(env.zone, ctx));
  const ordered = shuffle(healthy, ctx.random);
  // The TTL follows the name asked (the destination for `.connect`), not the proxy's own name.
  const ttl = serviceTtl(lookup.service, ctx.dns.serviceTtl);
  return buildInstancesAnswer(env, ordered, ttl);
}

/**
 * Records for instances already selected and ordered (`.service`, `.connect` and `.query` alike): SRV or
 * address records, count limits, TC, and the NODATA case.
 */
export function buildInstancesAnswer(env: Env, ordered: readonly InstanceView[], ttl: number): Answer {
  const { query, ctx } = env;
  const built = query.qtype === RrType.SRV ? buildSrvRecords(env, ordered, ttl) : buildServiceAddressRecords(env, ordered, ttl);
  const limited = env.internal ? { answer: built.answer, dropped: false } : limitAnswerCount(built.answer, query, ctx.dns);
  const tc = limited.dropped && ctx.dns.enableTruncate;
  // Additional that belonged to dropped records must go with them.
  const additional = limited.dropped && limited.answer.length === 0 ? [] : built.additional;
  if (limited.answer.length === 0 && !tc) return buildNodata(buildSoa(env.zone, ctx), additional);
  return buildAnswer({ answer: limited.answer, additional, tc });
}
