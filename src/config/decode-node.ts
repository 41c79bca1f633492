// Decodes our `nodes` extension: other nodes of a fleet, with their services and checks.
import { ErrorCode } from '../errors.js';
import { decodeChecks } from './decode-check.js';
import { decodeService, readAddress, readMeta } from './decode-service.js';
import type { ObjectReader } from './reader.js';
import type { NodeDefinition } from './types.js';

export function decodeNode(r: ObjectReader): NodeDefinition {
  const node = r.string('node', { nonEmpty: true });
  if (node === undefined) r.fail(ErrorCode.CONFIG_VALUE, 'node', 'a node needs a name');
  const address = readAddress(r, 'address', { reachable: true });
  if (address === undefined || address === '') r.fail(ErrorCode.CONFIG_VALUE, 'address', 'a node needs an address (an IP or a host name)');
  const meta = readMeta(r, 'meta') ?? {};
  const services = r.objects('services', { camel: true }).map(decodeService);
  const checks = decodeChecks(r, false);
  r.finish();
  return { node, address, meta, services, checks, source: { file: r.ctx.file, key: r.path } };
}
