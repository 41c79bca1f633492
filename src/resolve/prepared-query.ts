// Prepared-query execution (Consul's PreparedQuery.Execute, semantics §10.2) over one snapshot; pure.
import type { HealthStatus, InstanceView, PreparedQuery, Snapshot } from '../catalog/types.js';
import type { DnsConfig } from '../config/types.js';
import { canonicalIp } from '../net/addr.js';
import type { QueryResult, QuerySource } from './prepared-query-types.js';
import { shuffle } from './select.js';
import { serviceTtl } from './ttl.js';

export interface ExecuteContext {
  /** [0, 1): the shuffle. */
  readonly random: () => number;
  /** Also drop warning instances when the query does not say OnlyPassing itself (DNS never sets this: Consul's only_passing is for .service). */
  readonly onlyPassingDefault?: boolean;
  readonly serviceTtl: DnsConfig['serviceTtl'];
  /** The node `Near: "_agent"` means: this server's own. */
  readonly agentNode: string;
}

const RANK: Record<HealthStatus, number> = { passing: 0, warning: 1, critical: 2 };

/** Worst status over the checks that count: IgnoreCheckIDs take a check out of the verdict entirely. */
function statusIgnoring(view: InstanceView, ignored: ReadonlySet<string>): HealthStatus {
  if (ignored.size === 0) return view.status;
  let worst: HealthStatus = 'passing';
  for (const c of view.checks) if (!ignored.has(c.id) && RANK[c.status] > RANK[worst]) worst = c.status;
  return worst;
}

function metaMatches(have: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(want)) if (have[k] !== v) return false;
  return true;
}

/** Every plain tag present and every `!tag` absent, case-insensitively (Consul's tagFilter). */
function tagsMatch(have: readonly string[], want: readonly string[]): boolean {
  if (want.length === 0) return true;
  const own = new Set(have.map((t) => t.toLowerCase()));
  for (const raw of want) {
    const t = raw.toLowerCase();
    if (t.startsWith('!') ? own.has(t.slice(1)) : !own.has(t)) return false;
  }
  return true;
}

/** The node Near names, or undefined for no sort ("" or an `_ip` that matches no node). */
function nearNode(near: string, snapshot: Snapshot, source: QuerySource, agentNode: string): string | undefined {
  if (near === '') return undefined;
  if (near === '_agent') return agentNode;
  if (near === '_ip') {
    const ip = source.ip === undefined ? undefined : canonicalIp(source.ip);
    return ip === undefined ? undefined : snapshot.nodesByAddress(ip)[0]?.name;
  }
  return near;
}

/**
 * Consul sorts by network-coordinate RTT from the Near node. There are no coordinates here (no gossip), so
 * the only distance known is zero: instances on that node go first, the rest keep their shuffled order.
 */
function nearFirst(views: readonly InstanceView[], node: string): InstanceView[] {
  const key = node.toLowerCase();
  const on = views.filter((v) => v.node.name.toLowerCase() === key);
  if (on.length === 0) return [...views];
  return [...on, ...views.filter((v) => v.node.name.toLowerCase() !== key)];
}

export function executePreparedQuery(snapshot: Snapshot, query: PreparedQuery, source: QuerySource, ctx: ExecuteContext): QueryResult {
  const s = query.service;
  // Connect queries select what `.connect` selects; their tags and meta are the proxy's or the native instance's.
  const candidates = s.connect ? snapshot.connectEndpoints(s.service) : snapshot.serviceInstances(s.service);
  const onlyPassing = s.onlyPassing || (ctx.onlyPassingDefault ?? false);
  const ignored = new Set(s.ignoreCheckIds);
  const kept = candidates.filter((v) => {
    const status = statusIgnoring(v, ignored);
    if (status === 'critical' || (onlyPassing && status === 'warning')) return false;
    return metaMatches(v.node.meta, s.nodeMeta) && metaMatches(v.instance.meta, s.serviceMeta) && tagsMatch(v.instance.tags, s.tags);
  });
  const shuffled = shuffle(kept, ctx.random);
  const near = nearNode(s.near, snapshot, source, ctx.agentNode);
  // Failover is accepted but has nowhere to go: this is the only datacenter, so an empty result stays empty.
  return {
    datacenter: snapshot.datacenter,
    nodes: near === undefined ? shuffled : nearFirst(shuffled, near),
    ttl: query.dns.ttl ?? serviceTtl(s.service, ctx.serviceTtl),
  };
}
