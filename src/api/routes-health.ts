// /v1/health/*: services with their checks (Consul's CheckServiceNodes), and checks by service, node and state.
import { snapshotLinks } from '../catalog/snapshot.js';
import type { Check, HealthStatus, InstanceView, Snapshot } from '../catalog/types.js';
import type { Route, RouteContext } from './context.js';
import { badRequest } from './errors.js';
import { renderCheck, renderHealthEntry } from './render.js';
import { withTag } from './routes-catalog.js';

/** Consul's ?passing filter: an instance with any check that is not passing is dropped (warning too). */
export function onlyPassing(views: readonly InstanceView[], query: URLSearchParams): readonly InstanceView[] {
  const passing = query.get('passing');
  if (passing === null || /^(0|f|false)$/i.test(passing)) return views;
  return views.filter((v) => v.checks.every((c) => c.status === 'passing'));
}

function entries(ctx: RouteContext, pick: (snap: Snapshot, name: string) => readonly InstanceView[]) {
  const snap = ctx.deps.registry.current();
  const views = onlyPassing(withTag(pick(snap, ctx.params[0] ?? ''), ctx.query.get('tag')), ctx.query);
  return { body: views.map((v) => renderHealthEntry(v, snap, snap.version)) };
}

function render(checks: readonly Check[], snap: Snapshot) {
  return { body: checks.map((c) => renderCheck(c, snap, snap.version)) };
}

function serviceChecks(ctx: RouteContext) {
  const snap = ctx.deps.registry.current();
  const out: Check[] = [];
  for (const v of snap.serviceInstances(ctx.params[0] ?? '')) out.push(...v.checks.filter((c) => c.serviceId === v.instance.id));
  return render(out, snap);
}

function nodeChecks(ctx: RouteContext) {
  const snap = ctx.deps.registry.current();
  const n = snap.node(ctx.params[0] ?? '');
  return render(n ? snapshotLinks(snap).checksOnNode(n.name) : [], snap);
}

const STATES = ['any', 'passing', 'warning', 'critical'] as const;

function state(ctx: RouteContext) {
  const wanted = ctx.params[0] ?? '';
  if (!STATES.some((s) => s === wanted)) throw badRequest(`Bad check state "${wanted}" (one of ${STATES.join(', ')})`);
  const snap = ctx.deps.registry.current();
  const checks = wanted === 'any' ? snap.checks() : snap.checks().filter((c) => c.status === (wanted as HealthStatus));
  return render(checks, snap);
}

export const healthRoutes: readonly Route[] = [
  { method: 'GET', path: 'health/service/:', access: 'read', handler: (ctx) => entries(ctx, (s, n) => s.serviceInstances(n)) },
  { method: 'GET', path: 'health/connect/:', access: 'read', handler: (ctx) => entries(ctx, (s, n) => s.connectEndpoints(n)) },
  { method: 'GET', path: 'health/checks/:', access: 'read', handler: serviceChecks },
  { method: 'GET', path: 'health/node/:', access: 'read', handler: nodeChecks },
  { method: 'GET', path: 'health/state/:', access: 'read', handler: state },
];
