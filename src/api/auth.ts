// Tokens: the master token (config apiToken) may write; a managed proxy's token may read only its own config.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Access, ApiDeps, Caller } from './context.js';
import { permissionDenied } from './errors.js';

/** X-Consul-Token, then "Authorization: Bearer", then ?token=, as Consul reads them. */
export function requestToken(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const header = req.headers['x-consul-token'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = req.headers.authorization;
  const bearer = typeof auth === 'string' ? /^Bearer\s+(\S+)$/i.exec(auth)?.[1] : undefined;
  if (bearer) return bearer;
  const q = query.get('token');
  return q !== null && q !== '' ? q : undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function identify(token: string | undefined, deps: ApiDeps): Caller {
  if (token === undefined) return { kind: 'anonymous' };
  const master = deps.config().apiToken;
  if (master !== undefined && sameToken(token, master)) return { kind: 'master' };
  const proxyId = deps.proxies.proxyForToken(token);
  if (proxyId !== undefined) return { kind: 'proxy', proxyId };
  return { kind: 'anonymous' };
}

/** Throws 403 unless `caller` may do `access`; `target` is the proxy ID of a proxy-config read. */
export function authorize(access: Access, caller: Caller, target: string | undefined, deps: ApiDeps): void {
  const locked = deps.config().apiToken !== undefined;
  switch (access) {
    case 'read':
      return;
    case 'write':
      // A proxy token is scoped to its own config even on an agent without a master token.
      if (caller.kind === 'proxy' || (locked && caller.kind !== 'master')) throw permissionDenied();
      return;
    case 'proxy-config':
      if (caller.kind === 'proxy' ? caller.proxyId !== target : locked && caller.kind !== 'master') throw permissionDenied();
      return;
  }
}
