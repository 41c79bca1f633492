// Prepared queries (Consul /v1/query bodies) from config files and API bodies: decode, validate, convert.
import { createHash } from 'node:crypto';
import type { PreparedQuery } from '../catalog/types.js';
import { ConfigError, ErrorCode } from '../errors.js';
import { readMeta } from './decode-service.js';
import { isPlain, ObjectReader, TTL_BOUND, typeName } from './reader.js';
import type { PreparedQueryDefinition } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type ServicePart = Mutable<PreparedQueryDefinition['service']>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Fields Consul knows that have no meaning with one datacenter and no ACLs, peers or namespaces. */
const IGNORED_QUERY = ['session', 'create_index', 'modify_index'] as const;
const IGNORED_QUERY_SERVICE = ['namespace', 'partition', 'peer', 'sameness_group'] as const;

function readTags(r: ObjectReader): string[] | undefined {
  const tags = r.strings('tags');
  tags?.forEach((t, i) => {
    if (t === '' || t === '!') {
      throw new ConfigError(ErrorCode.CONFIG_VALUE, { file: r.ctx.file, key: `${r.pathOf('tags')}[${i}]` },
        'a tag filter names a tag ("v1", or "!v1" for must-not-have)');
    }
  });
  return tags;
}

function decodeFailover(r: ObjectReader): NonNullable<PreparedQueryDefinition['service']['failover']> {
  const nearestN = r.int('nearest_n', { min: 0, max: 0xffff });
  const datacenters = r.strings('datacenters');
  // Targets (1.x peers) name remote clusters; accepted like datacenters, and equally never reached.
  r.ignore('targets');
  r.finish();
  return { ...(nearestN !== undefined ? { nearestN } : {}), ...(datacenters !== undefined ? { datacenters } : {}) };
}

function decodeQueryService(r: ObjectReader, camel: boolean): PreparedQueryDefinition['service'] {
  const service = r.string('service', { nonEmpty: true });
  if (service === undefined) r.fail(ErrorCode.CONFIG_VALUE, camel ? 'Service' : 'service', 'a prepared query needs Service.Service (the service to look up)');
  const s: ServicePart = { service };
  const tags = readTags(r);
  const onlyPassing = r.bool('only_passing');
  const near = r.string('near');
  const connect = r.bool('connect');
  const ignoreCheckIds = r.strings('ignore_check_ids');
  const nodeMeta = r.stringMap('node_meta');
  const serviceMeta = readMeta(r, 'service_meta');
  const failoverReader = r.object('failover');
  const failover = failoverReader ? decodeFailover(failoverReader) : undefined;
  r.ignore(...IGNORED_QUERY_SERVICE);
  r.finish();
  if (tags !== undefined) s.tags = tags;
  if (onlyPassing !== undefined) s.onlyPassing = onlyPassing;
  if (near !== undefined && near !== '') s.near = near;
  if (connect !== undefined) s.connect = connect;
  if (ignoreCheckIds !== undefined) s.ignoreCheckIds = ignoreCheckIds;
  if (nodeMeta !== undefined) s.nodeMeta = nodeMeta;
  if (serviceMeta !== undefined) s.serviceMeta = serviceMeta;
  if (failover !== undefined) s.failover = failover;
  return s;
}

function decodeTemplate(r: ObjectReader): void {
  // A GET reply carries an empty Template; sending it back must work. A real template would silently
  // act as a plain query named after its prefix, so it is refused.
  const type = r.string('type');
  if (type !== undefined && type !== '') {
    r.fail(ErrorCode.CONFIG_VALUE, 'type', `prepared query templates are not supported, got "${type}"`);
  }
  r.ignore('regexp', 'remove_empty_tags');
  r.finish();
}

/**
 * One prepared query from a reader (CamelCase as in the API, or snake_case). A missing key is named in the
 * spelling the writer used; `preferCamel` decides for an object with no keys at all.
 */
