// /v1/catalog/*: register and deregister other nodes' entries, and the catalog reads.
import { snapshotLinks } from '../catalog/snapshot.js';
import type { InstanceView } from '../catalog/types.js';
import type { Route, RouteContext } from './context.js';
import { planCatalogDeregister, planCatalogRegister } from './decode-catalog.js';
import { badRequest, notFound } from './errors.js';
import { renderCatalogService, renderNode, renderNodeService } from './render.js';
import { persisted } from './write.js';

async function register(ctx: RouteContext) {
  const { deps } = ctx;
  const reg = planCatalogRegister(await ctx.body(), deps.config(), deps.registry.current());
  deps.registry.registerNode(reg.node, 'api');
  for (const p of reg.services) deps.registry.registerService(p.service, p.checks, 'api');
  for (const c of reg.checks) deps.registry.registerCheck(c, 'api');
  return persisted(deps, true);
}

async function deregister(ctx: RouteContext) {
  const { deps } = ctx;
  const d = planCatalogDeregister(await ctx.body(), deps.config());
  const snap = deps.registry.current();
  if (!snap.node(d.node)) throw notFound(`Unknown node "${d.node}"`);
  if (d.serviceId !== undefined) {
    if (!deps.registry.deregisterService(d.node, d.serviceId)) throw notFound(`Unknown service ID "${d.serviceId}" on node "${d.node}"`);
  } else if (d.checkId !== undefined) {
    if (!deps.registry.deregisterCheck(d.node, d.checkId)) throw notFound(`Unknown check ID "${d.checkId}" on node "${d.node}"`);
  } else if (!deps.registry.deregisterNode(d.node)) {
    throw badRequest(`Node: "${d.node}" is this agent's own node and cannot be deregistered`);
  }
  return persisted(deps, true);
}

export function withTag(views: readonly InstanceView[], tag: string | null): readonly InstanceView[] {
  if (tag === null) return views;
  const lower = tag.toLowerCase();
  return views.filter((v) => v.instance.tags.some((t) => t.toLowerCase() === lower));
}

function services(ctx: RouteContext) {
  const snap = ctx.deps.registry.current();
  const tags = new Map<string, Set<string>>();
  for (const v of snap.instances()) {
    let set = tags.get(v.instance.service);
    if (!set) tags.set(v.instance.service, (set = new Set()));
    for (const t of v.instance.tags) set.add(t);
  }
  const out: Record<string, string[]> = {};
  for (const name of [...tags.keys()].sort()) out[name] = [...(tags.get(name) ?? [])];
  return { body: out };
}

function service(ctx: RouteContext) {
  const snap = ctx.deps.registry.current();
  const views = withTag(snap.serviceInstances(ctx.params[0] ?? ''), ctx.query.get('tag'));
  return { body: views.map((v) => renderCatalogService(v, snap.version)) };
}

function connect(ctx: RouteContext) {
  const snap = ctx.deps.registry.current();
  const views = withTag(snap.connectEndpoints(ctx.params[0] ?? ''), ctx.query.get('tag'));
  return { body: views.map((v) => renderCatalogService(v, snap.version)) };
}

function nodes(ctx: RouteContext) {
  const snap = ctx.deps.registry.current();
  return { body: snap.nodes().map((n) => renderNode(n, snap.version)) };
}

function node(ctx: RouteContext) {
  const snap = ctx.deps.registry.current();
  const n = snap.node(ctx.params[0] ?? '');
  // Consul answers an unknown node with 200 and null.
  if (!n) return { body: null };
  const out: Record<string, unknown> = {};
  for (const i of snapshotLinks(snap).servicesOnNode(n.name)) out[i.id] = renderNodeService(i, snap.version);
  return { body: { Node: renderNode(n, snap.version), Services: out } };
}

export const catalogRoutes: readonly Route[] = [
  { method: 'PUT', path: 'catalog/register', access: 'write', handler: register },
  { method: 'PUT', path: 'catalog/deregister', access: 'write', handler: deregister },
  { method: 'GET', path: 'catalog/services', access: 'read', handler: services },
  { method: 'GET', path: 'catalog/service/:', access: 'read', handler: service },
  { method: 'GET', path: 'catalog/connect/:', access: 'read', handler: connect },
  { method: 'GET', path: 'catalog/nodes', access: 'read', handler: nodes },
  { method: 'GET', path: 'catalog/node/:', access: 'read', handler: node },
];
