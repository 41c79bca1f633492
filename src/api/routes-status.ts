// /v1/status/*: a single-agent "cluster" whose leader and only peer is this server.
import type { Route, RouteContext } from './context.js';

function self(ctx: RouteContext): string {
  const a = ctx.deps.registry.current().localNode.address;
  return a.includes(':') ? `[${a}]:8300` : `${a}:8300`;
}

export const statusRoutes: readonly Route[] = [
  { method: 'GET', path: 'status/leader', access: 'read', handler: (ctx) => ({ body: self(ctx) }) },
  { method: 'GET', path: 'status/peers', access: 'read', handler: (ctx) => ({ body: [self(ctx)] }) },
];
