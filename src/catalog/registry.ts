// The live catalog: config and API entries, check states and prepared queries; every change publishes a new Snapshot.
import { createEntries, type Origin } from './registry-entries.js';
import { buildSnapshot, checkKey, editSnapshot, snapshotLinks, type SnapshotChange } from './snapshot.js';
import type {
  CatalogInput, CatalogNode, Check, HealthStatus, PreparedQuery, ServiceInstance, Snapshot,
} from './types.js';

export type { Origin };

export interface CheckUpdate {
  readonly status: HealthStatus;
  readonly output?: string;
  readonly notes?: string;
}

/** What persistence keeps: the API's entries and the states of TTL checks. */
export interface RegistryState {
  readonly nodes: readonly CatalogNode[];
  readonly services: readonly ServiceInstance[];
  readonly checks: readonly Check[];
  readonly preparedQueries: readonly PreparedQuery[];
  /** node\0checkId → state, for every TTL check (config or API). */
  readonly ttlStates: Readonly<Record<string, { readonly status: HealthStatus; readonly output: string }>>;
}

/** Every change as data, in order: replaying them on another registry built from the same config mirrors it. */
export type RegistryOp =
  | { readonly kind: 'registerService'; readonly service: ServiceInstance; readonly checks: readonly Check[]; readonly origin: Origin }
  | { readonly kind: 'deregisterService'; readonly node: string; readonly id: string }
  | { readonly kind: 'registerCheck'; readonly check: Check; readonly origin: Origin }
  | { readonly kind: 'deregisterCheck'; readonly node: string; readonly id: string }
  | { readonly kind: 'updateCheck'; readonly node: string; readonly id: string; readonly update: CheckUpdate }
  | { readonly kind: 'registerNode'; readonly node: CatalogNode; readonly origin: Origin }
  | { readonly kind: 'deregisterNode'; readonly name: string }
  | { readonly kind: 'setPreparedQuery'; readonly query: PreparedQuery; readonly origin: Origin }
  | { readonly kind: 'deletePreparedQuery'; readonly id: string }
  | { readonly kind: 'replaceConfig'; readonly input: CatalogInput }
  | { readonly kind: 'restoreState'; readonly state: RegistryState };

export interface Registry {
  /** The current snapshot: a synchronous read, safe on the hot path. */
  current(): Snapshot;
  /** The catalog index (X-Consul-Index): increases with every change. */
  readonly index: number;
  /** Resolves with the index once it passes `since`, or after `timeoutMs` (or on abort) with the index then. */
  waitForChange(since: number, timeoutMs: number, signal?: AbortSignal): Promise<number>;
  /** How long the last published snapshot took to build (seconds), for metrics. */
  readonly lastBuildSeconds: number;
  /** Called after every publish, synchronously; returns an unsubscribe function. */
  subscribe(listener: (snapshot: Snapshot) => void): () => void;

  /** Adds or replaces a service (by node and ID) together with its own checks. */
  registerService(service: ServiceInstance, checks: readonly Check[], origin: Origin): void;
  /** Removes a service, its checks, and the managed proxies that target it (with theirs). */
  deregisterService(node: string, id: string): boolean;
  registerCheck(check: Check, origin: Origin): void;
  deregisterCheck(node: string, id: string): boolean;
  /**
   * Changes a check's status in place; cheap (patches the snapshot). A change of output alone is kept but does
   * not raise the index or wake watchers. False for an unknown check.
   */
  updateCheck(node: string, id: string, update: CheckUpdate): boolean;
  registerNode(node: CatalogNode, origin: Origin): void;
  /** Removes a node (not the local one) with its services and checks. */
  deregisterNode(name: string): boolean;
  setPreparedQuery(query: PreparedQuery, origin: Origin): void;
  deletePreparedQuery(id: string): boolean;
  /** Swaps every config entry for the new config's; API entries stay; unchanged checks keep their state. */
  replaceConfig(input: CatalogInput): void;
  originOf(kind: 'service' | 'check' | 'node' | 'query', node: string, id: string): Origin | undefined;
  exportState(): RegistryState;
  /** Re-applies persisted API entries and TTL states (at start, after the config was loaded). */
  restoreState(state: RegistryState): void;
  /** Called with each change that was applied, after its publish (for mirrors in worker processes). */
  subscribeOps(listener: (op: RegistryOp) => void): () => void;
  /** Applies a change recorded by another registry's subscribeOps. */
  apply(op: RegistryOp): void;
}