export function decodePreparedQuery(r: ObjectReader, preferCamel = false): PreparedQueryDefinition {
  const camel = r.isCamelCase() || preferCamel;
  const idText = r.string('id');
  if (idText !== undefined && idText !== '' && !UUID.test(idText)) {
    r.fail(ErrorCode.CONFIG_VALUE, 'id', `must be a UUID like "8f246b77-f3e1-ff88-5b48-8ec93abf3e05", got "${idText}"`);
  }
  const name = r.string('name', { nonEmpty: true });
  if (name === undefined) r.fail(ErrorCode.CONFIG_VALUE, camel ? 'Name' : 'name', 'a prepared query needs a name');
  if (UUID.test(name)) r.fail(ErrorCode.CONFIG_VALUE, 'name', 'must not look like a query ID (a UUID)');
  const token = r.string('token');
  const template = r.object('template');
  if (template) decodeTemplate(template);
  const serviceReader = r.object('service');
  if (!serviceReader) r.fail(ErrorCode.CONFIG_VALUE, camel ? 'Service' : 'service', 'a prepared query needs Service.Service (the service to look up)');
  const service = decodeQueryService(serviceReader, camel);
  const dnsReader = r.object('dns');
  let ttlMs: number | undefined;
  if (dnsReader) {
    // A GET reply says TTL "" for none; sent back, it means the same.
    ttlMs = dnsReader.raw('ttl') === '' ? undefined : dnsReader.duration('ttl', TTL_BOUND);
    dnsReader.finish();
  }
  r.ignore(...IGNORED_QUERY);
  r.finish();
  return {
    // IDs are matched exactly against lower-case DNS names, so they are kept lower-case.
    ...(idText !== undefined && idText !== '' ? { id: idText.toLowerCase() } : {}),
    name,
    ...(token !== undefined && token !== '' ? { token } : {}),
    service,
    ...(ttlMs !== undefined ? { dns: { ttl: Math.floor(ttlMs / 1000) } } : {}),
    source: { file: r.ctx.file, key: r.path },
  };
}

/**
 * Validates a /v1/query body (or any prepared query given as a value). `where` names the source in errors
 * (e.g. "request body"); the key is the path as written ("Service.Service"). Throws ConfigError.
 */
export function parsePreparedQuery(body: unknown, where: string): PreparedQueryDefinition {
  if (!isPlain(body)) {
    throw new ConfigError(ErrorCode.CONFIG_TYPE, { file: where }, `a prepared query is a JSON object, got ${typeName(body)}`);
  }
  return decodePreparedQuery(new ObjectReader({ file: where, ignored: [], warnings: [] }, '', body, true), true);
}

/** A UUID-shaped ID derived from the name (case-insensitive), so a config query keeps its ID across reloads. */
export function stableQueryId(name: string): string {
  const h = createHash('sha256').update(`connect-dns prepared query\u0000${name.toLowerCase()}`).digest();
  // Shaped as an RFC 4122 name-based UUID (version 5 bits, variant 10) so clients that parse IDs accept it.
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The catalog's PreparedQuery for a definition, every optional field defaulted as Consul stores it. */
export function toPreparedQuery(def: PreparedQueryDefinition, id: string, index: number): PreparedQuery {
  const s = def.service;
  return {
    id,
    name: def.name,
    ...(def.token !== undefined ? { token: def.token } : {}),
    service: {
      service: s.service,
      tags: s.tags ?? [],
      onlyPassing: s.onlyPassing ?? false,
      near: s.near ?? '',
      connect: s.connect ?? false,
      ignoreCheckIds: s.ignoreCheckIds ?? [],
      nodeMeta: s.nodeMeta ?? {},
      serviceMeta: s.serviceMeta ?? {},
      failover: { nearestN: s.failover?.nearestN ?? 0, datacenters: s.failover?.datacenters ?? [] },
    },
    dns: def.dns?.ttl !== undefined ? { ttl: def.dns.ttl } : {},
    createIndex: index,
    modifyIndex: index,
  };
}
