// The HTTP API on 127.0.0.1:0 over a real registry (test/fixtures/reference), with recording fakes; and a tiny JSON client.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { createApiServer, type ApiDeps, type ApiServer } from '../../src/api/server.js';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createRegistry, type Registry } from '../../src/catalog/registry.js';
import type { HealthStatus, PreparedQuery, Snapshot } from '../../src/catalog/types.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import type { HealthRunner } from '../../src/health/types.js';
import type { ProxyConfigView, ProxySupervisor } from '../../src/proxy/types.js';
import type { QueryResult, QuerySource } from '../../src/resolve/prepared-query-types.js';
import { createLogSink, type LogSink } from './log-sink.js';

export interface HttpReply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  /** The parsed body when it is JSON, else undefined. */
  readonly json: unknown;
}

/** One request to 127.0.0.1:port; a JSON body is sent as given (a string is sent raw, for bad-JSON tests). */
export function httpJson(port: number, method: string, path: string, body?: unknown,
  headers: Record<string, string> = {}, timeoutMs = 5000): Promise<HttpReply> {
  const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method, path, agent: false,
      headers: { ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        if ((res.headers['content-type'] ?? '').startsWith('application/json') && text !== '') json = JSON.parse(text);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: no reply within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(payload);
  });
}

/** curl -s -i against 127.0.0.1:port: status, lower-cased headers and body of the last response. */
export function curl(port: number, path: string, args: readonly string[] = []): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/curl', ['-s', '-i', '--max-time', '10', ...args, `http://127.0.0.1:${port}${path}`],
      { maxBuffer: 8 * 1024 * 1024 }, (err, stdout) => {
        if (err && stdout === '') return reject(err);
        // With "Expect: 100-continue" there may be an interim response first; keep the last one.
        const blocks = stdout.split(/\r?\n\r?\n/);
        let i = 0;
        while (i < blocks.length - 1 && /^HTTP\/\S+ 1\d\d/.test(blocks[i] ?? '')) i += 1;
        const head = blocks[i] ?? '';
        const body = blocks.slice(i + 1).join('\n\n');
        const [statusLine = '', ...lines] = head.split(/\r?\n/);
        const headers: Record<string, string> = {};
        for (const l of lines) {
          const c = l.indexOf(':');
          if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
        }
        resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body });
      });
  });
}

export const REFERENCE_DIR = fileURLToPath(new URL('../fixtures/reference/', import.meta.url));

export interface FakeHealth extends HealthRunner {
  readonly ttlCalls: { node: string; checkId: string; status: HealthStatus; output?: string }[];
}

/** Applies TTL updates to the registry, as the real runner does, and records them. */
export function createFakeHealth(registry: Registry): FakeHealth {
  const ttlCalls: FakeHealth['ttlCalls'] = [];
  return {
    ttlCalls,
    updateTtl(node, checkId, status, output) {
      ttlCalls.push({ node, checkId, status, ...(output !== undefined ? { output } : {}) });
      const c = registry.current().checks().find((k) => k.id === checkId && k.node.toLowerCase() === node.toLowerCase());
      if (!c || c.type !== 'ttl') return false;
      return registry.updateCheck(node, checkId, { status, ...(output !== undefined ? { output } : {}) });
    },
    runNow: () => false,
    close: async () => {},
  };
}

export function createFakeProxies(tokens: Record<string, string> = {}): ProxySupervisor {
  return {
    tokenFor: (id) => Object.entries(tokens).find(([, p]) => p === id)?.[0],
    proxyForToken: (token) => tokens[token],
    running: () => new Map(),
    close: async () => {},
  };
}

/** Stand-in for src/resolve/prepared-query.ts: the candidate set and OnlyPassing only. */
export function standInExecute(snapshot: Snapshot, query: PreparedQuery, _source: QuerySource): QueryResult {
  const s = query.service;
  const all = s.connect ? snapshot.connectEndpoints(s.service) : snapshot.serviceInstances(s.service);
  const nodes = s.onlyPassing ? all.filter((v) => v.status === 'passing') : all.filter((v) => v.status !== 'critical');
  return { datacenter: snapshot.datacenter, nodes, ttl: query.dns.ttl ?? 0 };
}

/** Stand-in for src/proxy/config-view.ts, from the managed proxy's catalog entry. */
export function standInProxyConfig(snapshot: Snapshot, proxyId: string): ProxyConfigView | undefined {
  const v = snapshot.instances().find((i) => i.instance.id === proxyId && i.instance.managed?.type === 'managed');
  if (!v || !v.instance.proxy || !v.instance.managed) return undefined;
  return {
    ProxyServiceID: v.instance.id, TargetServiceID: v.instance.managed.targetServiceId,
    TargetServiceName: v.instance.proxy.destinationServiceName, ContentHash: `h${snapshot.version}`,
    ExecMode: v.instance.managed.execMode ?? 'daemon', Command: v.instance.managed.command ?? [],
    Config: v.instance.proxy.config,
  };
}

export interface ApiHarness {
  readonly port: number;
  readonly registry: Registry;
  readonly config: Config;
  readonly health: FakeHealth;
  readonly logs: LogSink;
  readonly server: ApiServer;
  /** How many times persist() was awaited. */
  persistCalls(): number;
  /** Makes the next persist() calls reject with this reason (undefined: succeed again). */
  failPersist(reason: string | undefined): void;
  close(): Promise<void>;
}

export async function startApi(opts: {
  dirs?: string[];
  /** Applied over the loaded config (e.g. apiToken, enableScriptChecks, connect switches). */
  patch?: (c: Config) => Config;
  proxyTokens?: Record<string, string>;
  deps?: Partial<ApiDeps>;
} = {}): Promise<ApiHarness> {
  const loaded = (await loadConfig({ files: [], dirs: opts.dirs ?? [REFERENCE_DIR] }, { client: '127.0.0.1', dnsPort: 0 },
    { hostname: 'test-host' })).config;
  const config = opts.patch ? opts.patch(loaded) : loaded;
  const registry = createRegistry(catalogFromConfig(config));
  const health = createFakeHealth(registry);
  const logs = createLogSink('warn');
  let persists = 0;
  let failure: string | undefined;
  const deps: ApiDeps = {
    registry, config: () => config, health, proxies: createFakeProxies(opts.proxyTokens),
    persist: async () => {
      persists += 1;
      if (failure !== undefined) throw new Error(failure);
    },
    executeQuery: standInExecute, proxyConfig: standInProxyConfig, logger: logs.logger,
    ...opts.deps,
  };
  const server = await createApiServer(deps, { addresses: ['127.0.0.1'], port: 0 });
  const port = server.endpoints[0]?.port ?? 0;
  return {
    port, registry, config, health, logs, server,
    persistCalls: () => persists,
    failPersist: (reason) => { failure = reason; },
    close: () => server.close(),
  };
}
