// An immutable, indexed Snapshot of the catalog: lookups cost O(answer); a change copies only the buckets it touches.
import { EMPTY } from './buckets.js';
import { applyEdits, checkKey, emptyTables, LOCAL_SEQ, type SnapshotEdit, type Tables } from './snapshot-tables.js';
import type { CatalogInput, CatalogNode, Check, InstanceView, PreparedQuery, ServiceInstance, Snapshot } from './types.js';

export { checkKey, connectDestination, worstStatus, type SnapshotEdit } from './snapshot-tables.js';

class CatalogSnapshot implements Snapshot {
  constructor(
    readonly version: number,
    readonly datacenter: string,
    readonly localNode: CatalogNode,
    readonly tables: Tables,
    private readonly queries: readonly PreparedQuery[],
  ) {}

  serviceInstances(name: string, tag?: string): readonly InstanceView[] {
    const key = name.toLowerCase();
    const b = tag === undefined ? this.tables.byName.get(key) : this.tables.byTag.get(`${key}\u0000${tag.toLowerCase()}`);
    return b?.items ?? EMPTY;
  }
  connectEndpoints(name: string): readonly InstanceView[] {
    return this.tables.byConnect.get(name.toLowerCase())?.items ?? EMPTY;
  }
  node(name: string): CatalogNode | undefined {
    return this.tables.nodes.get(name.toLowerCase())?.value;
  }
  private nodeList?: readonly CatalogNode[];
  nodes(): readonly CatalogNode[] {
    this.nodeList ??= this.tables.nodes.values().sort((a, b) => a.seq - b.seq).map((r) => r.value);
    return this.nodeList;
  }
  nodesByAddress(ip: string): readonly CatalogNode[] {
    return this.tables.nodesByAddress.get(ip)?.items ?? EMPTY;
  }
  instancesByAddress(ip: string): readonly InstanceView[] {
    return this.tables.byAddress.get(ip)?.items ?? EMPTY;
  }
  // instances() and checks() serve the API and are built on first use, never by a publish.
  private allViews?: readonly InstanceView[];
  instances(): readonly InstanceView[] {
    this.allViews ??= this.tables.viewOrder.values();
    return this.allViews;
  }
  private allChecks?: readonly Check[];
  checks(): readonly Check[] {
    this.allChecks ??= this.tables.presentChecks.values();
    return this.allChecks;
  }
  preparedQuery(idOrName: string): PreparedQuery | undefined {
    const lower = idOrName.toLowerCase();
    return this.queries.find((q) => q.id === idOrName) ?? this.queries.find((q) => q.name !== '' && q.name.toLowerCase() === lower);
  }
  preparedQueries(): readonly PreparedQuery[] {
    return this.queries;
  }
}

export interface SnapshotChange {
  readonly edits: readonly SnapshotEdit[];
  /** The local node's new definition (same name; a rename needs a full build). */
  readonly localNode?: CatalogNode;
  /** The complete new list of prepared queries (they are few, and looked up by scan). */
  readonly preparedQueries?: readonly PreparedQuery[];
}

function asCatalog(s: Snapshot): CatalogSnapshot {
  if (!(s instanceof CatalogSnapshot)) throw new TypeError('not a catalog snapshot');
  return s;
}

/** The next snapshot after `change`; costs O(touched buckets + log n), and `prev` stays valid and unchanged. */
export function editSnapshot(prev: Snapshot, change: SnapshotChange, version: number): Snapshot {
  const p = asCatalog(prev);
  let localNode = p.localNode;
  const edits: SnapshotEdit[] = [];
  if (change.localNode) {
    if (change.localNode.name.toLowerCase() !== localNode.name.toLowerCase()) throw new RangeError('the local node cannot be renamed by an edit');
    localNode = change.localNode;
    edits.push({ op: 'putNode', node: localNode, seq: LOCAL_SEQ });
  }
  edits.push(...change.edits);
  const tables = edits.length === 0 ? p.tables : applyEdits(p.tables, localNode.name.toLowerCase(), edits);
  return new CatalogSnapshot(version, p.datacenter, localNode, tables, change.preparedQueries ?? p.preparedQueries());
}

/** A full build from edits that put every entry (with distinct keys and seqs); the local node is added first. */
export function buildSnapshot(
  base: { readonly datacenter: string; readonly localNode: CatalogNode; readonly preparedQueries?: readonly PreparedQuery[] },
  edits: readonly SnapshotEdit[],
  version: number,
): Snapshot {
  const all: SnapshotEdit[] = [{ op: 'putNode', node: base.localNode, seq: LOCAL_SEQ }, ...edits];
  const tables = applyEdits(emptyTables(), base.localNode.name.toLowerCase(), all);
  return new CatalogSnapshot(version, base.datacenter, base.localNode, tables, base.preparedQueries ?? EMPTY);
}

/**
 * A full build. Catalog order is the order of `input`; an entry listed twice keeps its first place and its last
 * value (as a Map would); a node listed twice, or under the local node's name, keeps the first.
 */
export function createSnapshot(input: CatalogInput, version: number): Snapshot {
  const seenNodes = new Set<string>([input.localNode.name.toLowerCase()]);
  const edits: SnapshotEdit[] = [];
  input.nodes.forEach((node, seq) => {
    const lower = node.name.toLowerCase();
    if (seenNodes.has(lower)) return;
    seenNodes.add(lower);
    edits.push({ op: 'putNode', node, seq });
  });
  const first = new Map<string, number>();
  const place = (key: string, seq: number): number => {
    const had = first.get(key);
    if (had !== undefined) return had;
    first.set(key, seq);
    return seq;
  };
  input.services.forEach((service, seq) => edits.push({ op: 'putService', service, seq: place(`s\u0000${checkKey(service.node, service.id)}`, seq) }));
  input.checks.forEach((check, seq) => edits.push({ op: 'putCheck', check, seq: place(`c\u0000${checkKey(check.node, check.id)}`, seq) }));
  return buildSnapshot(input, edits, version);
}

/** The number of instances and checks a snapshot holds, without listing them (for metrics and logs). */
export function snapshotSize(s: Snapshot): { readonly instances: number; readonly checks: number; readonly nodes: number } {
  const t = asCatalog(s).tables;
  return { instances: t.viewOrder.size, checks: t.presentChecks.size, nodes: t.nodes.size };
}


/** What a snapshot links to a node or a service, orphans included (the registry's removals use it instead of a scan). */
export interface SnapshotLinks {
  servicesOnNode(name: string): readonly ServiceInstance[];
  checksOnNode(name: string): readonly Check[];
  /** The checks whose serviceId is `id` on `node` ('' = the node's own checks). */
  checksOfService(node: string, id: string): readonly Check[];
  /** The view of one instance (absent when it or its node is not in the catalog); O(log n). */
  instance(node: string, id: string): InstanceView | undefined;
}

export function snapshotLinks(s: Snapshot): SnapshotLinks {
  const t = asCatalog(s).tables;
  return {
    servicesOnNode: (name) => t.servicesByNode.get(name.toLowerCase())?.items ?? EMPTY,
    checksOnNode: (name) => t.checksByNode.get(name.toLowerCase())?.items ?? EMPTY,
    checksOfService: (node, id) =>
      (id === '' ? t.nodeChecks.get(node.toLowerCase()) : t.services.get(checkKey(node, id))?.checks)?.items ?? EMPTY,
    instance: (node, id) => {
      const slot = t.services.get(checkKey(node, id));
      return slot?.instance ? t.viewOrder.get(slot.seq) : undefined;
    },
  };
}
