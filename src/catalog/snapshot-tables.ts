// The persistent tables behind a Snapshot and the edit batch that derives the next tables, touching only what changed.
import { canonicalIp } from '../net/addr.js';
import { BucketEditor, type Bucket, type BucketMap } from './buckets.js';
import { PersistentMap } from './persistent-map.js';
import type { CatalogNode, Check, HealthStatus, InstanceView, ServiceInstance } from './types.js';

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
export const serviceKey = checkKey;

/** The local node sorts before every other node. */
export const LOCAL_SEQ = -1;

/**
 * One catalog change; `seq` is the entry's place in catalog order (kept while the entry lives). `key`, when given,
 * must equal checkKey(node, id): passing the caller's own string lets both share it (100k keys are megabytes).
 */
export type SnapshotEdit =
  | { readonly op: 'putNode'; readonly node: CatalogNode; readonly seq: number }
  | { readonly op: 'dropNode'; readonly name: string }
  | { readonly op: 'putService'; readonly service: ServiceInstance; readonly seq: number; readonly key?: string }
  | { readonly op: 'dropService'; readonly node: string; readonly id: string }
  | { readonly op: 'putCheck'; readonly check: Check; readonly seq: number; readonly key?: string }
  | { readonly op: 'dropCheck'; readonly node: string; readonly id: string };

interface Rec<T> { readonly value: T; readonly seq: number }

/** What the catalog holds under one node\0serviceID: the instance (if registered) and the checks naming it. */
class ServiceSlot {
  constructor(
    readonly instance: ServiceInstance | undefined,
    /** The instance's seq (unused without an instance). */
    readonly seq: number,
    readonly checks: Bucket<Check> | undefined,
  ) {}
}

/** Every index key an instance is listed under. */
interface IndexKeys { readonly byName: string; readonly byTag: readonly string[]; readonly byConnect?: string; readonly byAddress?: string }

