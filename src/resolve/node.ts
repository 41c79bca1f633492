// `.node` lookups: the node's address (A/AAAA, or CNAME for a hostname) and its meta as TXT.
import { RrType } from '../dns/records.js';
import type { Answer } from '../dns/records.js';
import { buildAddressRecords } from './address-records.js';
import { buildAnswer, buildEmpty, buildNxdomain } from './answer.js';
import { buildSoa } from './apex.js';
import type { Env } from './env.js';
import { buildMetaTxt } from './txt.js';

const NODE_QTYPES: ReadonlySet<number> = new Set([RrType.ANY, RrType.A, RrType.AAAA, RrType.TXT]);

export function resolveNode(env: Env, nodeName: string): Answer {
  const { query, snapshot, ctx } = env;
  // Consul answers other qtypes with a bare NOERROR (no SOA), before even looking the node up.
  if (!NODE_QTYPES.has(query.qtype)) return buildEmpty();
  const node = snapshot.node(nodeName);
  if (node === undefined) return buildNxdomain(buildSoa(env.zone, ctx));
  const ttl = ctx.dns.nodeTtl;
  const records = buildAddressRecords(env, query.name, node.address, query.qtype, ttl);
  const meta = buildMetaTxt(query.name, node.meta, ttl);
  const metaInAnswer = query.qtype === RrType.ANY || query.qtype === RrType.TXT;
  return buildAnswer({
    answer: [...records.records, ...(metaInAnswer ? meta : [])],
    additional: !metaInAnswer && ctx.dns.enableAdditionalNodeMetaTxt ? meta : [],
  });
}
