// Consul 1.2 JSON shapes (CamelCase, as in consul-1.2.4/api.txt) built from catalog values.
import { createHash } from 'node:crypto';
import { snapshotLinks } from '../catalog/snapshot.js';
import type { CatalogNode, Check, InstanceView, ServiceInstance, Snapshot } from '../catalog/types.js';

type Json = Record<string, unknown>;

/** Consul nodes carry a UUID; ours is derived from the name so it is stable across restarts. */
export function nodeId(name: string): string {
  const h = createHash('sha256').update(name.toLowerCase()).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function taggedAddresses(n: CatalogNode): Json {
  return { lan: n.address, wan: n.address };
}

export function renderNode(n: CatalogNode, index: number): Json {
  return {
    ID: nodeId(n.name), Node: n.name, Address: n.address, Datacenter: n.datacenter,
    TaggedAddresses: taggedAddresses(n), Meta: { ...n.meta }, CreateIndex: index, ModifyIndex: index,
  };
}

const weights = (s: ServiceInstance): Json => ({ Passing: s.weights.passing, Warning: s.weights.warning });
const proxyDestination = (s: ServiceInstance): string => (s.kind === 'connect-proxy' ? s.proxy?.destinationServiceName ?? '' : '');
const kind = (s: ServiceInstance): string => (s.kind === 'connect-proxy' ? 'connect-proxy' : '');

/** One row of /v1/catalog/service/:name and /v1/catalog/connect/:name. */
export function renderCatalogService(v: InstanceView, index: number): Json {
  const s = v.instance;
  const n = v.node;
  return {
    ID: nodeId(n.name), Node: n.name, Address: n.address, Datacenter: n.datacenter,
    TaggedAddresses: taggedAddresses(n), NodeMeta: { ...n.meta },
    ServiceKind: kind(s), ServiceID: s.id, ServiceName: s.service, ServiceTags: [...s.tags],
    ServiceAddress: s.address, ServiceWeights: weights(s), ServiceMeta: { ...s.meta }, ServicePort: s.port,
    ServiceEnableTagOverride: false, ServiceProxyDestination: proxyDestination(s),
    ServiceConnect: { Native: s.connectNative, Proxy: null },
    CreateIndex: index, ModifyIndex: index,
  };
}

/** The Service of a CheckServiceNode (/v1/health/service, query execute) and of /v1/catalog/node. */
export function renderNodeService(s: ServiceInstance, index: number): Json {
  return {
    // Consul omits an empty Kind here (omitempty), unlike /v1/agent/services.
    ...(s.kind === 'connect-proxy' ? { Kind: 'connect-proxy' } : {}),
    ID: s.id, Service: s.service, Tags: [...s.tags], Address: s.address,
    Meta: Object.keys(s.meta).length > 0 ? { ...s.meta } : null,
    Port: s.port, Weights: weights(s), EnableTagOverride: false, ProxyDestination: proxyDestination(s),
    Connect: { Native: s.connectNative, Proxy: null },
    CreateIndex: index, ModifyIndex: index,
  };
}

export function renderCheck(c: Check, snapshot: Snapshot, index: number): Json {
  return {
    Node: c.node, CheckID: c.id, Name: c.name, Status: c.status, Notes: c.notes, Output: c.output,
    ServiceID: c.serviceId, ServiceName: c.serviceName, ServiceTags: serviceTags(c, snapshot),
    Definition: {}, CreateIndex: index, ModifyIndex: index,
  };
}

/** An instance by node and ID, from the snapshot's own index (no walk of the catalog). */
export function instanceOf(snapshot: Snapshot, node: string, id: string): InstanceView | undefined {
  return snapshotLinks(snapshot).instance(node, id);
}

function serviceTags(c: Check, snapshot: Snapshot): string[] {
  if (c.serviceId === '') return [];
  const view = instanceOf(snapshot, c.node, c.serviceId);
  return view ? [...view.instance.tags] : [];
}

/** A CheckServiceNode: the node, the service, and every check that applies to it. */
export function renderHealthEntry(v: InstanceView, snapshot: Snapshot, index: number): Json {
  return {
    Node: renderNode(v.node, index),
    Service: renderNodeService(v.instance, index),
    Checks: v.checks.map((c) => renderCheck(c, snapshot, index)),
  };
}

/** /v1/agent/services: the agent's own view (CreateIndex 0, Meta {}, Connect only for a managed proxy's target). */
export function renderAgentService(s: ServiceInstance, managedProxy: ServiceInstance | undefined): Json {
  const managed = managedProxy?.managed;
  return {
    Kind: kind(s), ID: s.id, Service: s.service, Tags: [...s.tags], Meta: { ...s.meta }, Port: s.port,
    Address: s.address, Weights: weights(s), EnableTagOverride: false, CreateIndex: 0, ModifyIndex: 0,
    ProxyDestination: proxyDestination(s),
    Connect: managed
      ? { Native: false, Proxy: { ExecMode: managed.execMode ?? 'daemon', Command: [...(managed.command ?? [])], Config: null } }
      : null,
  };
}

export function renderAgentCheck(c: Check, snapshot: Snapshot): Json {
  return { ...renderCheck(c, snapshot, 0), CreateIndex: 0, ModifyIndex: 0 };
}

/** Go's time.Duration text for whole seconds ("10s", "1m30s", "1h0m0s"); "" for none. */
export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '';
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