export function createRegistry(initial: CatalogInput): Registry {
  const datacenter = initial.datacenter;
  let localNode = initial.localNode;
  const entries = createEntries(() => snapshotLinks(snapshot));
  const { nodes, services, checks, queries } = entries;
  const listeners = new Set<(s: Snapshot) => void>();
  const waiters = new Set<() => void>();
  let snapshot: Snapshot;
  let version = 0;
  let lastBuildSeconds = 0;
  let localChanged = false;
  /** Set by updateCheck when it changed the stored check (status, output or notes). */
  let checkChanged = false;
  const key = checkKey;
  const { putNode, dropNode, putService, dropService, putCheck, dropCheck, putQuery, load } = entries;
  const values = <T>(m: ReadonlyMap<string, { readonly value: T }>): T[] => [...m.values()].map((e) => e.value);

  /** A full build from the entries, renumbering their places so sequence numbers stay small. */
  function rebuild(): Snapshot {
    return buildSnapshot({ datacenter, localNode, preparedQueries: values(queries) }, entries.renumbered(), version);
  }

  function announce(): void {
    for (const w of [...waiters]) w();
    for (const l of [...listeners]) {
      try {
        l(snapshot);
      } catch {
        // A listener's failure must never stop a publish or the other listeners.
      }
    }
  }

  /** The pending edits applied to the current snapshot, at `version` (a full build only when asked or due). */
  function derive(full = false): Snapshot {
    const { edits, queriesChanged } = entries.take();
    const change: SnapshotChange = {
      edits,
      ...(localChanged ? { localNode } : {}),
      ...(queriesChanged ? { preparedQueries: values(queries) } : {}),
    };
    localChanged = false;
    return full || entries.exhausted() ? rebuild() : editSnapshot(snapshot, change, version);
  }

  function publish(full = false): void {
    version += 1;
    const started = performance.now();
    snapshot = derive(full);
    lastBuildSeconds = (performance.now() - started) / 1000;
    announce();
  }

  function removeServiceChecks(node: string, id: string): void {
    for (const k of entries.checksOfService(node, id)) dropCheck(k);
  }

  function removeService(node: string, id: string): boolean {
    const k = key(node, id);
    if (!dropService(k)) return false;
    removeServiceChecks(node, id);
    for (const pk of entries.proxiesOf(node, id)) {
      const e = services.get(pk);
      if (!e) continue;
      dropService(pk);
      removeServiceChecks(node, e.value.id);
    }
    return true;
  }

  load(initial, 'config');
  publish(true);

  const opListeners = new Set<(op: RegistryOp) => void>();
  const emit = (op: RegistryOp): void => {
    for (const l of [...opListeners]) {
      try {
        l(op);
      } catch {
        // A mirror's failure must never stop a change here.
      }
    }
  };

  const reg: Omit<Registry, 'subscribeOps' | 'apply'> = {
    current: () => snapshot,
    get index() {
      return version;
    },
    get lastBuildSeconds() {
      return lastBuildSeconds;
    },
    waitForChange(since, timeoutMs, signal) {
      if (version > since || signal?.aborted) return Promise.resolve(version);
      return new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve(version);
        };
        const timer = setTimeout(done, Math.max(0, timeoutMs));
        waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    registerService(service, own, origin) {
      putService(service, origin);
      removeServiceChecks(service.node, service.id);
      for (const c of own) putCheck(c, origin);
      publish();
    },
    deregisterService(node, id) {
      if (!removeService(node, id)) return false;
      publish();
      return true;
    },
    registerCheck(check, origin) {
      putCheck(check, origin);
      publish();
    },
    deregisterCheck(node, id) {
      if (!dropCheck(key(node, id))) return false;
      publish();
      return true;
    },
    updateCheck(node, id, update) {
      const entry = checks.get(key(node, id));
      if (!entry) return false;
      const old = entry.value;
      const next: Check = {
        ...old,
        status: update.status,
        output: update.output ?? old.output,
        notes: update.notes ?? old.notes,
      };
      if (next.status === old.status && next.output === old.output && next.notes === old.notes) return true;
      entries.replaceCheck(entry, next);
      checkChanged = true;
      if (next.status === old.status && next.notes === old.notes) {
        // Output alone changed (an HTTP body, a timestamp): the next read shows it, but it neither raises the
        // index nor wakes watchers, as Consul holds such changes back (check_update_interval); no answer changes.
        snapshot = derive();
        return true;
      }
      publish();
      return true;
    },
    registerNode(node, origin) {
      if (node.name.toLowerCase() === localNode.name.toLowerCase()) {
        localNode = node;
        localChanged = true;
      } else putNode(node, origin);
      publish();
    },
    deregisterNode(name) {
      const lower = name.toLowerCase();
      if (lower === localNode.name.toLowerCase() || !dropNode(lower)) return false;
      for (const k of entries.servicesOfNode(lower)) dropService(k);
      for (const k of entries.checksOfNode(lower)) dropCheck(k);
      publish();
      return true;
    },
    setPreparedQuery(query, origin) {
      putQuery(query, origin);
      publish();
    },
    deletePreparedQuery(id) {
      if (!entries.dropQuery(id)) return false;
      publish();
      return true;
    },
    replaceConfig(input) {
      const previous = new Map([...checks].map(([k, e]) => [k, e.value] as const));
      for (const [k, e] of [...nodes]) if (e.origin === 'config') dropNode(k);
      for (const [k, e] of [...services]) if (e.origin === 'config') dropService(k);
      for (const [k, e] of [...checks]) if (e.origin === 'config') dropCheck(k);
      for (const [k, e] of [...queries]) if (e.origin === 'config') entries.dropQuery(k);
      localNode = input.localNode;
      load(
        {
          ...input,
          checks: input.checks.map((c) => {
            const old = previous.get(key(c.node, c.id));
            // A check that is still defined the same way keeps the state it has reached.
            return old && old.type === c.type && JSON.stringify(old.definition) === JSON.stringify(c.definition)
              ? { ...c, status: old.status, output: old.output }
              : c;
          }),
        },
        'config',
      );
      // The whole config is read anyway, and a full build renumbers the catalog order compactly.
      publish(true);
    },
    originOf(kind, node, id) {
      switch (kind) {
        case 'service':
          return services.get(key(node, id))?.origin;
        case 'check':
          return checks.get(key(node, id))?.origin;
        case 'node':
          return id.toLowerCase() === localNode.name.toLowerCase() ? 'config' : nodes.get(id.toLowerCase())?.origin;
        case 'query':
          return queries.get(id)?.origin;
      }
    },
    exportState() {
      const api = <T>(m: ReadonlyMap<string, { readonly value: T; readonly origin: Origin }>): T[] => [...m.values()].filter((e) => e.origin === 'api').map((e) => e.value);
      const ttlStates: Record<string, { status: HealthStatus; output: string }> = {};
      for (const [k, e] of checks) if (e.value.type === 'ttl') ttlStates[k] = { status: e.value.status, output: e.value.output };
      return { nodes: api(nodes), services: api(services), checks: api(checks), preparedQueries: api(queries), ttlStates };
    },
    restoreState(state) {
      load({ nodes: state.nodes, services: state.services, checks: state.checks, preparedQueries: state.preparedQueries }, 'api');
      for (const [k, s] of Object.entries(state.ttlStates)) {
        const e = checks.get(k);
        if (e && e.value.type === 'ttl') e.value = { ...e.value, status: s.status, output: s.output };
      }
      publish(true);
    },
  };

  // Each mutation applies locally, then tells the mirrors, only when it changed something.
  const changed = <A extends unknown[]>(fn: (...a: A) => boolean, op: (...a: A) => RegistryOp) =>
    (...a: A): boolean => {
      const before = version;
      const ok = fn(...a);
      if (ok && version !== before) emit(op(...a));
      return ok;
    };
  const always = <A extends unknown[]>(fn: (...a: A) => void, op: (...a: A) => RegistryOp) =>
    (...a: A): void => {
      fn(...a);
      emit(op(...a));
    };
  const wrapped: Registry = {
    ...reg,
    get index() {
      return version;
    },
    get lastBuildSeconds() {
      return lastBuildSeconds;
    },
    registerService: always(reg.registerService, (service, checks, origin) => ({ kind: 'registerService', service, checks, origin })),
    deregisterService: changed(reg.deregisterService, (node, id) => ({ kind: 'deregisterService', node, id })),
    registerCheck: always(reg.registerCheck, (check, origin) => ({ kind: 'registerCheck', check, origin })),
    deregisterCheck: changed(reg.deregisterCheck, (node, id) => ({ kind: 'deregisterCheck', node, id })),
    updateCheck(node, id, update) {
      checkChanged = false;
      const ok = reg.updateCheck(node, id, update);
      // Output-only changes move no index but are still mirrored, so every process shows the same output.
      if (checkChanged) emit({ kind: 'updateCheck', node, id, update });
      return ok;
    },
    registerNode: always(reg.registerNode, (node, origin) => ({ kind: 'registerNode', node, origin })),
    deregisterNode: changed(reg.deregisterNode, (name) => ({ kind: 'deregisterNode', name })),
    setPreparedQuery: always(reg.setPreparedQuery, (query, origin) => ({ kind: 'setPreparedQuery', query, origin })),
    deletePreparedQuery: changed(reg.deletePreparedQuery, (id) => ({ kind: 'deletePreparedQuery', id })),
    replaceConfig: always(reg.replaceConfig, (input) => ({ kind: 'replaceConfig', input })),
    restoreState: always(reg.restoreState, (state) => ({ kind: 'restoreState', state })),
    subscribeOps(listener) {
      opListeners.add(listener);
      return () => opListeners.delete(listener);
    },
    apply(op) {
      switch (op.kind) {
        case 'registerService': return wrapped.registerService(op.service, op.checks, op.origin);
        case 'deregisterService': return void wrapped.deregisterService(op.node, op.id);
        case 'registerCheck': return wrapped.registerCheck(op.check, op.origin);
        case 'deregisterCheck': return void wrapped.deregisterCheck(op.node, op.id);
        case 'updateCheck': return void wrapped.updateCheck(op.node, op.id, op.update);
        case 'registerNode': return wrapped.registerNode(op.node, op.origin);
        case 'deregisterNode': return void wrapped.deregisterNode(op.name);
        case 'setPreparedQuery': return wrapped.setPreparedQuery(op.query, op.origin);
        case 'deletePreparedQuery': return void wrapped.deletePreparedQuery(op.id);
        case 'replaceConfig': return wrapped.replaceConfig(op.input);
        case 'restoreState': return wrapped.restoreState(op.state);
      }
    },
  };
  return wrapped;
}
