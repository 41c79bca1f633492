// /v1/query: prepared query CRUD and execution (through deps.executeQuery, the same code as DNS `.query`).
import { randomUUID } from 'node:crypto';
import type { PreparedQuery, Snapshot } from '../catalog/types.js';
import type { Caller, Route, RouteContext } from './context.js';
import { decodePreparedQuery } from './decode-query.js';
import { badRequest, conflict, notFound } from './errors.js';
import { formatSeconds, renderHealthEntry } from './render.js';
import { persisted } from './write.js';

function renderQuery(q: PreparedQuery, caller: Caller, tokenSet: boolean) {
  const s = q.service;
  return {
    ID: q.id, Name: q.name, Session: '',
    // Consul hides a query's token from callers that could not have written it.
    Token: q.token && tokenSet && caller.kind !== 'master' ? '<hidden>' : (q.token ?? ''),
    Template: { Type: '', Regexp: '', RemoveEmptyTags: false },
    Service: {
      Service: s.service, Failover: { NearestN: s.failover.nearestN, Datacenters: [...s.failover.datacenters] },
      OnlyPassing: s.onlyPassing, IgnoreCheckIDs: [...s.ignoreCheckIds], Near: s.near, Tags: [...s.tags],
      NodeMeta: { ...s.nodeMeta }, ServiceMeta: { ...s.serviceMeta }, Connect: s.connect,
    },
    DNS: { TTL: formatSeconds(q.dns.ttl) },
    CreateIndex: q.createIndex, ModifyIndex: q.modifyIndex,
  };
}

function byId(snap: Snapshot, id: string): PreparedQuery {
  const q = snap.preparedQueries().find((p) => p.id === id);
  if (!q) throw notFound(`Query not found: "${id}"`);
  return q;
}

function checkName(snap: Snapshot, q: PreparedQuery): void {
  if (q.name === '') return;
  const lower = q.name.toLowerCase();
  const other = snap.preparedQueries().find((p) => p.id !== q.id && p.name.toLowerCase() === lower);
  if (other) throw conflict(`Name: a prepared query named "${q.name}" already exists (ID ${other.id})`);
}

function mustBeApi(ctx: RouteContext, q: PreparedQuery): void {
  if (ctx.deps.registry.originOf('query', '', q.id) === 'config') {
    throw badRequest(`prepared query "${q.name || q.id}" is declared in a config file; change it there`);
  }
}

async function create(ctx: RouteContext) {
  const { deps } = ctx;
  const index = deps.registry.index + 1;
  const q = decodePreparedQuery(await ctx.body(), randomUUID(), index, index);
  checkName(deps.registry.current(), q);
  deps.registry.setPreparedQuery(q, 'api');
  return persisted(deps, { ID: q.id });
}

async function update(ctx: RouteContext) {
  const { deps } = ctx;
  const old = byId(deps.registry.current(), ctx.params[0] ?? '');
  mustBeApi(ctx, old);
  const q = decodePreparedQuery(await ctx.body(), old.id, old.createIndex, deps.registry.index + 1);
  checkName(deps.registry.current(), q);
  deps.registry.setPreparedQuery(q, 'api');
  return persisted(deps);
}

async function remove(ctx: RouteContext) {
  const { deps } = ctx;
  const old = byId(deps.registry.current(), ctx.params[0] ?? '');
  mustBeApi(ctx, old);
  deps.registry.deletePreparedQuery(old.id);
  return persisted(deps);
}

const tokenSet = (ctx: RouteContext): boolean => ctx.deps.config().apiToken !== undefined;

function list(ctx: RouteContext) {
  return { body: ctx.deps.registry.current().preparedQueries().map((q) => renderQuery(q, ctx.caller, tokenSet(ctx))) };
}

function get(ctx: RouteContext) {
  return { body: [renderQuery(byId(ctx.deps.registry.current(), ctx.params[0] ?? ''), ctx.caller, tokenSet(ctx))] };
}

function execute(ctx: RouteContext) {
  const snap = ctx.deps.registry.current();
  const idOrName = ctx.params[0] ?? '';
  const q = snap.preparedQuery(idOrName);
  if (!q) throw notFound(`Query not found: "${idOrName}"`);
  const result = ctx.deps.executeQuery(snap, q, { ip: ctx.clientIp });
  const limitText = ctx.query.get('limit');
  const limit = limitText !== null && /^\d+$/.test(limitText) && Number(limitText) > 0 ? Number(limitText) : undefined;
  const nodes = limit !== undefined ? result.nodes.slice(0, limit) : result.nodes;
  return {
    body: {
      Service: q.service.service,
      Nodes: nodes.map((v) => renderHealthEntry(v, snap, snap.version)),
      DNS: { TTL: formatSeconds(q.dns.ttl) },
      Datacenter: result.datacenter,
      Failovers: 0,
    },
  };
}

export const queryRoutes: readonly Route[] = [
  { method: 'POST', path: 'query', access: 'write', handler: create },
  { method: 'GET', path: 'query', access: 'read', handler: list },
  { method: 'GET', path: 'query/:/execute', access: 'read', handler: execute },
  { method: 'GET', path: 'query/:', access: 'read', handler: get },
  { method: 'PUT', path: 'query/:', access: 'write', handler: update },
  { method: 'DELETE', path: 'query/:', access: 'write', handler: remove },
];
