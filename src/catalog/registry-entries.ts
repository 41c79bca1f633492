// The registry's entries (origin, place in catalog order) and the snapshot edits each change to them produces.
import { MAX_INT_KEY } from './persistent-map.js';
import { checkKey, type SnapshotEdit, type SnapshotLinks } from './snapshot.js';
import type { CatalogInput, CatalogNode, Check, PreparedQuery, ServiceInstance } from './types.js';

/** Where an entry came from: config entries are replaced on reload, API entries stay (and are persisted). */
export type Origin = 'config' | 'api';

export interface Entry<T> {
  value: T;
  readonly origin: Origin;
  /** Place in catalog order: kept while the entry lives (as a Map keeps a key's place), renumbered by a full build. */
  seq: number;
}

/** key → members (managed proxies by their target: few, so a Set each is cheap). */
class MultiIndex {
  private readonly map = new Map<string, Set<string>>();
  add(key: string, member: string): void {
    const set = this.map.get(key);
    if (set) set.add(member);
    else this.map.set(key, new Set([member]));
  }
  delete(key: string, member: string): void {
    const set = this.map.get(key);
    if (set?.delete(member) && set.size === 0) this.map.delete(key);
  }
  get(key: string): readonly string[] {
    const set = this.map.get(key);
    return set ? [...set] : [];
  }
}

/** Sequence numbers at this point force a full build, which renumbers them from 0 (persistent maps take ints < 2^30). */
const SEQ_LIMIT = MAX_INT_KEY - 1;

export type Entries = ReturnType<typeof createEntries>;

/**
 * `links` reads the current snapshot, which holds every entry as of the last publish: the removals a change
 * looks up (a service's checks, a node's services and checks) exist there, so no second index is kept.
 */
export function createEntries(links: () => SnapshotLinks) {
  const nodes = new Map<string, Entry<CatalogNode>>();
  const services = new Map<string, Entry<ServiceInstance>>();
  const checks = new Map<string, Entry<Check>>();
  const queries = new Map<string, Entry<PreparedQuery>>();
  /** node\0targetServiceId → the managed proxies that target it. */
  const proxiesOf = new MultiIndex();
  let nextSeq = 0;
  let edits: SnapshotEdit[] = [];
  let queriesChanged = false;
  const key = checkKey;
  const seqFor = <T>(old: Entry<T> | undefined): number => old?.seq ?? nextSeq++;

  function unlinkService(k: string, s: ServiceInstance): void {
    if (s.managed) proxiesOf.delete(key(s.node, s.managed.targetServiceId), k);
  }

  const self = {
    nodes: nodes as ReadonlyMap<string, Entry<CatalogNode>>,
    services: services as ReadonlyMap<string, Entry<ServiceInstance>>,
    checks: checks as ReadonlyMap<string, Entry<Check>>,
    queries: queries as ReadonlyMap<string, Entry<PreparedQuery>>,
    putNode(n: CatalogNode, origin: Origin): void {
      const k = n.name.toLowerCase();
      const seq = seqFor(nodes.get(k));
      nodes.set(k, { value: n, origin, seq });
      edits.push({ op: 'putNode', node: n, seq });
    },
    dropNode(lower: string): boolean {
      if (!nodes.delete(lower)) return false;
      edits.push({ op: 'dropNode', name: lower });
      return true;
    },
    putService(s: ServiceInstance, origin: Origin): void {
      const k = key(s.node, s.id);
      const old = services.get(k);
      if (old) unlinkService(k, old.value);
      const seq = seqFor(old);
      services.set(k, { value: s, origin, seq });
      if (s.managed) proxiesOf.add(key(s.node, s.managed.targetServiceId), k);
      edits.push({ op: 'putService', service: s, seq, key: k });
    },
    dropService(k: string): boolean {
      const old = services.get(k);
      if (!old) return false;
      services.delete(k);
      unlinkService(k, old.value);
      edits.push({ op: 'dropService', node: old.value.node, id: old.value.id });
      return true;
    },
    putCheck(c: Check, origin: Origin): void {
      const k = key(c.node, c.id);
      const seq = seqFor(checks.get(k));
      checks.set(k, { value: c, origin, seq });
      edits.push({ op: 'putCheck', check: c, seq, key: k });
    },
    /** A new state for a stored check (same key, same place). */
    replaceCheck(entry: Entry<Check>, next: Check): void {
      entry.value = next;
      edits.push({ op: 'putCheck', check: next, seq: entry.seq });
    },
    dropCheck(k: string): boolean {
      const old = checks.get(k);
      if (!old) return false;
      checks.delete(k);
      edits.push({ op: 'dropCheck', node: old.value.node, id: old.value.id });
      return true;
    },
    putQuery(q: PreparedQuery, origin: Origin): void {
      queries.set(q.id, { value: q, origin, seq: 0 });
      queriesChanged = true;
    },
    dropQuery(id: string): boolean {
      if (!queries.delete(id)) return false;
      queriesChanged = true;
      return true;
    },
    load(input: Omit<CatalogInput, 'localNode' | 'datacenter'>, origin: Origin): void {
      for (const n of input.nodes) self.putNode(n, origin);
      for (const s of input.services) self.putService(s, origin);
      for (const c of input.checks) self.putCheck(c, origin);
      for (const q of input.preparedQueries ?? []) self.putQuery(q, origin);
    },
    /** Keys of the services on a node, and of the checks of a node or of one service, as of the last publish. */
    servicesOfNode: (name: string): readonly string[] => links().servicesOnNode(name).map((s) => key(s.node, s.id)),
    checksOfNode: (name: string): readonly string[] => links().checksOnNode(name).map((c) => key(c.node, c.id)),
    checksOfService: (node: string, id: string): readonly string[] => links().checksOfService(node, id).map((c) => key(c.node, c.id)),
    proxiesOf: (node: string, id: string): readonly string[] => proxiesOf.get(key(node, id)),
    /** The edits since the last call, and whether the query list changed. */
    take(): { readonly edits: readonly SnapshotEdit[]; readonly queriesChanged: boolean } {
      const out = { edits, queriesChanged };
      edits = [];
      queriesChanged = false;
      return out;
    },
    /** Whether sequence numbers have run so high that the next publish must be a full build. */
    exhausted: (): boolean => nextSeq >= SEQ_LIMIT,
    /**
     * Renumbers every entry by its place in its map (so sequence numbers stay small) and returns the edits that
     * put them all, for a full build.
     */
    renumbered(): SnapshotEdit[] {
      const out: SnapshotEdit[] = [];
      let i = 0;
      for (const e of nodes.values()) out.push({ op: 'putNode', node: e.value, seq: (e.seq = i++) });
      i = 0;
      for (const [k, e] of services) out.push({ op: 'putService', service: e.value, seq: (e.seq = i++), key: k });
      i = 0;
      for (const [k, e] of checks) out.push({ op: 'putCheck', check: e.value, seq: (e.seq = i++), key: k });
      nextSeq = Math.max(nodes.size, services.size, checks.size);
      return out;
    },
  };
  return self;
}
