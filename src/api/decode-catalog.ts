// Turns /v1/catalog/register and /v1/catalog/deregister bodies (Consul's RegisterRequest) into catalog entries.
import { catalogFromConfig } from '../catalog/from-config.js';
import type { CatalogNode, Check, HealthStatus, Snapshot } from '../catalog/types.js';
import { decodeService, readAddress, readMeta } from '../config/decode-service.js';
import { ObjectReader, type Plain } from '../config/reader.js';
import type { Config } from '../config/types.js';
import { ErrorCode } from '../errors.js';
import { bodyReader, type PlannedService } from './decode-agent.js';
import { badRequest } from './errors.js';
import { instanceOf } from './render.js';

export interface CatalogRegistration {
  readonly node: CatalogNode;
  readonly services: readonly PlannedService[];
  readonly checks: readonly Check[];
}

export interface CatalogDeregistration {
  readonly node: string;
  readonly serviceId?: string;
  readonly checkId?: string;
}

const STATUSES: readonly HealthStatus[] = ['passing', 'warning', 'critical'];

function readNode(r: ObjectReader, cfg: Config): string {
  const node = r.string('node', { nonEmpty: true });
  if (node === undefined) throw badRequest('Node: missing');
  const dc = r.string('datacenter');
  if (dc !== undefined && dc !== '' && dc.toLowerCase() !== cfg.datacenter) {
    r.fail(ErrorCode.CONFIG_VALUE, 'datacenter', `this agent serves only datacenter "${cfg.datacenter}"`);
  }
  return node;
}

/** The catalog names the service "Service" where agent definitions say "Name". */
function asDefinition(service: Plain): Plain {
  const out: Plain = {};
  for (const [k, v] of Object.entries(service)) out[k === 'Service' || k === 'service' ? 'Name' : k] = v;
  return out;
}

function decodeCatalogCheck(r: ObjectReader, node: string): Omit<Check, 'serviceName'> {
  const checkNode = r.string('node');
  if (checkNode !== undefined && checkNode !== '' && checkNode.toLowerCase() !== node.toLowerCase()) {
    r.fail(ErrorCode.CONFIG_VALUE, 'node', `must be the registered node "${node}", got "${checkNode}"`);
  }
  const id = r.string('id', { nonEmpty: true });
  const name = r.string('name', { nonEmpty: true });
  const statusText = r.string('status');
  const notes = r.string('notes') ?? '';
  const output = r.string('output') ?? '';
  const serviceId = r.string('service_id') ?? '';
  // Echoed back by clients that read a check and register it again; derived, so not taken from the body.
  r.ignore('service_name', 'service_tags', 'definition', 'create_index', 'modify_index', 'type');
  r.finish();
  if (id === undefined && name === undefined) throw badRequest(`${r.path}: a check needs a CheckID or a Name`);
  let status: HealthStatus = 'critical';
  if (statusText !== undefined && statusText !== '') {
    status = STATUSES.find((s) => s === statusText) ?? r.fail(ErrorCode.CONFIG_VALUE, 'status',
      `must be one of ${STATUSES.join(', ')}, got "${statusText}"`);
  }
  const checkId = id ?? name ?? '';
  return { id: checkId, name: name ?? checkId, node, serviceId, status, notes, output, type: 'static', definition: {} };
}

export function planCatalogRegister(body: unknown, cfg: Config, snapshot: Snapshot): CatalogRegistration {
  const r = bodyReader(body);
  const name = readNode(r, cfg);
  if (name.toLowerCase() === snapshot.localNode.name.toLowerCase()) {
    throw badRequest(`Node: "${name}" is this agent's own node; register its services through /v1/agent/service/register`);
  }
  const address = readAddress(r, 'address');
  if (address === undefined || address === '') throw badRequest('Address: missing');
  const meta = readMeta(r, 'node_meta') ?? {};
  const service = r.free('service');
  const checkReaders = [...r.objects('check', { single: true, camel: true }), ...r.objects('checks', { camel: true })];
  r.ignore('id', 'tagged_addresses', 'skip_node_update', 'token', 'write_request');
  r.finish();

  const node: CatalogNode = { name, address, datacenter: cfg.datacenter, meta };
  let services: PlannedService[] = [];
  if (service) {
    const def = decodeService(new ObjectReader(r.ctx, r.pathOf('service'), asDefinition(service), true));
    const input = catalogFromConfig({
      ...cfg, services: [], checks: [],
      nodes: [{ node: name, address, meta, services: [def], checks: [], source: { file: 'request body' } }],
    });
    services = input.services
      .filter((s) => s.node === name)
      .map((s) => ({ service: s, checks: input.checks.filter((c) => c.node === name && c.serviceId === s.id) }));
  }
  const checks = checkReaders.map((cr) => {
    const c = decodeCatalogCheck(cr, name);
    if (c.serviceId === '') return { ...c, serviceName: '' };
    const target = services.find((p) => p.service.id === c.serviceId)?.service ?? instanceOf(snapshot, name, c.serviceId)?.instance;
    if (!target) throw badRequest(`${cr.path}.ServiceID: no service with ID "${c.serviceId}" on node "${name}"`);
    return { ...c, serviceName: target.service };
  });
  return { node, services, checks };
}

export function planCatalogDeregister(body: unknown, cfg: Config): CatalogDeregistration {
  const r = bodyReader(body);
  const node = readNode(r, cfg);
  const serviceId = r.string('service_id', { nonEmpty: true });
  const checkId = r.string('id', { nonEmpty: true });
  r.ignore('token', 'write_request');
  r.finish();
  return { node, ...(serviceId !== undefined ? { serviceId } : {}), ...(checkId !== undefined ? { checkId } : {}) };
}
