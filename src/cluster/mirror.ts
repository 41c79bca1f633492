// A worker's copy of the primary's catalog: exported once as plain data, rebuilt, then kept in step by RegistryOps.
import { createRegistry, type Registry, type RegistryState } from '../catalog/registry.js';
import type { CatalogInput } from '../catalog/types.js';

/**
 * The primary's catalog as it is now, split by origin so the mirror's later `replaceConfig` ops drop exactly
 * the entries the primary drops. Current values (check statuses included) travel, not a history of ops: a
 * worker started after a day of TTL updates gets one message of catalog size, not a day of ops.
 */
export interface MirrorState {
  /** The entries with origin 'config', with their current check states. */
  readonly config: CatalogInput;
  /** The entries with origin 'api'. */
  readonly api: RegistryState;
}

/** Reads the registry's current snapshot; entries that no snapshot shows (orphans) are not carried. */
export function exportMirrorState(registry: Registry): MirrorState {
  const snap = registry.current();
  const isApi = (kind: 'service' | 'check' | 'node' | 'query', node: string, id: string): boolean =>
    registry.originOf(kind, node, id) === 'api';
  const split = <T>(items: readonly T[], api: (item: T) => boolean): [T[], T[]] => {
    const a: T[] = [];
    const c: T[] = [];
    for (const item of items) (api(item) ? a : c).push(item);
    return [a, c];
  };
  const local = snap.localNode.name.toLowerCase();
  const [apiNodes, cfgNodes] = split(snap.nodes().filter((n) => n.name.toLowerCase() !== local), (n) => isApi('node', '', n.name));
  const [apiServices, cfgServices] = split(snap.instances().map((v) => v.instance), (s) => isApi('service', s.node, s.id));
  const [apiChecks, cfgChecks] = split(snap.checks(), (c) => isApi('check', c.node, c.id));
  const [apiQueries, cfgQueries] = split(snap.preparedQueries(), (q) => isApi('query', '', q.id));
  return {
    config: {
      datacenter: snap.datacenter, localNode: snap.localNode,
      nodes: cfgNodes, services: cfgServices, checks: cfgChecks, preparedQueries: cfgQueries,
    },
    // Check states travel inside the checks themselves; ttlStates would only repeat them.
    api: { nodes: apiNodes, services: apiServices, checks: apiChecks, preparedQueries: apiQueries, ttlStates: {} },
  };
}

/** A registry that shows what the exporting one showed; feed it the primary's ops with `apply`. */
export function createMirror(state: MirrorState): Registry {
  const registry = createRegistry(state.config);
  const a = state.api;
  if (a.nodes.length + a.services.length + a.checks.length + a.preparedQueries.length > 0) registry.restoreState(a);
  return registry;
}
