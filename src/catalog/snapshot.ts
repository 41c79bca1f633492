// An immutable, indexed Snapshot of the catalog; lookups cost O(answer), and a check change patches only what it touches.
import { canonicalIp } from '../net/addr.js';
import type {
  CatalogInput, CatalogNode, Check, HealthStatus, InstanceView, PreparedQuery, ServiceInstance, Snapshot,
} from './types.js';

const RANK: Record<HealthStatus, number> = { passing: 0, warning: 1, critical: 2 };

export function worstStatus(checks: readonly Check[]): HealthStatus {
  let worst: HealthStatus = 'passing';
  for (const c of checks) if (RANK[c.status] > RANK[worst]) worst = c.status;
  return worst;
}

/** The name under which an instance is Connect-capable, per Consul's connect index; undefined for plain instances. */
export function connectDestination(s: ServiceInstance): string | undefined {
  if (s.kind === 'connect-proxy') return s.proxy?.destinationServiceName || undefined;
  if (s.connectNative) return s.service;
  return undefined;
}

export const checkKey = (node: string, id: string): string => `${node.toLowerCase()}\u0000${id}`;
const serviceKey = (node: string, id: string): string => `${node.toLowerCase()}\u0000${id}`;

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const EMPTY: readonly never[] = Object.freeze([]);

/** Every index key an instance is listed under, in its index. */
function indexKeys(s: ServiceInstance): { byName: string; byTag: string[]; byConnect?: string; byAddress?: string } {
  const name = s.service.toLowerCase();
  const dest = connectDestination(s);
  const ip = s.address ? canonicalIp(s.address) : undefined;
  return {
    byName: name,
    byTag: [...new Set(s.tags.map((t) => `${name}\u0000${t.toLowerCase()}`))],
    ...(dest !== undefined ? { byConnect: dest.toLowerCase() } : {}),
    ...(ip ? { byAddress: ip } : {}),
  };
}

interface Indexes {
  readonly byName: Map<string, InstanceView[]>;
  readonly byTag: Map<string, InstanceView[]>;
  readonly byConnect: Map<string, InstanceView[]>;
  readonly byAddress: Map<string, InstanceView[]>;
}

class CatalogSnapshot implements Snapshot {
  constructor(
    readonly version: number,
    readonly datacenter: string,
    readonly localNode: CatalogNode,
    private readonly nodeList: readonly CatalogNode[],
    private readonly nodesByName: ReadonlyMap<string, CatalogNode>,
    private readonly nodeByAddress: ReadonlyMap<string, CatalogNode[]>,
    private readonly idx: Indexes,
    /** Views by node\0serviceId, in catalog order (Map keeps insertion order). */
    private readonly views: ReadonlyMap<string, InstanceView>,
    /** Checks by node\0checkId, in catalog order. */
    private readonly checkMap: ReadonlyMap<string, Check>,
    private readonly queries: readonly PreparedQuery[],
  ) {}

  serviceInstances(name: string, tag?: string): readonly InstanceView[] {
    const key = name.toLowerCase();
    return (tag === undefined ? this.idx.byName.get(key) : this.idx.byTag.get(`${key}\u0000${tag.toLowerCase()}`)) ?? EMPTY;
  }
  connectEndpoints(name: string): readonly InstanceView[] {
    return this.idx.byConnect.get(name.toLowerCase()) ?? EMPTY;
  }
  node(name: string): CatalogNode | undefined {
    return this.nodesByName.get(name.toLowerCase());
  }
  nodes(): readonly CatalogNode[] {
    return this.nodeList;
  }
  nodesByAddress(ip: string): readonly CatalogNode[] {
    return this.nodeByAddress.get(ip) ?? EMPTY;
  }
  instancesByAddress(ip: string): readonly InstanceView[] {
    return this.idx.byAddress.get(ip) ?? EMPTY;
  }
  private allViews?: readonly InstanceView[];
  instances(): readonly InstanceView[] {
    this.allViews ??= [...this.views.values()];
    return this.allViews;
  }
  private allChecks?: readonly Check[];
  checks(): readonly Check[] {
    this.allChecks ??= [...this.checkMap.values()];
    return this.allChecks;
  }
  preparedQuery(idOrName: string): PreparedQuery | undefined {
    const lower = idOrName.toLowerCase();
    return this.queries.find((q) => q.id === idOrName) ?? this.queries.find((q) => q.name !== '' && q.name.toLowerCase() === lower);
  }
  preparedQueries(): readonly PreparedQuery[] {
    return this.queries;
  }

