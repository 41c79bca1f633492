// Agent reads: /v1/agent/services, /checks, /self and a managed proxy's config at /v1/agent/connect/proxy/:id.
import { snapshotLinks } from '../catalog/snapshot.js';
import type { ServiceInstance } from '../catalog/types.js';
import { waitIfBlocking, parseBlocking } from './blocking.js';
import type { Route, RouteContext } from './context.js';
import { notFound } from './errors.js';
import { nodeId, renderAgentCheck, renderAgentService } from './render.js';

/** The Consul version whose API shapes this server answers with. */
export const CONSUL_VERSION = '1.2.4';

function services(ctx: RouteContext) {
  const snap = ctx.deps.registry.current();
  const local = snap.localNode.name.toLowerCase();
  const mine = snapshotLinks(snap).servicesOnNode(local);
  const proxyOf = new Map<string, ServiceInstance>();
  for (const s of mine) if (s.managed?.type === 'managed') proxyOf.set(s.managed.targetServiceId, s);
  const out: Record<string, unknown> = {};
  for (const s of mine) out[s.id] = renderAgentService(s, proxyOf.get(s.id));
  return { body: out };
}

function checks(ctx: RouteContext) {
  const snap = ctx.deps.registry.current();
  const local = snap.localNode.name.toLowerCase();
  const out: Record<string, unknown> = {};
  for (const c of snapshotLinks(snap).checksOnNode(local)) out[c.id] = renderAgentCheck(c, snap);
  return { body: out };
}

function self(ctx: RouteContext) {
  const cfg = ctx.deps.config();
  const snap = ctx.deps.registry.current();
  const node = snap.localNode;
  return {
    body: {
      Config: {
        Datacenter: cfg.datacenter, NodeName: node.name, NodeID: nodeId(node.name), Revision: '', Server: false,
        Version: CONSUL_VERSION, Domain: cfg.domain, AdvertiseAddr: node.address,
        ClientAddrs: [...cfg.clientAddresses], DNSPort: cfg.dnsPort, HTTPPort: cfg.http.port,
      },
      Coord: null,
      Member: {
        Name: node.name, Addr: node.address, Port: 8301,
        Tags: { dc: cfg.datacenter, id: nodeId(node.name), role: 'node', build: CONSUL_VERSION, vsn: '2', vsn_min: '2', vsn_max: '3' },
        Status: 1, ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
      },
      Meta: { ...node.meta },
    },
  };
}

/** Supports Consul's hash-based blocking (?hash=) besides ?index=, as proxies watch their config that way. */
async function proxyConfig(ctx: RouteContext) {
  const { deps } = ctx;
  const id = ctx.params[0] ?? '';
  const hash = ctx.query.get('hash');
  const blocking = parseBlocking(ctx.query);
  if (hash === null || hash === '') await waitIfBlocking(deps.registry, blocking, ctx.signal);
  let view = deps.proxyConfig(deps.registry.current(), id);
  if (hash !== null && hash !== '') {
    const deadline = Date.now() + (blocking?.waitMs ?? 5 * 60_000);
    while (view && view.ContentHash === hash && !ctx.signal.aborted && Date.now() < deadline) {
      await deps.registry.waitForChange(deps.registry.index, deadline - Date.now(), ctx.signal);
      view = deps.proxyConfig(deps.registry.current(), id);
    }
  }
  if (!view) throw notFound(`Unknown proxy service ID "${id}"`);
  return { body: view, headers: { 'X-Consul-ContentHash': view.ContentHash } };
}

export const agentInfoRoutes: readonly Route[] = [
  { method: 'GET', path: 'agent/services', access: 'read', handler: services },
  { method: 'GET', path: 'agent/checks', access: 'read', handler: checks },
  { method: 'GET', path: 'agent/self', access: 'read', handler: self },
  { method: 'GET', path: 'agent/connect/proxy/*', access: 'proxy-config', handler: proxyConfig, blocking: false },
];
