// Turns /v1/agent/service/register and /v1/agent/check/register bodies into catalog entries, through the config decoders.
import { catalogFromConfig } from '../catalog/from-config.js';
import { allocatePort, type PortRange } from '../catalog/ports.js';
import { snapshotLinks } from '../catalog/snapshot.js';
import type { Check, ServiceInstance, Snapshot } from '../catalog/types.js';
import { decodeCheck } from '../config/decode-check.js';
import { decodeService } from '../config/decode-service.js';
import { isPlain, ObjectReader, type DecodeContext, type Plain } from '../config/reader.js';
import type { CheckDefinition, Config, ServiceDefinition } from '../config/types.js';
import { CdnsError, ErrorCode } from '../errors.js';
import { badRequest } from './errors.js';
import { instanceOf } from './render.js';

export const MANAGED_PROXY_DISALLOWED = 'Managed proxy registration via the API is disallowed.';
export const SCRIPTS_DISABLED = 'Scripts are disabled on this agent';

/** A service (or one of the proxies it brings) with its own checks, ready for registry.registerService. */
export interface PlannedService {
  readonly service: ServiceInstance;
  readonly checks: readonly Check[];
}

export function requireObject(body: unknown): Plain {
  if (!isPlain(body)) {
    throw badRequest(`Request decode failed: expected a JSON object, got ${body === undefined ? 'an empty body' : Array.isArray(body) ? 'a list' : typeof body}`);
  }
  return body;
}

export function bodyReader(body: unknown, warnings: string[] = []): ObjectReader {
  const ctx: DecodeContext = { file: 'request body', ignored: [], warnings };
  return new ObjectReader(ctx, '', requireObject(body), true);
}

function hasScript(checks: readonly CheckDefinition[]): boolean {
  return checks.some((c) => c.args !== undefined);
}

function serviceScripts(def: ServiceDefinition): boolean {
  return hasScript(def.checks) || hasScript(def.connect?.sidecarService?.checks ?? []);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Whether the proxy's port came from the user (kept as given) or from the allocator (may be moved). */
function explicitPort(s: ServiceInstance, def: ServiceDefinition, cfg: Config): boolean {
  if (s.managed?.type === 'sidecar') return def.connect?.sidecarService?.port !== undefined;
  return def.connect?.proxy?.config?.['bind_port'] !== undefined || cfg.connect.proxyDefaults.config['bind_port'] !== undefined;
}

/**
 * The config builder allocates proxy ports seeing only this registration; here the ports already held on the
 * node are taken into account, and a proxy that is registered again keeps the port it had.
 */
function settlePorts(planned: { service: Mutable<ServiceInstance>; checks: Check[] }[], def: ServiceDefinition,
  cfg: Config, snapshot: Snapshot): void {
  const ids = new Set(planned.map((p) => p.service.id));
  const local = snapshot.localNode.name.toLowerCase();
  const used = new Set<number>();
  for (const i of snapshotLinks(snapshot).servicesOnNode(local)) {
    if (!ids.has(i.id) && i.port > 0) used.add(i.port);
  }
  for (const p of planned) if (!p.service.managed || explicitPort(p.service, def, cfg)) used.add(p.service.port);
  for (const p of planned) {
    const s = p.service;
    if (!s.managed || explicitPort(s, def, cfg)) continue;
    const range: PortRange = s.managed.type === 'sidecar'
      ? { min: cfg.ports.sidecarMinPort, max: cfg.ports.sidecarMaxPort }
      : { min: cfg.ports.proxyMinPort, max: cfg.ports.proxyMaxPort };
    const before = instanceOf(snapshot, s.node, s.id)?.instance;
    let port = s.port;
    if (before?.managed && before.port > 0 && !used.has(before.port)) port = before.port;
    else if (used.has(port)) {
      const next = allocatePort(s.id, range, used);
      if (next === undefined) {
        throw new CdnsError(ErrorCode.PORTS_EXHAUSTED, `no port left for ${s.id} in the range ${range.min}-${range.max}`);
      }
      port = next;
    }
    used.add(port);
    if (port === s.port) continue;
    const old = s.port;
    s.port = port;
    if (s.managed.type === 'managed' && s.proxy) s.proxy = { ...s.proxy, config: { ...s.proxy.config, bind_port: port } };
    p.checks = p.checks.map((c) => (c.type === 'tcp' && c.definition.tcp?.endsWith(`:${old}`)
      ? { ...c, definition: { ...c.definition, tcp: `${c.definition.tcp.slice(0, -String(old).length)}${port}` } }
      : c));
  }
}

/**
 * The npm consul client cannot send Kind; a body with a Proxy block and no Kind can only mean a connect-proxy
 * (a typical service takes no proxy settings), so it is read as one instead of being refused.
 */
function withInferredKind(body: unknown): unknown {
  if (!isPlain(body)) return body;
  const keys = Object.keys(body);
  const hasKind = keys.some((k) => k.toLowerCase() === 'kind');
  const proxyKey = keys.find((k) => k.toLowerCase() === 'proxy');
  return !hasKind && proxyKey !== undefined && isPlain(body[proxyKey]) ? { ...body, Kind: 'connect-proxy' } : body;
}

export function planAgentService(body: unknown, cfg: Config, snapshot: Snapshot, warnings: string[] = []): PlannedService[] {
  const def = decodeService(bodyReader(withInferredKind(body), warnings));
  if (def.connect?.proxy && !cfg.connect.allowManagedApiRegistration) throw badRequest(MANAGED_PROXY_DISALLOWED);
  if (serviceScripts(def) && !cfg.enableScriptChecks) throw badRequest(SCRIPTS_DISABLED);
  // The same builder as config files, on a config holding only this service: same IDs, proxies, checks and messages.
  const input = catalogFromConfig({ ...cfg, services: [def], checks: [], nodes: [] });
  const planned = input.services.map((service) => ({
    service: { ...service } as Mutable<ServiceInstance>,
    checks: input.checks.filter((c) => c.serviceId === service.id),
  }));
  settlePorts(planned, def, cfg, snapshot);
  return planned;
}

export function planAgentCheck(body: unknown, cfg: Config, snapshot: Snapshot): Check {
  const def = decodeCheck(bodyReader(body), false);
  if (def.name === undefined) throw badRequest('Name: missing');
  if (def.args !== undefined && !cfg.enableScriptChecks) throw badRequest(SCRIPTS_DISABLED);
  let service: ServiceInstance | undefined;
  if (def.serviceId !== undefined) {
    service = instanceOf(snapshot, snapshot.localNode.name, def.serviceId)?.instance;
    if (!service) throw badRequest(`ServiceID: no service with ID "${def.serviceId}" on this agent`);
  }
  const { serviceId: _drop, ...nodeCheck } = def;
  const built = catalogFromConfig({ ...cfg, services: [], checks: [nodeCheck], nodes: [] }).checks[0];
  if (!built) throw new Error('the check builder returned no check');
  return service ? { ...built, serviceId: service.id, serviceName: service.service } : built;
}