  /**
   * A new snapshot with these checks' statuses (matched by node and ID) replaced. Only the instances
   * those checks apply to are rebuilt, and only the index buckets that list them are copied.
   */
  withChecks(updates: readonly Check[], version: number): CatalogSnapshot {
    const checkMap = new Map(this.checkMap);
    const touchedNodes = new Set<string>();
    const touchedServices = new Set<string>();
    for (const c of updates) {
      const key = checkKey(c.node, c.id);
      if (!checkMap.has(key)) continue;
      checkMap.set(key, c);
      if (c.serviceId === '') touchedNodes.add(c.node.toLowerCase());
      else touchedServices.add(serviceKey(c.node, c.serviceId));
    }
    const affected: string[] = [];
    for (const [key, view] of this.views) {
      if (touchedServices.has(key) || touchedNodes.has(view.node.name.toLowerCase())) affected.push(key);
    }
    if (affected.length === 0) return this.withVersion(version, checkMap);
    const views = new Map(this.views);
    const idx: Indexes = {
      byName: new Map(this.idx.byName), byTag: new Map(this.idx.byTag),
      byConnect: new Map(this.idx.byConnect), byAddress: new Map(this.idx.byAddress),
    };
    const copied = new Set<InstanceView[]>();
    const replaceIn = (map: Map<string, InstanceView[]>, key: string | undefined, old: InstanceView, next: InstanceView): void => {
      if (key === undefined) return;
      let list = map.get(key);
      if (!list) return;
      if (!copied.has(list)) {
        list = [...list];
        copied.add(list);
        map.set(key, list);
      }
      const i = list.indexOf(old);
      if (i >= 0) list[i] = next;
    };
    for (const key of affected) {
      const old = views.get(key) as InstanceView;
      const checks = old.checks.map((c) => checkMap.get(checkKey(c.node, c.id)) ?? c);
      const next: InstanceView = Object.freeze({ ...old, checks: Object.freeze(checks), status: worstStatus(checks) });
      views.set(key, next);
      const k = indexKeys(old.instance);
      replaceIn(idx.byName, k.byName, old, next);
      for (const t of k.byTag) replaceIn(idx.byTag, t, old, next);
      replaceIn(idx.byConnect, k.byConnect, old, next);
      replaceIn(idx.byAddress, k.byAddress, old, next);
    }
    return new CatalogSnapshot(version, this.datacenter, this.localNode, this.nodeList, this.nodesByName,
      this.nodeByAddress, idx, views, checkMap, this.queries);
  }

  private withVersion(version: number, checkMap: ReadonlyMap<string, Check>): CatalogSnapshot {
    return new CatalogSnapshot(version, this.datacenter, this.localNode, this.nodeList, this.nodesByName,
      this.nodeByAddress, this.idx, this.views, checkMap, this.queries);
  }
}

export function createSnapshot(input: CatalogInput, version: number): Snapshot {
  const nodesByName = new Map<string, CatalogNode>();
  const nodeList: CatalogNode[] = [];
  for (const n of [input.localNode, ...input.nodes]) {
    const key = n.name.toLowerCase();
    if (nodesByName.has(key)) continue;
    nodesByName.set(key, n);
    nodeList.push(n);
  }
  const nodeByAddress = new Map<string, CatalogNode[]>();
  for (const n of nodeList) {
    const ip = canonicalIp(n.address);
    if (ip) push(nodeByAddress, ip, n);
  }

  const checkMap = new Map<string, Check>();
  const nodeChecks = new Map<string, Check[]>();
  const serviceChecks = new Map<string, Check[]>();
  for (const c of input.checks) {
    if (!nodesByName.has(c.node.toLowerCase())) continue;
    checkMap.set(checkKey(c.node, c.id), c);
    if (c.serviceId === '') push(nodeChecks, c.node.toLowerCase(), c);
    else push(serviceChecks, serviceKey(c.node, c.serviceId), c);
  }

  const idx: Indexes = { byName: new Map(), byTag: new Map(), byConnect: new Map(), byAddress: new Map() };
  const views = new Map<string, InstanceView>();
  for (const s of input.services) {
    const node = nodesByName.get(s.node.toLowerCase());
    if (!node) continue; // builders guarantee the node exists; never index an orphan
    const key = serviceKey(s.node, s.id);
    const checks = [...(nodeChecks.get(s.node.toLowerCase()) ?? EMPTY), ...(serviceChecks.get(key) ?? EMPTY)];
    const view: InstanceView = Object.freeze({ instance: s, node, checks: Object.freeze(checks), status: worstStatus(checks) });
    views.set(key, view);
    const k = indexKeys(s);
    push(idx.byName, k.byName, view);
    for (const t of k.byTag) push(idx.byTag, t, view);
    if (k.byConnect !== undefined) push(idx.byConnect, k.byConnect, view);
    if (k.byAddress !== undefined) push(idx.byAddress, k.byAddress, view);
  }
  return new CatalogSnapshot(version, input.datacenter, input.localNode, nodeList, nodesByName, nodeByAddress, idx, views,
    checkMap, input.preparedQueries ?? EMPTY);
}

/** A snapshot with some checks' statuses replaced; see CatalogSnapshot.withChecks. */
export function withCheckUpdates(prev: Snapshot, updates: readonly Check[], version: number): Snapshot {
  if (!(prev instanceof CatalogSnapshot)) throw new TypeError('not a catalog snapshot');
  return prev.withChecks(updates, version);
}
