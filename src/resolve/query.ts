// `<id-or-name>.query` lookups: run the prepared query, then answer exactly like `.service` (semantics §10.1).
import type { Answer } from '../dns/records.js';
import { buildNxdomain } from './answer.js';
import { buildSoa } from './apex.js';
import type { Env } from './env.js';
import { executePreparedQuery } from './prepared-query.js';
import { buildInstancesAnswer } from './service.js';

export function resolvePreparedQuery(env: Env, idOrName: string): Answer {
  const { snapshot, ctx, query } = env;
  const pq = snapshot.preparedQuery(idOrName);
  if (!pq) return buildNxdomain(buildSoa(env.zone, ctx));
  // Consul's DNS passes the client as the query's source (for Near "_ip") and never the Connect or Limit flags.
  const result = executePreparedQuery(snapshot, pq, { ip: query.client.address }, {
    random: ctx.random, serviceTtl: ctx.dns.serviceTtl, agentNode: snapshot.localNode.name,
  });
  if (result.nodes.length === 0) return buildNxdomain(buildSoa(env.zone, ctx));
  // No DNS-side shuffle: execution shuffled, then Near-sorted, and that order is the answer's.
  return buildInstancesAnswer(env, result.nodes, result.ttl);
}
