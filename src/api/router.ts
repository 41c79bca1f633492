// Matches a request path against the route table: a route, the methods the path allows (→ 405), or nothing (→ 404).
import type { Route } from './context.js';
import { badRequest } from './errors.js';

export type Match =
  | { readonly kind: 'route'; readonly route: Route; readonly params: readonly string[] }
  | { readonly kind: 'method'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`Request decode failed: bad percent-encoding in path segment "${segment}"`);
  }
}

/** Parameters when `pattern` matches `segments`, else undefined. */
function matchPath(pattern: readonly string[], segments: readonly string[]): string[] | undefined {
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '*') {
      const rest = segments.slice(i);
      if (rest.length === 0 || rest.join('/') === '') return undefined;
      params.push(rest.map(decode).join('/'));
      return params;
    }
    const s = segments[i];
    if (s === undefined) return undefined;
    if (p === ':') {
      if (s === '') return undefined;
      params.push(decode(s));
    } else if (p !== s) {
      return undefined;
    }
  }
  return segments.length === pattern.length ? params : undefined;
}

export function createRouter(routes: readonly Route[]): (method: string, pathname: string) => Match {
  const table = routes.map((r) => ({ route: r, pattern: r.path.split('/') }));
  return (method, pathname) => {
    if (!pathname.startsWith('/v1/')) return { kind: 'none' };
    const segments = pathname.slice(4).split('/');
    const allowed: string[] = [];
    for (const { route, pattern } of table) {
      const params = matchPath(pattern, segments);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { kind: 'route', route, params };
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'method', allowed: [...new Set(allowed)] } : { kind: 'none' };
  };
}
