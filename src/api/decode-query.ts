// Turns a /v1/query body (Consul's PreparedQuery JSON) into a PreparedQuery.
import type { PreparedQuery } from '../catalog/types.js';
import { readMeta } from '../config/decode-service.js';
import { ObjectReader, type Plain } from '../config/reader.js';
import { ErrorCode } from '../errors.js';
import { bodyReader, requireObject } from './decode-agent.js';
import { badRequest } from './errors.js';

/** Consul spells it IgnoreCheckIDs, which the CamelCase → snake_case rule cannot split. */
function renameKeys(obj: Plain): Plain {
  const out: Plain = {};
  for (const [k, v] of Object.entries(obj)) out[k === 'IgnoreCheckIDs' ? 'ignore_check_ids' : k] = v;
  return out;
}

function decodeService(r: ObjectReader, topNear: string | undefined): PreparedQuery['service'] {
  const service = r.string('service', { nonEmpty: true });
  if (service === undefined) throw badRequest('Service.Service: missing (a query needs a service name)');
  const failoverReader = r.object('failover');
  let failover: PreparedQuery['service']['failover'] = { nearestN: 0, datacenters: [] };
  if (failoverReader) {
    failover = {
      nearestN: failoverReader.int('nearest_n', { min: 0, max: 1_000_000 }) ?? 0,
      datacenters: failoverReader.strings('datacenters') ?? [],
    };
    failoverReader.finish();
  }
  const onlyPassing = r.bool('only_passing') ?? false;
  const ignoreCheckIds = r.strings('ignore_check_ids') ?? [];
  const near = r.string('near') ?? topNear ?? '';
  const tags = r.strings('tags') ?? [];
  const nodeMeta = r.stringMap('node_meta') ?? {};
  const serviceMeta = readMeta(r, 'service_meta') ?? {};
  const connect = r.bool('connect') ?? false;
  r.finish();
  return { service, tags, onlyPassing, near, connect, ignoreCheckIds, nodeMeta, serviceMeta, failover };
}

/** `id`, `createIndex` and `modifyIndex` come from the server, never from the body. */
export function decodePreparedQuery(body: unknown, id: string, createIndex: number, modifyIndex: number): PreparedQuery {
  const r = bodyReader(renameKeys(requireObject(body)));
  const name = r.string('name') ?? '';
  const token = r.string('token');
  const template = r.free('template');
  if (template && typeof template['Type'] === 'string' && template['Type'] !== '') {
    r.fail(ErrorCode.CONFIG_VALUE, 'template', 'prepared query templates are not supported');
  }
  // The npm consul client sends Near at the top level; Consul reads it from Service.Near.
  const topNear = r.string('near');
  const serviceObj = r.free('service');
  if (!serviceObj) throw badRequest('Service: missing (a query needs a service name)');
  const service = decodeService(new ObjectReader(r.ctx, r.pathOf('service'), renameKeys(serviceObj), true), topNear);
  const dnsReader = r.object('dns');
  let ttl: number | undefined;
  if (dnsReader) {
    const ms = dnsReader.duration('ttl');
    dnsReader.finish();
    if (ms !== undefined) ttl = Math.floor(ms / 1000);
  }
  // Echoed back by clients that read a query and send it again.
  r.ignore('id', 'session', 'create_index', 'modify_index');
  r.finish();
  return { id, name, ...(token ? { token } : {}), service, dns: ttl !== undefined ? { ttl } : {}, createIndex, modifyIndex };
}
