// `.service` and `.connect` lookups: select, filter, shuffle, build, apply count limits.
import { RrType } from '../dns/records.js';
import type { Answer } from '../dns/records.js';
import type { InstanceView } from '../catalog/types.js';
import { buildAnswer, buildNodata, buildNxdomain } from './answer.js';
import { buildSoa } from './apex.js';
import type { Env } from './env.js';
import { maxAnswerCount } from './limits.js';
import { filterHealthy, shuffle } from './select.js';
import { buildServiceAddressRecords, buildSrvRecords, type BuiltRecords } from './service-records.js';
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
  const max = env.internal ? Number.POSITIVE_INFINITY : maxAnswerCount(query, ctx.dns);
  const limited = query.qtype === RrType.SRV
    ? limitSrv(buildSrvRecords(env, ordered, ttl), max)
    // Address answers are limited while they are built, so Additional holds only the kept instances' meta.
    : buildServiceAddressRecords(env, ordered, ttl, max);
  const tc = limited.dropped && ctx.dns.enableTruncate;
  if (limited.answer.length === 0 && !tc) return buildNodata(buildSoa(env.zone, ctx), limited.additional);
  return buildAnswer({ answer: limited.answer, additional: limited.additional, tc });
}

/** SRV Additional is owned by the targets, so buildAnswer's sync drops what belonged to cut records. */
function limitSrv(built: BuiltRecords, max: number): BuiltRecords & { dropped: boolean } {
  if (built.answer.length <= max) return { ...built, dropped: false };
  // With no SRV left there is no target to sync against: the glue of cut records must go explicitly.
  return { answer: built.answer.slice(0, max), additional: max > 0 ? built.additional : [], dropped: true };
}
