// Builds an immutable, indexed Snapshot from a CatalogInput; lookups cost O(answer), not O(catalog).
import { canonicalIp } from '../net/addr.js';
import type {
  CatalogInput, CatalogNode, Check, HealthStatus, InstanceView, ServiceInstance, Snapshot,
} from './types.js';

const RANK: Record<HealthStatus, number> = { passing: 0, warning: 1, critical: 2 };

export function worstStatus(checks: readonly Check[]): HealthStatus {
  let worst: HealthStatus = 'passing';
  for (const c of checks) if (RANK[c.status] > RANK[worst]) worst = c.status;
  return worst;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const EMPTY: readonly never[] = Object.freeze([]);

export function createSnapshot(input: CatalogInput, version: number): Snapshot {
  const nodesByName = new Map<string, CatalogNode>();
  const nodeList: CatalogNode[] = [];
  const addNode = (n: CatalogNode): void => {
    const key = n.name.toLowerCase();
    if (nodesByName.has(key)) return;
    nodesByName.set(key, n);
    nodeList.push(n);
  };
  addNode(input.localNode);
  for (const n of input.nodes) addNode(n);

  const nodeChecks = new Map<string, Check[]>();
  const serviceChecks = new Map<string, Check[]>();
  for (const c of input.checks) {
    const nodeKey = c.node.toLowerCase();
    if (c.serviceId === '') push(nodeChecks, nodeKey, c);
    else push(serviceChecks, `${nodeKey}\u0000${c.serviceId}`, c);
  }

  const byName = new Map<string, InstanceView[]>();
  const byTag = new Map<string, InstanceView[]>();
  const byConnect = new Map<string, InstanceView[]>();
  const byAddress = new Map<string, InstanceView[]>();
  const nodeByAddress = new Map<string, CatalogNode[]>();
  const all: InstanceView[] = [];

  for (const n of nodeList) {
    const ip = canonicalIp(n.address);
    if (ip) push(nodeByAddress, ip, n);
  }

  for (const s of input.services) {
    const nodeKey = s.node.toLowerCase();
    const node = nodesByName.get(nodeKey);
    if (!node) continue; // builders guarantee the node exists; never index an orphan
    const checks = [...(nodeChecks.get(nodeKey) ?? EMPTY), ...(serviceChecks.get(`${nodeKey}\u0000${s.id}`) ?? EMPTY)];
    const view: InstanceView = Object.freeze({ instance: s, node, checks: Object.freeze(checks), status: worstStatus(checks) });
    all.push(view);
    const name = s.service.toLowerCase();
    push(byName, name, view);
    const tags = new Set(s.tags.map((t) => t.toLowerCase()));
    for (const t of tags) push(byTag, `${name}\u0000${t}`, view);
    const dest = connectDestination(s);
    if (dest !== undefined) push(byConnect, dest.toLowerCase(), view);
    const ip = s.address ? canonicalIp(s.address) : undefined;
    if (ip) push(byAddress, ip, view);
  }

  const lookup = <T>(map: Map<string, T[]>, key: string): readonly T[] => map.get(key) ?? EMPTY;

  return Object.freeze({
    version,
    datacenter: input.datacenter,
    localNode: input.localNode,
    serviceInstances: (name: string, tag?: string) =>
      tag === undefined
        ? lookup(byName, name.toLowerCase())
        : lookup(byTag, `${name.toLowerCase()}\u0000${tag.toLowerCase()}`),
    connectEndpoints: (name: string) => lookup(byConnect, name.toLowerCase()),
    node: (name: string) => nodesByName.get(name.toLowerCase()),
    nodes: () => nodeList,
    nodesByAddress: (ip: string) => lookup(nodeByAddress, ip),
    instancesByAddress: (ip: string) => lookup(byAddress, ip),
    instances: () => all,
    checks: () => input.checks,
  });
}

/** The name under which an instance is Connect-capable, per Consul's connect index; undefined for plain instances. */
export function connectDestination(s: ServiceInstance): string | undefined {
  if (s.kind === 'connect-proxy') return s.proxy?.destinationServiceName || undefined;
  if (s.connectNative) return s.service;
  return undefined;
}
