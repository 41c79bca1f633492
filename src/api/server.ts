// The Consul-compatible HTTP API server: node:http listeners, routing, tokens, blocking reads, one error mapping.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CdnsError, ErrorCode } from '../errors.js';
import { authorize, identify, requestToken } from './auth.js';
import { parseBlocking, waitIfBlocking } from './blocking.js';
import { declaredTooLarge, MAX_BODY_BYTES, parseJsonBody, readBody, tooLarge } from './body.js';
import type { ApiDeps, Reply, Route, RouteContext } from './context.js';
import { toHttpProblem } from './errors.js';
import { createRouter } from './router.js';
import { agentCheckRoutes } from './routes-agent-checks.js';
import { agentInfoRoutes } from './routes-agent-info.js';
import { agentServiceRoutes } from './routes-agent-services.js';
import { catalogRoutes } from './routes-catalog.js';
import { healthRoutes } from './routes-health.js';
import { METRICS_PATH, serveMetrics } from './routes-metrics.js';
import { queryRoutes } from './routes-query.js';
import { statusRoutes } from './routes-status.js';

export type { ApiDeps } from './context.js';

export interface ApiServer {
  readonly endpoints: readonly { address: string; port: number }[];
  close(): Promise<void>;
}

export const ROUTES: readonly Route[] = [
  ...agentServiceRoutes, ...agentCheckRoutes, ...agentInfoRoutes, ...catalogRoutes, ...healthRoutes, ...queryRoutes, ...statusRoutes,
];

/** How long close() lets answers in flight finish before cutting their connections. */
const CLOSE_GRACE_MS = 2000;

function clientIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

export async function createApiServer(deps: ApiDeps, listen: { addresses: readonly string[]; port: number }): Promise<ApiServer> {
  const route = createRouter(ROUTES);
  const inFlight = new Set<AbortController>();
  let closing = false;

  function headers(res: ServerResponse, type: string): void {
    res.setHeader('Content-Type', type);
    res.setHeader('X-Consul-Index', String(deps.registry.index));
    res.setHeader('X-Consul-KnownLeader', 'true');
    res.setHeader('X-Consul-LastContact', '0');
    if (closing) res.setHeader('Connection', 'close');
  }

  function send(res: ServerResponse, reply: Reply, pretty: boolean): void {
    if (res.headersSent || res.destroyed) return;
    headers(res, 'application/json');
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    const text = reply.body === undefined ? '' : pretty ? `${JSON.stringify(reply.body, null, 4)}\n` : JSON.stringify(reply.body);
    res.statusCode = reply.status ?? 200;
    res.end(text);
  }

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (res.headersSent || res.destroyed) return;
    const p = toHttpProblem(err);
    if (p.internal) deps.logger.error({ err, method: req.method, path: req.url?.split('?')[0] }, 'API request failed');
    headers(res, 'text/plain; charset=utf-8');
    if (err instanceof CdnsError && err.code === ErrorCode.TOO_LARGE) {
      // The rest of the body is never read: close the connection rather than drain it.
      res.setHeader('Connection', 'close');
      res.on('finish', () => req.socket.destroySoon());
    }
    res.statusCode = p.status;
    res.end(p.reason);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://api.invalid');
    if (url.pathname === METRICS_PATH) return serveMetrics(req, res, deps.metrics);
    const method = req.method ?? 'GET';
    const m = route(method, url.pathname);
    if (m.kind === 'none') throw new CdnsError(ErrorCode.NOT_FOUND, `Invalid URL path: ${url.pathname} is not an endpoint of this agent`);
    if (m.kind === 'method') {
      res.setHeader('Allow', m.allowed.join(', '));
      const p = { status: 405, reason: `Method ${method} not allowed on ${url.pathname} (allowed: ${m.allowed.join(', ')})` };
      headers(res, 'text/plain; charset=utf-8');
      res.statusCode = p.status;
      res.end(p.reason);
      return;
    }
    const caller = identify(requestToken(req, url.searchParams), deps);
    authorize(m.route.access, caller, m.params[0], deps);
    const ac = new AbortController();
    inFlight.add(ac);
    // Fires on completion too; aborting then is harmless. Before completion it means the client went away.
    res.once('close', () => {
      ac.abort();
      inFlight.delete(ac);
    });
    let body: Promise<unknown> | undefined;
    const ctx: RouteContext = {
      deps, params: m.params, query: url.searchParams, clientIp: clientIp(req), caller, signal: ac.signal,
      body: () => (body ??= readBody(req, MAX_BODY_BYTES).then(parseJsonBody)),
    };
    if (m.route.method === 'GET' && m.route.blocking !== false) {
      await waitIfBlocking(deps.registry, parseBlocking(url.searchParams), ac.signal);
    }
    if (res.destroyed) return;
    const reply = await m.route.handler(ctx);
    send(res, reply, url.searchParams.has('pretty'));
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    serve(req, res).catch((err: unknown) => fail(req, res, err));
  }

  const servers: http.Server[] = [];
  const endpoints: { address: string; port: number }[] = [];
  let port = listen.port;
  try {
    for (const address of listen.addresses) {
      const server = http.createServer({ requestTimeout: 60_000, headersTimeout: 20_000, keepAliveTimeout: 5_000 }, onRequest);
      server.on('checkContinue', (req, res) => {
        // Refuse an oversized body before the client sends it.
        if (declaredTooLarge(req, MAX_BODY_BYTES)) fail(req, res, tooLarge(MAX_BODY_BYTES));
        else {
          res.writeContinue();
          onRequest(req, res);
        }
      });
      server.on('clientError', (err, socket) => {
        if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        else socket.destroy(err);
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const info = server.address() as AddressInfo;
      port = info.port;
      endpoints.push({ address: info.address, port: info.port });
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    const where = listen.addresses.map((a) => (a.includes(':') ? `[${a}]:${listen.port}` : `${a}:${listen.port}`)).join(', ');
    throw new CdnsError(ErrorCode.LISTEN, `cannot listen for HTTP on ${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }

  let closed: Promise<void> | undefined;
  return {
    endpoints,
    close() {
      closed ??= (async () => {
        closing = true;
        // Blocking reads answer now, with the current data, instead of holding the shutdown.
        for (const ac of inFlight) ac.abort();
        const done = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
        for (const s of servers) s.closeIdleConnections();
        const cut = setTimeout(() => servers.forEach((s) => s.closeAllConnections()), CLOSE_GRACE_MS);
        cut.unref();
        await done;
        clearTimeout(cut);
      })();
      return closed;
    },
  };
}
