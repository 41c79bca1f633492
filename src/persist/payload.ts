// Checks that a verified payload has the shape this version writes, so a hand-edited or foreign payload fails at load.
import { ErrorCode } from '../errors.js';
import { PersistError } from './persist-error.js';
import type { PersistedState } from './state-file.js';

const STATUSES: ReadonlySet<unknown> = new Set(['passing', 'warning', 'critical']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The payload as PersistedState; throws PERSIST_CORRUPT naming `file` and the first wrong key. */
export function parsePersistedState(payload: unknown, file: string): PersistedState {
  const bad = (key: string, what: string): PersistError =>
    new PersistError(ErrorCode.PERSIST_CORRUPT, file, `payload.${key}: ${what}`);
  if (!isObj(payload)) throw bad('', 'must be an object');
  const { registry, proxyPorts } = payload;
  if (!isObj(registry)) throw bad('registry', 'must be an object');
  for (const list of ['nodes', 'services', 'checks', 'preparedQueries'] as const) {
    const items = registry[list];
    if (!Array.isArray(items)) throw bad(`registry.${list}`, 'must be an array');
    items.forEach((item: unknown, i) => {
      if (!isObj(item)) throw bad(`registry.${list}[${i}]`, 'must be an object');
      // These keys are what the registry indexes by; anything else is carried as written.
      const keys = list === 'nodes' ? ['name'] : list === 'preparedQueries' ? ['id', 'name'] : ['id', 'node'];
      for (const k of keys) if (typeof item[k] !== 'string') throw bad(`registry.${list}[${i}].${k}`, 'must be a string');
    });
  }
  const ttl = registry['ttlStates'];
  if (!isObj(ttl)) throw bad('registry.ttlStates', 'must be an object');
  for (const [k, s] of Object.entries(ttl)) {
    if (!isObj(s) || !STATUSES.has(s['status']) || typeof s['output'] !== 'string') {
      throw bad(`registry.ttlStates[${JSON.stringify(k)}]`, 'must be {status: passing|warning|critical, output: string}');
    }
  }
  if (!isObj(proxyPorts)) throw bad('proxyPorts', 'must be an object');
  for (const [id, port] of Object.entries(proxyPorts)) {
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw bad(`proxyPorts[${JSON.stringify(id)}]`, 'must be a port number (1-65535)');
    }
  }
  return payload as unknown as PersistedState;
}
