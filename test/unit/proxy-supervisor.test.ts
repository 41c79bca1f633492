// The proxy supervisor with a real test proxy: environment, listening check, restart, stop, root and no-command rules.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createRegistry, type Registry } from '../../src/catalog/registry.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { createHealthRunner } from '../../src/health/runner.js';
import { buildProxyConfig } from '../../src/proxy/config-view.js';
import { createProxySupervisor, type ProxySupervisorOptions } from '../../src/proxy/supervisor.js';
import type { ProxySupervisor } from '../../src/proxy/types.js';
import { isAlive } from '../helpers/binary.js';
import { freePort } from '../helpers/free-port.js';
import { createLogSink, type LogSink } from '../helpers/log-sink.js';
import { waitUntil } from '../helpers/wait.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/proxy/listen-proxy.mjs', import.meta.url));
const BACKOFF = { minMs: 100, maxMs: 400, healthyAfterMs: 10_000 };

const waitFor = (what: string, test: () => boolean, ms = 5000): Promise<void> => waitUntil(what, test, ms);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Report { pid: number; env: Record<string, string> }
const readReport = (file: string): Report | undefined =>
  fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Report) : undefined;

interface Rig {
  dir: string;
  registry: Registry;
  config: { current: Config };
  sink: LogSink;
  supervisor: ProxySupervisor;
  report: string;
  reload(body: object): Promise<void>;
}

/** The config lives in its own directory: the loader reads every .json file there, reports included. */
async function configFrom(dir: string, body: object): Promise<Config> {
  const conf = path.join(dir, 'conf');
  await mkdir(conf, { recursive: true });
  await writeFile(path.join(conf, 'agent.json'), JSON.stringify(body));
  return (await loadConfig({ files: [], dirs: [conf] }, {}, { hostname: 'local' })).config;
}

async function rig(t: TestContext, body: (report: string) => object, extra: Partial<ProxySupervisorOptions> = {}): Promise<Rig> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-proxy-'));
  const report = path.join(dir, 'report.json');
  const config = { current: await configFrom(dir, body(report)) };
  const registry = createRegistry(catalogFromConfig(config.current));
  const sink = createLogSink('debug');
  // random 0: the listening check's first run happens at once (before the proxy listens); its interval is 10 s,
  // so a passing check soon after can only come from the supervisor's runNow.
  const health = createHealthRunner({ registry, logger: sink.logger, enableScriptChecks: () => false, random: () => 0 });
  const supervisor = createProxySupervisor({
    registry, health, logger: sink.logger, config: () => config.current, httpAddr: () => '127.0.0.1:8500',
    isRoot: () => false, backoff: BACKOFF, stopGraceMs: 2000, ...extra,
  });
  t.after(async () => {
    await supervisor.close();
    await health.close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir, registry, config, sink, supervisor, report,
    async reload(next) {
      config.current = await configFrom(dir, next);
      registry.replaceConfig(catalogFromConfig(config.current));
    },
  };
}

const redis = (report: string, port: number, config: object = {}, mode?: string): object => ({
  client_addr: '127.0.0.1',
  connect: { enabled: true },
  service: {
    name: 'redis', port: 6379,
    connect: { proxy: { command: [process.execPath, FIXTURE, report, ...(mode ? [mode] : [])], config: { bind_port: port, ...config } } },
  },
});

const listening = (r: Registry): string | undefined => r.current().checks().find((c) => c.id === 'service:redis-proxy')?.status;
const inConnect = (r: Registry): string[] => r.current().connectEndpoints('redis').filter((v) => v.status === 'passing')
  .map((v) => `${v.instance.id}:${v.instance.port}`);

