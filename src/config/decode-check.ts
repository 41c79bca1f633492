// Decodes one check definition (snake_case or the API's CamelCase) and checks that its kind is coherent.
import { ErrorCode } from '../errors.js';
import { IGNORED_CHECK } from './ignored-keys.js';
import { isHttpToken, parseCheckTcp, parseCheckUrl } from './check-targets.js';
import { TIMER_BOUND, type ObjectReader } from './reader.js';
import type { CheckDefinition, HealthStatus } from './types.js';

const STATUSES: readonly HealthStatus[] = ['passing', 'warning', 'critical'];

function ms(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.floor(value);
}

/** `inService`: declared inside a service definition, which supplies the service ID (and so the default ID). */
export function decodeCheck(r: ObjectReader, inService: boolean): CheckDefinition {
  const id = r.string('id', { nonEmpty: true });
  const name = r.string('name', { nonEmpty: true });
  // Inside a service, Consul overwrites service_id with the enclosing service's ID.
  const serviceId = r.string('service_id', { nonEmpty: true });
  const ttl = r.duration('ttl', TIMER_BOUND);
  const http = r.string('http');
  const tcp = r.string('tcp');
  const args = r.strings('args');
  const interval = r.duration('interval', TIMER_BOUND);
  const timeout = r.duration('timeout', TIMER_BOUND);
  const statusText = r.string('status');
  const notes = r.string('notes');
  const method = r.string('method');
  const header = r.headerMap('header');
  const tlsSkipVerify = r.bool('tls_skip_verify');
  const deregister = r.duration('deregister_critical_service_after', TIMER_BOUND);
  r.ignore(...IGNORED_CHECK);
  r.finish();

  let status: HealthStatus | undefined;
  if (statusText !== undefined) {
    status = STATUSES.find((s) => s === statusText);
    if (!status) r.fail(ErrorCode.CONFIG_VALUE, 'status', `must be one of ${STATUSES.join(', ')}, got "${statusText}"`);
  }
  const kinds = [ttl !== undefined && 'ttl', http !== undefined && 'http', tcp !== undefined && 'tcp', args !== undefined && 'args']
    .filter((k): k is string => k !== false);
  if (kinds.length > 1) {
    r.fail(ErrorCode.CONFIG_VALUE, kinds[1] ?? 'ttl', `a check has one of ttl, http, tcp or args, got ${kinds.join(' and ')}`);
  }
  if (ttl !== undefined) {
    if (ttl <= 0) r.fail(ErrorCode.CONFIG_VALUE, 'ttl', 'must be more than 0');
    // Kept in whole milliseconds: less would become 0, a TTL that expires as it is set.
    if (ttl < 1) r.fail(ErrorCode.CONFIG_VALUE, 'ttl', `must be at least 1ms, got ${ttl}ms`);
    if (interval !== undefined) r.fail(ErrorCode.CONFIG_VALUE, 'interval', 'a ttl check takes no interval');
  }
  const kind = kinds[0];
  if ((kind === 'http' || kind === 'tcp' || kind === 'args') && (interval === undefined || interval <= 0)) {
    r.fail(ErrorCode.CONFIG_VALUE, 'interval', `a ${kind === 'args' ? 'script' : kind} check needs an interval more than 0`);
  }
  // Kept in whole milliseconds: less would become 0, which the runner reads as "not set".
  if (interval !== undefined && interval > 0 && interval < 1) {
    r.fail(ErrorCode.CONFIG_VALUE, 'interval', `must be at least 1ms, got ${interval}ms`);
  }
  if (http !== undefined) {
    const url = parseCheckUrl(http);
    if ('error' in url) r.fail(ErrorCode.CONFIG_VALUE, 'http', url.error);
  }
  if (tcp !== undefined) {
    const target = parseCheckTcp(tcp);
    if ('error' in target) r.fail(ErrorCode.CONFIG_VALUE, 'tcp', target.error);
  }
  if (method !== undefined && method !== '' && !isHttpToken(method)) {
    r.fail(ErrorCode.CONFIG_VALUE, 'method', `must be an HTTP method like "GET" or "POST", got "${method}"`);
  }
  for (const name of Object.keys(header ?? {})) {
    if (!isHttpToken(name)) r.fail(ErrorCode.CONFIG_VALUE, `header.${name}`, 'is not a valid HTTP header name');
  }
  if (args !== undefined && args.length === 0) r.fail(ErrorCode.CONFIG_VALUE, 'args', 'must name a program');
  if (!inService && id === undefined && name === undefined) {
    r.fail(ErrorCode.CONFIG_VALUE, 'name', 'a check needs an id or a name');
  }

  const def: { -readonly [K in keyof CheckDefinition]: CheckDefinition[K] } = { source: { file: r.ctx.file, key: r.path } };
  if (id !== undefined) def.id = id;
  if (name !== undefined) def.name = name;
  if (serviceId !== undefined && !inService) def.serviceId = serviceId;
  if (ttl !== undefined) def.ttl = ms(ttl);
  if (http !== undefined) def.http = http;
  if (tcp !== undefined) def.tcp = tcp;
  if (args !== undefined) def.args = args;
  if (interval !== undefined) def.interval = ms(interval);
  if (timeout !== undefined) def.timeout = ms(timeout);
  if (status !== undefined) def.status = status;
  if (notes !== undefined) def.notes = notes;
  if (method !== undefined) def.method = method;
  if (header !== undefined) def.header = header;
  if (tlsSkipVerify !== undefined) def.tlsSkipVerify = tlsSkipVerify;
  if (deregister !== undefined) def.deregisterCriticalServiceAfter = ms(deregister);
  return def;
}

/** A definition's `check` (one) and `checks` (list), in that order, as Consul combines them. */
export function decodeChecks(r: ObjectReader, inService: boolean): CheckDefinition[] {
  return [
    ...r.objects('check', { single: true, camel: true }),
    ...r.objects('checks', { camel: true }),
  ].map((c) => decodeCheck(c, inService));
}
