// `<hex>.addr` lookups: the literal IP encoded in the name (the SRV target format for service addresses).
import { RrType } from '../dns/records.js';
import type { Answer } from '../dns/records.js';
import { buildAnswer, buildEmpty, buildNodata } from './answer.js';
import { buildIpRecord, buildSoa } from './apex.js';
import type { Env } from './env.js';

/** `ip` null: the label decoded to neither 4 nor 16 bytes. */
export function resolveAddr(env: Env, ip: string | null): Answer {
  if (ip === null) return buildEmpty();
  const { query, ctx } = env;
  // Owned by the lower-cased name, as Consul does; clients match case-insensitively anyway.
  const rr = buildIpRecord(query.qname, ip, ctx.dns.nodeTtl);
  if (rr === undefined) return buildEmpty();
  const family = rr.type === 'A' ? RrType.A : RrType.AAAA;
  if (query.qtype === family || query.qtype === RrType.ANY) return buildAnswer({ answer: [rr] });
  // Another qtype: nothing of that type exists, but the address is still useful to the client.
  return buildNodata(buildSoa(env.zone, ctx), [rr]);
}
