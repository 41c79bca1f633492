// Turns a /v1/query body into a PreparedQuery, validated exactly as a `prepared_queries` entry in a config file.
import type { PreparedQuery } from '../catalog/types.js';
import { parsePreparedQuery, toPreparedQuery } from '../config/prepared-query.js';
import { requireObject } from './decode-agent.js';

/** `id`, `createIndex` and `modifyIndex` come from the server, never from the body. */
export function decodePreparedQuery(body: unknown, id: string, createIndex: number, modifyIndex: number): PreparedQuery {
  const obj = { ...requireObject(body) };
  // The npm consul client sends Near at the top level; Consul reads it from Service.Near.
  const near = obj['Near'] ?? obj['near'];
  delete obj['Near'];
  delete obj['near'];
  const service = obj['Service'];
  if (near !== undefined && service !== null && typeof service === 'object' && !Array.isArray(service) && !('Near' in service)) {
    obj['Service'] = { ...service, Near: near };
  }
  // A client may echo a query's own ID back; the server decides the ID.
  delete obj['ID'];
  const def = parsePreparedQuery(obj, 'request body');
  return { ...toPreparedQuery(def, id, createIndex), modifyIndex };
}