function indexKeys(s: ServiceInstance): IndexKeys {
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

export interface Tables {
  /** Present nodes (the local one included) by lower-case name. */
  readonly nodes: PersistentMap<string, Rec<CatalogNode>>;
  readonly nodesByAddress: BucketMap<CatalogNode>;
  /**
   * Every registered instance, including those whose node is absent (they appear when it does), with the checks
   * whose serviceId names it (registered or not): one entry per key keeps 100k instances small.
   */
  readonly services: PersistentMap<string, ServiceSlot>;
  readonly servicesByNode: BucketMap<ServiceInstance>;
  /** Every check, including those whose node is absent. */
  readonly checks: PersistentMap<string, Rec<Check>>;
  readonly checksByNode: BucketMap<Check>;
  readonly nodeChecks: BucketMap<Check>;
  /** Checks on present nodes, by seq: checks() in catalog order without a sort. */
  readonly presentChecks: PersistentMap<number, Check>;
  /** Views by their instance's seq (catalog order); an instance's view is viewOrder.get(services.get(key).seq). */
  readonly viewOrder: PersistentMap<number, InstanceView>;
  readonly byName: BucketMap<InstanceView>;
  readonly byTag: BucketMap<InstanceView>;
  readonly byConnect: BucketMap<InstanceView>;
  readonly byAddress: BucketMap<InstanceView>;
}

export function emptyTables(): Tables {
  const b = (): BucketMap<never> => PersistentMap.strings();
  return {
    nodes: PersistentMap.strings(), nodesByAddress: b(), services: PersistentMap.strings(), servicesByNode: b(),
    checks: PersistentMap.strings(), checksByNode: b(), nodeChecks: b(),
    presentChecks: PersistentMap.ints(), viewOrder: PersistentMap.ints(),
    byName: b(), byTag: b(), byConnect: b(), byAddress: b(),
  };
}

const items = <T>(b: Bucket<T> | undefined): readonly T[] => b?.items ?? [];

function sameList<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Applies edits to a copy-on-write draft of the tables. Views are rebuilt once per batch, and only for the
 * instances an edit touched (its own, those of a touched node, those a touched check applies to).
 */
export function applyEdits(prev: Tables, localName: string, edits: readonly SnapshotEdit[]): Tables {
  const t: { -readonly [K in keyof Tables]: Tables[K] } = { ...prev };
  const be = new BucketEditor();
  const dirtyServices = new Set<string>();
  const dirtyNodes = new Set<string>();

  const setPresence = (lower: string, present: boolean): void => {
    for (const c of items(t.checksByNode.get(lower))) {
      const seq = (t.checks.get(checkKey(c.node, c.id)) as Rec<Check>).seq;
      t.presentChecks = present ? t.presentChecks.set(seq, c, be) : t.presentChecks.delete(seq);
    }
  };
  const putNode = (node: CatalogNode, seq: number): void => {
    const lower = node.name.toLowerCase();
    // Only the local node's own edit may carry its name; another entry under that name stays out, as in a full build.
    if ((lower === localName) !== (seq === LOCAL_SEQ)) return;
    const old = t.nodes.get(lower);
    if (old) {
      const ip = canonicalIp(old.value.address);
      if (ip) t.nodesByAddress = be.drop(t.nodesByAddress, ip, old.seq);
    }
    t.nodes = t.nodes.set(lower, { value: node, seq }, be);
    const ip = canonicalIp(node.address);
    if (ip) t.nodesByAddress = be.put(t.nodesByAddress, ip, seq, node);
    if (!old) setPresence(lower, true);
    dirtyNodes.add(lower);
  };
  const dropNode = (name: string): void => {
    const lower = name.toLowerCase();
    const old = t.nodes.get(lower);
    if (!old || lower === localName) return;
    const ip = canonicalIp(old.value.address);
    if (ip) t.nodesByAddress = be.drop(t.nodesByAddress, ip, old.seq);
    t.nodes = t.nodes.delete(lower);
    setPresence(lower, false);
    dirtyNodes.add(lower);
  };
  /** Stores a slot, or removes it once it holds neither an instance nor checks. */
  const setSlot = (key: string, slot: ServiceSlot): void => {
    t.services = slot.instance || slot.checks ? t.services.set(key, slot, be) : t.services.delete(key);
  };
  const dropService = (key: string): void => {
    const old = t.services.get(key);
    if (!old?.instance) return;
    setSlot(key, new ServiceSlot(undefined, -1, old.checks));
    t.servicesByNode = be.drop(t.servicesByNode, old.instance.node.toLowerCase(), old.seq);
    dirtyServices.add(key);
  };
  const putService = (s: ServiceInstance, seq: number, key = serviceKey(s.node, s.id)): void => {
    if (t.services.get(key)?.seq !== seq) dropService(key);
    const checks = t.services.get(key)?.checks;
    setSlot(key, new ServiceSlot(s, seq, checks));
    t.servicesByNode = be.put(t.servicesByNode, s.node.toLowerCase(), seq, s);
    dirtyServices.add(key);
  };
  /** Files a check under its service's slot, or under its node for a node check. */
  const fileCheck = (c: Check, seq: number, add: boolean): void => {
    if (c.serviceId === '') {
      const lower = c.node.toLowerCase();
      t.nodeChecks = add ? be.put(t.nodeChecks, lower, seq, c) : be.drop(t.nodeChecks, lower, seq);
      dirtyNodes.add(lower);
      return;
    }
    const key = serviceKey(c.node, c.serviceId);
    const slot = t.services.get(key);
    const checks = add ? be.putIn(slot?.checks, seq, c) : be.dropIn(slot?.checks, seq);
    if (checks !== slot?.checks) {
      setSlot(key, new ServiceSlot(slot?.instance, slot?.seq ?? -1, checks));
    }
    dirtyServices.add(key);
  };
  const dropCheck = (key: string): void => {
    const old = t.checks.get(key);
    if (!old) return;
    const c = old.value;
    t.checks = t.checks.delete(key);
    t.checksByNode = be.drop(t.checksByNode, c.node.toLowerCase(), old.seq);
    fileCheck(c, old.seq, false);
    t.presentChecks = t.presentChecks.delete(old.seq);
  };
  const putCheck = (c: Check, seq: number, key = checkKey(c.node, c.id)): void => {
    dropCheck(key);
    t.checks = t.checks.set(key, { value: c, seq }, be);
    t.checksByNode = be.put(t.checksByNode, c.node.toLowerCase(), seq, c);
    fileCheck(c, seq, true);
    if (t.nodes.has(c.node.toLowerCase())) t.presentChecks = t.presentChecks.set(seq, c, be);
  };

  for (const e of edits) {
    switch (e.op) {
      case 'putNode': putNode(e.node, e.seq); break;
      case 'dropNode': dropNode(e.name); break;
      case 'putService': putService(e.service, e.seq, e.key); break;
      case 'dropService': dropService(serviceKey(e.node, e.id)); break;
      case 'putCheck': putCheck(e.check, e.seq, e.key); break;
      case 'dropCheck': dropCheck(checkKey(e.node, e.id)); break;
    }
  }

  for (const lower of dirtyNodes) {
    for (const s of items(t.servicesByNode.get(lower))) dirtyServices.add(serviceKey(s.node, s.id));
  }
  for (const key of dirtyServices) rebuildView(key);
  be.finish();
  return t;

  function unindex(seq: number, k: IndexKeys, keep?: IndexKeys): void {
    if (keep?.byName !== k.byName) t.byName = be.drop(t.byName, k.byName, seq);
    for (const tag of k.byTag) if (!keep?.byTag.includes(tag)) t.byTag = be.drop(t.byTag, tag, seq);
    if (k.byConnect !== undefined && keep?.byConnect !== k.byConnect) t.byConnect = be.drop(t.byConnect, k.byConnect, seq);
    if (k.byAddress !== undefined && keep?.byAddress !== k.byAddress) t.byAddress = be.drop(t.byAddress, k.byAddress, seq);
  }

  function rebuildView(key: string): void {
    // The view as the batch found it: sequence numbers are never reused, so its slot is still untouched.
    const had = prev.services.get(key);
    const oldSeq = had?.instance ? had.seq : undefined;
    const old = oldSeq === undefined ? undefined : prev.viewOrder.get(oldSeq);
    const slot = t.services.get(key);
    const instance = slot?.instance;
    const node = instance && t.nodes.get(instance.node.toLowerCase())?.value;
    if (!slot || !instance || !node) {
      // No instance, or its node is absent: never index an orphan.
      if (old && oldSeq !== undefined) {
        unindex(oldSeq, indexKeys(old.instance));
        t.viewOrder = t.viewOrder.delete(oldSeq);
      }
      return;
    }
    // concat, not spread: a spread array keeps the spare capacity it grew, and there is one per instance.
    const checks = items(t.nodeChecks.get(node.name.toLowerCase())).concat(items(slot.checks));
    const seq = slot.seq;
    if (old && oldSeq === seq && old.instance === instance && old.node === node && sameList(old.checks, checks)) return;
    const view: InstanceView = Object.freeze({ instance, node, checks: Object.freeze(checks), status: worstStatus(checks) });
    const keys = indexKeys(instance);
    if (old && oldSeq !== undefined) {
      unindex(oldSeq, old.instance === instance ? keys : indexKeys(old.instance), oldSeq === seq ? keys : undefined);
      if (oldSeq !== seq) t.viewOrder = t.viewOrder.delete(oldSeq);
    }
    t.byName = be.put(t.byName, keys.byName, seq, view);
    for (const tag of keys.byTag) t.byTag = be.put(t.byTag, tag, seq, view);
    if (keys.byConnect !== undefined) t.byConnect = be.put(t.byConnect, keys.byConnect, seq, view);
    if (keys.byAddress !== undefined) t.byAddress = be.put(t.byAddress, keys.byAddress, seq, view);
    t.viewOrder = t.viewOrder.set(seq, view, be);
  }
}
