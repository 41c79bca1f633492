// /v1/agent/service/*: register, deregister and maintenance of services on the local node.
import type { Route, RouteContext } from './context.js';
import { planAgentService } from './decode-agent.js';
import { badRequest, notFound } from './errors.js';
import { instanceOf } from './render.js';
import { localNodeName, persisted } from './write.js';

export const MANAGED_PROXY_NO_DEREGISTER = 'Managed proxy service cannot be deregistered directly';
const SERVICE_MAINT_REASON = 'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.';
export const NODE_MAINT_REASON = 'Maintenance mode is enabled for this node, but no reason was provided. This is a default message.';

/** Consul's ?enable=: required, a Go boolean. */
export function parseEnable(query: URLSearchParams): boolean {
  const text = query.get('enable');
  if (text === null || text === '') throw badRequest('Missing value for enable');
  if (/^(1|t|true)$/i.test(text)) return true;
  if (/^(0|f|false)$/i.test(text)) return false;
  throw badRequest(`Invalid value for enable: "${text}"`);
}

async function register(ctx: RouteContext) {
  const { deps } = ctx;
  const warnings: string[] = [];
  const planned = planAgentService(await ctx.body(), deps.config(), deps.registry.current(), warnings);
  for (const w of warnings) deps.logger.warn({ warning: w }, 'service registered through the API');
  for (const p of planned) deps.registry.registerService(p.service, p.checks, 'api');
  deps.logger.info({ services: planned.map((p) => p.service.id) }, 'service registered through the API');
  return persisted(deps);
}

async function deregister(ctx: RouteContext) {
  const { deps } = ctx;
  const id = ctx.params[0] ?? '';
  const node = localNodeName(deps);
  const view = instanceOf(deps.registry.current(), node, id);
  if (!view) throw notFound(`Unknown service ID "${id}"`);
  if (view.instance.managed?.type === 'managed') throw badRequest(MANAGED_PROXY_NO_DEREGISTER);
  deps.registry.deregisterService(node, id);
  deps.logger.info({ service: id }, 'service deregistered through the API');
  return persisted(deps);
}

async function maintenance(ctx: RouteContext) {
  const { deps } = ctx;
  const id = ctx.params[0] ?? '';
  const enable = parseEnable(ctx.query);
  const node = localNodeName(deps);
  const view = instanceOf(deps.registry.current(), node, id);
  if (!view) throw notFound(`Unknown service ID "${id}"`);
  const checkId = `_service_maintenance:${id}`;
  if (enable) {
    deps.registry.registerCheck({
      id: checkId, name: 'Service Maintenance Mode', node, serviceId: id, serviceName: view.instance.service,
      status: 'critical', notes: ctx.query.get('reason') || SERVICE_MAINT_REASON, output: '', type: 'static', definition: {},
    }, 'api');
  } else {
    deps.registry.deregisterCheck(node, checkId);
  }
  return persisted(deps);
}

export const agentServiceRoutes: readonly Route[] = [
  { method: 'PUT', path: 'agent/service/register', access: 'write', handler: register },
  { method: 'PUT', path: 'agent/service/deregister/*', access: 'write', handler: deregister },
  { method: 'PUT', path: 'agent/service/maintenance/*', access: 'write', handler: maintenance },
];