describe('proxy supervisor', () => {
  it('starts a managed proxy with the Consul environment, and its check passes right after it listens', async (t) => {
    const port = await freePort();
    const upstreams = [{ destination_name: 'db', local_bind_port: 9191 }];
    const r = await rig(t, (report) => redis(report, port, { upstreams }));
    await waitFor('the proxy report', () => readReport(r.report) !== undefined);
    const { env, pid } = readReport(r.report) as Report;
    assert.equal(r.supervisor.running().get('redis-proxy')?.pid, pid);
    assert.equal(env['CONNECT_PROXY_ID'], 'redis-proxy');
    assert.equal(env['CONSUL_PROXY_ID'], 'redis-proxy');
    assert.match(env['CONSUL_PROXY_TOKEN'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal(r.supervisor.tokenFor('redis-proxy'), env['CONSUL_PROXY_TOKEN']);
    assert.equal(r.supervisor.proxyForToken(env['CONSUL_PROXY_TOKEN'] ?? ''), 'redis-proxy');
    assert.equal(r.supervisor.proxyForToken('f'.repeat(32)), undefined);
    assert.equal(env['CONSUL_HTTP_ADDR'], '127.0.0.1:8500');
    assert.equal(env['CONNECT_PROXY_BIND_ADDRESS'], '127.0.0.1');
    assert.equal(env['CONNECT_PROXY_BIND_PORT'], String(port));
    assert.equal(env['CONNECT_PROXY_LOCAL_SERVICE_ADDRESS'], '127.0.0.1:6379');
    const view = buildProxyConfig(r.registry.current(), 'redis-proxy', r.config.current);
    assert.deepEqual(JSON.parse(env['CONNECT_PROXY_CONFIG'] ?? 'null'), view?.Config);
    assert.deepEqual(view?.Config['upstreams'], upstreams);
    await waitFor('listening check passing', () => listening(r.registry) === 'passing', 3000);
    assert.deepEqual(inConnect(r.registry), [`redis-proxy:${port}`]);
    // The proxy's output reaches the log at debug, a line at a time.
    assert.ok(r.sink.lines.some((l) => l['level'] === 20 && l['msg'] === `listening on 127.0.0.1:${port}`));
  });

  it('restarts a proxy killed with SIGKILL, keeping its token', async (t) => {
    const port = await freePort();
    const r = await rig(t, (report) => redis(report, port));
    await waitFor('first start', () => readReport(r.report) !== undefined);
    const first = readReport(r.report) as Report;
    process.kill(first.pid, 'SIGKILL');
    await waitFor('restart', () => { const p = readReport(r.report)?.pid; return p !== undefined && p !== first.pid; });
    const second = readReport(r.report) as Report;
    assert.equal(second.env['CONSUL_PROXY_TOKEN'], first.env['CONSUL_PROXY_TOKEN']);
    assert.equal(r.supervisor.running().get('redis-proxy')?.restarts, 1);
    assert.ok(r.sink.lines.some((l) => l['level'] === 40 && l['signal'] === 'SIGKILL' && /proxy exited/.test(String(l['msg']))));
    await waitFor('passing again', () => listening(r.registry) === 'passing');
  });

  it('stops the proxy with SIGTERM when its service is deregistered', async (t) => {
    const port = await freePort();
    const r = await rig(t, (report) => redis(report, port));
    await waitFor('start', () => readReport(r.report) !== undefined);
    const { pid } = readReport(r.report) as Report;
    assert.ok(r.registry.deregisterService('local', 'redis'));
    await waitFor('exit', () => !isAlive(pid));
    assert.equal(fs.readFileSync(`${r.report}.signals`, 'utf8'), 'SIGTERM\n');
    assert.equal(r.supervisor.running().size, 0);
  });

  it('close() stops every proxy, with SIGKILL for one that ignores SIGTERM', async (t) => {
    const port = await freePort();
    const r = await rig(t, (report) => redis(report, port, {}, 'ignore-term'), { stopGraceMs: 300 });
    await waitFor('start', () => readReport(r.report) !== undefined);
    const { pid } = readReport(r.report) as Report;
    await r.supervisor.close();
    assert.equal(isAlive(pid), false);
    assert.equal(fs.readFileSync(`${r.report}.signals`, 'utf8'), 'SIGTERM\n');
    assert.ok(r.sink.find(/ignored SIGTERM/));
    assert.equal(r.supervisor.running().size, 0);
  });

  it('restarts the proxy when its effective config changes on reload', async (t) => {
    const port = await freePort();
    let report = '';
    const r = await rig(t, (file) => { report = file; return redis(file, port, { level: 'one' }); });
    await waitFor('start', () => readReport(report) !== undefined);
    const first = readReport(report) as Report;
    await r.reload(redis(report, port, { level: 'two' }));
    await waitFor('restart with the new config', () => {
      const now = readReport(report);
      return now !== undefined && now.pid !== first.pid && JSON.parse(now.env['CONNECT_PROXY_CONFIG'] ?? '{}').level === 'two';
    });
    assert.equal(isAlive(first.pid), false);
    // An unrelated reload (same proxy config) leaves it running.
    const second = readReport(report) as Report;
    await r.reload({ ...redis(report, port, { level: 'two' }), node_meta: { rack: 'b' } });
    await sleep(200);
    assert.equal(readReport(report)?.pid, second.pid);
    assert.equal(r.supervisor.running().get('redis-proxy')?.pid, second.pid);
  });

  it('backs off after three quick exits', async (t) => {
    const r = await rig(t, () => ({
      connect: { enabled: true },
      service: { name: 'redis', port: 6379, connect: { proxy: { command: [process.execPath, '-e', 'process.exit(7)'], config: { bind_port: 21001 } } } },
    }));
    await waitFor('a back-off', () => r.sink.find(/waiting \d+ ms before restarting/) !== undefined);
    const firstWait = r.sink.lines.findIndex((l) => /waiting \d+ ms before restarting/.test(String(l['msg'])));
    const startsBefore = r.sink.lines.slice(0, firstWait).filter((l) => l['msg'] === 'proxy started').length;
    assert.equal(startsBefore, 3);
    assert.ok(r.sink.lines.some((l) => l['level'] === 40 && l['code'] === 7));
  });

  it('as root without allow_managed_root starts nothing and says so once', async (t) => {
    const port = await freePort();
    const r = await rig(t, (report) => redis(report, port), { isRoot: () => true });
    r.registry.registerService({ id: 'x', service: 'x', node: 'local', kind: 'typical', tags: [], address: '', port: 1, meta: {},
      weights: { passing: 1, warning: 1 }, connectNative: false }, [], 'api');
    await sleep(400);
    assert.equal(readReport(r.report), undefined);
    assert.equal(r.supervisor.running().size, 0);
    assert.equal(r.sink.lines.filter((l) => /running as root, will not start managed proxies/.test(String(l['msg']))).length, 1);
    assert.equal(listening(r.registry), 'critical');
    assert.deepEqual(inConnect(r.registry), []);
  });

  it('as root with allow_managed_root starts the proxy', async (t) => {
    const port = await freePort();
    const r = await rig(t, (report) => ({ ...redis(report, port), connect: { enabled: true, proxy: { allow_managed_root: true } } }),
      { isRoot: () => true });
    await waitFor('start', () => readReport(r.report) !== undefined);
  });

  it('with no command anywhere warns once for all such proxies and starts nothing', async (t) => {
    const r = await rig(t, () => ({
      connect: { enabled: true },
      services: [
        { name: 'redis', port: 6379, connect: { proxy: {} } },
        { name: 'web', port: 80, connect: { proxy: {} } },
      ],
    }));
    r.registry.updateCheck('local', 'service:redis-proxy', { status: 'critical', output: 'still nothing' });
    r.registry.registerService({ id: 'x', service: 'x', node: 'local', kind: 'typical', tags: [], address: '', port: 1, meta: {},
      weights: { passing: 1, warning: 1 }, connectNative: false }, [], 'api');
    await sleep(200);
    const warnings = r.sink.lines.filter((l) => /without a command/.test(String(l['msg'])));
    assert.equal(warnings.length, 1);
    assert.deepEqual(warnings[0]?.['proxies'], ['redis-proxy', 'web-proxy']);
    assert.equal(r.supervisor.running().size, 0);
  });
});
