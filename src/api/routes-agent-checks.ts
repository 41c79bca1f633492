// /v1/agent/check/* and /v1/agent/maintenance: check registration, TTL updates and node maintenance.
import type { HealthStatus } from '../catalog/types.js';
import type { Route, RouteContext } from './context.js';
import { bodyReader, planAgentCheck } from './decode-agent.js';
import { badRequest, notFound } from './errors.js';
import { NODE_MAINT_REASON, parseEnable } from './routes-agent-services.js';
import { localNodeName, persisted } from './write.js';

const STATUSES: readonly HealthStatus[] = ['passing', 'warning', 'critical'];

async function register(ctx: RouteContext) {
  const { deps } = ctx;
  const check = planAgentCheck(await ctx.body(), deps.config(), deps.registry.current());
  deps.registry.registerCheck(check, 'api');
  deps.logger.info({ check: check.id, type: check.type }, 'check registered through the API');
  return persisted(deps);
}

async function deregister(ctx: RouteContext) {
  const id = ctx.params[0] ?? '';
  if (!ctx.deps.registry.deregisterCheck(localNodeName(ctx.deps), id)) throw notFound(`Unknown check ID "${id}"`);
  return persisted(ctx.deps);
}

async function ttl(ctx: RouteContext, status: HealthStatus, output: string | undefined) {
  const id = ctx.params[0] ?? '';
  if (!ctx.deps.health.updateTtl(localNodeName(ctx.deps), id, status, output)) {
    throw notFound(`Unknown TTL check ID "${id}": no check with that ID has a TTL`);
  }
  return persisted(ctx.deps);
}

const ttlRoute = (verb: string, status: HealthStatus): Route => ({
  method: 'PUT', path: `agent/check/${verb}/*`, access: 'write',
  handler: (ctx) => ttl(ctx, status, ctx.query.get('note') ?? undefined),
});

async function update(ctx: RouteContext) {
  const r = bodyReader(await ctx.body());
  const statusText = r.string('status');
  const output = r.string('output');
  r.finish();
  const status = STATUSES.find((s) => s === statusText);
  if (!status) throw badRequest(`Status: invalid check status "${statusText ?? ''}" (one of ${STATUSES.join(', ')})`);
  return ttl(ctx, status, output);
}

async function nodeMaintenance(ctx: RouteContext) {
  const { deps } = ctx;
  const enable = parseEnable(ctx.query);
  const node = localNodeName(deps);
  if (enable) {
    deps.registry.registerCheck({
      id: '_node_maintenance', name: 'Node Maintenance Mode', node, serviceId: '', serviceName: '', status: 'critical',
      notes: ctx.query.get('reason') || NODE_MAINT_REASON, output: '', type: 'static', definition: {},
    }, 'api');
  } else {
    deps.registry.deregisterCheck(node, '_node_maintenance');
  }
  return persisted(deps);
}

export const agentCheckRoutes: readonly Route[] = [
  { method: 'PUT', path: 'agent/check/register', access: 'write', handler: register },
  { method: 'PUT', path: 'agent/check/deregister/*', access: 'write', handler: deregister },
  ttlRoute('pass', 'passing'),
  ttlRoute('warn', 'warning'),
  ttlRoute('fail', 'critical'),
  { method: 'PUT', path: 'agent/check/update/*', access: 'write', handler: update },
  { method: 'PUT', path: 'agent/maintenance', access: 'write', handler: nodeMaintenance },
];
