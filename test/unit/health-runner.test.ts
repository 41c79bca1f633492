// The health runner on a live registry: every check type against real local targets, reaping, restarts, close().
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createRegistry, type Registry } from '../../src/catalog/registry.js';
import type { CatalogInput, Check, HealthStatus, ServiceInstance } from '../../src/catalog/types.js';
import { createHealthRunner } from '../../src/health/runner.js';
import type { HealthRunner } from '../../src/health/types.js';
import { freePort } from '../helpers/free-port.js';
import { createLogSink, type LogSink } from '../helpers/log-sink.js';
import { waitUntil } from '../helpers/wait.js';

const svc = (id: string, node = 'n1'): ServiceInstance => ({
  id, service: id, node, kind: 'typical', tags: [], address: '', port: 80, meta: {},
  weights: { passing: 1, warning: 1 }, connectNative: false,
});

function check(id: string, serviceId: string, definition: Check['definition'], status: HealthStatus = 'critical', node = 'n1'): Check {
  const type: Check['type'] = definition.ttl !== undefined ? 'ttl' : definition.http !== undefined ? 'http'
    : definition.tcp !== undefined ? 'tcp' : definition.args !== undefined ? 'script' : 'static';
  return { id, name: id, node, serviceId, serviceName: serviceId, status, notes: '', output: '', type, definition };
}

function input(checks: Check[], services: ServiceInstance[] = [svc('web')]): CatalogInput {
  return {
    datacenter: 'dc1',
    localNode: { name: 'n1', address: '127.0.0.1', datacenter: 'dc1', meta: {} },
    nodes: [{ name: 'n2', address: '127.0.0.2', datacenter: 'dc1', meta: {} }],
    services, checks,
  };
}

interface Rig { registry: Registry; runner: HealthRunner; sink: LogSink; scripts: { on: boolean } }

function rig(t: TestContext, checks: Check[], services?: ServiceInstance[]): Rig {
  const registry = createRegistry(input(checks, services));
  const sink = createLogSink('debug');
  const scripts = { on: false };
  // random 0: the first run happens right away, so tests need not wait out a stagger.
  const runner = createHealthRunner({ registry, logger: sink.logger, enableScriptChecks: () => scripts.on, random: () => 0 });
  t.after(() => runner.close());
  return { registry, runner, sink, scripts };
}

const statusOf = (r: Registry, id: string, node = 'n1'): HealthStatus | undefined =>
  r.current().checks().find((c) => c.id === id && c.node === node)?.status;
const outputOf = (r: Registry, id: string): string | undefined => r.current().checks().find((c) => c.id === id)?.output;
/** What DNS sees: the instance's aggregated status. */
const serviceStatus = (r: Registry, name: string): HealthStatus | undefined => r.current().serviceInstances(name)[0]?.status;

const waitFor = (what: string, test: () => boolean, ms = 3000): Promise<void> => waitUntil(what, test, ms);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function listen(t: TestContext, server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    if (server instanceof http.Server) server.closeAllConnections();
    if (!server.listening) return resolve();
    server.close(() => resolve());
  }));
  return (server.address() as net.AddressInfo).port;
}

/** An HTTP target whose answer the test switches: a status code, or 'hang' (never answers). */
async function switchable(t: TestContext): Promise<{ url: string; set(mode: number | 'hang'): void; hits(): number; maxInFlight(): number }> {
  let mode: number | 'hang' = 200;
  let hits = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    req.socket.once('close', () => { inFlight -= 1; });
    if (mode === 'hang') return;
    res.writeHead(mode);
    res.end(`mode ${mode}`);
  });
  server.keepAliveTimeout = 1;
  const port = await listen(t, server);
  return { url: `http://127.0.0.1:${port}/`, set: (m) => { mode = m; }, hits: () => hits, maxInFlight: () => maxInFlight };
}

describe('health runner', () => {
  it('TTL: starts in its registered status, expires to critical, and pass/fail restart the timer', async (t) => {
    const { registry, runner } = rig(t, [check('web-ttl', 'web', { ttl: 400 }, 'passing')]);
    assert.equal(serviceStatus(registry, 'web'), 'passing');
    await waitFor('TTL expiry', () => statusOf(registry, 'web-ttl') === 'critical');
    assert.equal(outputOf(registry, 'web-ttl'), 'TTL expired');
    assert.equal(serviceStatus(registry, 'web'), 'critical');

    assert.equal(runner.updateTtl('n1', 'web-ttl', 'passing', 'all good'), true);
    assert.equal(serviceStatus(registry, 'web'), 'passing');
    assert.equal(outputOf(registry, 'web-ttl'), 'all good');
    // Updates well inside the TTL keep it from expiring.
    for (let i = 0; i < 6; i++) {
      await sleep(100);
      runner.updateTtl('n1', 'web-ttl', 'passing', 'all good');
      assert.equal(statusOf(registry, 'web-ttl'), 'passing');
    }
    await waitFor('second expiry', () => statusOf(registry, 'web-ttl') === 'critical');
    assert.equal(outputOf(registry, 'web-ttl'), 'TTL expired (last output before timeout follows): all good');
    assert.equal(runner.updateTtl('n1', 'web-ttl', 'warning'), true);
    assert.equal(statusOf(registry, 'web-ttl'), 'warning');
    assert.equal(runner.updateTtl('n1', 'nope', 'passing'), false);
  });

  it('TTL update is refused for a check that is not a TTL check', async (t) => {
    const { runner } = rig(t, [check('web-static', 'web', {}, 'passing')]);
    assert.equal(runner.updateTtl('n1', 'web-static', 'critical'), false);
  });

  it('HTTP: follows the target through 200, 429, 500, a hang past the timeout and a stopped server', async (t) => {
    const target = await switchable(t);
    const { registry, sink } = rig(t, [check('web-http', 'web', { http: target.url, interval: 60, timeout: 200 })]);
    await waitFor('passing', () => statusOf(registry, 'web-http') === 'passing');
    assert.equal(outputOf(registry, 'web-http'), `HTTP GET ${target.url}: 200 OK Output: mode 200`);
    assert.ok(sink.lines.some((l) => l['msg'] === 'check critical -> passing' && l['level'] === 30));
    target.set(429);
    await waitFor('warning', () => statusOf(registry, 'web-http') === 'warning');
    target.set(500);
    await waitFor('critical', () => statusOf(registry, 'web-http') === 'critical');
    target.set(200);
    await waitFor('passing again', () => statusOf(registry, 'web-http') === 'passing');
    target.set('hang');
    await waitFor('critical on timeout', () => statusOf(registry, 'web-http') === 'critical');
    assert.match(outputOf(registry, 'web-http') ?? '', /timed out after 200ms/);
    // Runs of one check never overlap, even when each lasts longer than the interval.
    assert.equal(target.maxInFlight(), 1);
    // Per-run logs stay below info.
    assert.ok(sink.lines.filter((l) => l['msg'] === 'check ran').every((l) => l['level'] === 20));
  });

  it('HTTP: a target that goes away turns the check critical', async (t) => {
    const server = http.createServer((_q, res) => res.end('ok'));
    server.keepAliveTimeout = 1;
    const port = await listen(t, server);
    const { registry } = rig(t, [check('web-http', 'web', { http: `http://127.0.0.1:${port}/`, interval: 50, timeout: 500 })]);
    await waitFor('passing', () => statusOf(registry, 'web-http') === 'passing');
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await waitFor('critical', () => statusOf(registry, 'web-http') === 'critical');
    assert.match(outputOf(registry, 'web-http') ?? '', /ECONNREFUSED/);
  });

  it('TCP: passing while a listener is open, critical once it closes', async (t) => {
    const server = net.createServer((s) => s.end());
    const port = await listen(t, server);
    const { registry } = rig(t, [check('web-tcp', 'web', { tcp: `127.0.0.1:${port}`, interval: 50, timeout: 500 })]);
    await waitFor('passing', () => statusOf(registry, 'web-tcp') === 'passing');
    assert.equal(outputOf(registry, 'web-tcp'), `TCP connect 127.0.0.1:${port}: Success`);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await waitFor('critical', () => statusOf(registry, 'web-tcp') === 'critical');
  });

  it('script checks run only with the switch, and the switch is read at each run', async (t) => {
    const args = [process.execPath, '-e', 'process.exit(1)'];
    const { registry, sink, scripts } = rig(t, [
      check('s1', 'web', { args, interval: 50 }, 'passing'), check('s2', 'web', { args, interval: 50 }, 'passing'),
    ]);
    await sleep(300);
    assert.equal(statusOf(registry, 's1'), 'passing');
    assert.equal(statusOf(registry, 's2'), 'passing');
    assert.equal(sink.lines.filter((l) => /script checks are disabled/.test(String(l['msg']))).length, 1);
    scripts.on = true;
    await waitFor('warning', () => statusOf(registry, 's1') === 'warning' && statusOf(registry, 's2') === 'warning');
  });

  it('static checks are never run', async (t) => {
    const { registry, runner } = rig(t, [check('web-static', 'web', {}, 'warning')]);
    assert.equal(runner.runNow('n1', 'web-static'), true);
    await sleep(100);
    assert.equal(statusOf(registry, 'web-static'), 'warning');
  });

  it('deregister_critical_service_after removes a service that stays critical, and only that one', async (t) => {
    const { registry, sink } = rig(t, [
      check('doomed-ttl', 'doomed', { ttl: 50, deregisterCriticalServiceAfter: 300 }, 'passing'),
      check('kept-ttl', 'kept', { ttl: 50 }, 'passing'),
    ], [svc('doomed'), svc('kept')]);
    await waitFor('both critical', () => statusOf(registry, 'doomed-ttl') === 'critical' && statusOf(registry, 'kept-ttl') === 'critical');
    assert.equal(registry.current().serviceInstances('doomed').length, 1);
    await waitFor('deregistration', () => registry.current().serviceInstances('doomed').length === 0);
    assert.equal(registry.current().serviceInstances('kept').length, 1);
    assert.ok(sink.find(/deregister_critical_service_after/));
  });

  it('a critical check that recovers in time keeps its service', async (t) => {
    const { registry, runner } = rig(t, [check('web-ttl', 'web', { ttl: 5000, deregisterCriticalServiceAfter: 300 }, 'critical')]);
    await sleep(100);
    runner.updateTtl('n1', 'web-ttl', 'passing');
    await sleep(400);
    assert.equal(registry.current().serviceInstances('web').length, 1);
  });

  it('node checks run, on other nodes too, and apply to every service on the node', async (t) => {
    const server = net.createServer((s) => s.end());
    const port = await listen(t, server);
    const closed = await freePort();
    const { registry } = rig(t, [
      check('n1-alive', '', { tcp: `127.0.0.1:${closed}`, interval: 50, timeout: 500 }, 'passing'),
      check('n2-alive', '', { tcp: `127.0.0.1:${port}`, interval: 50, timeout: 500 }, 'critical', 'n2'),
    ], [svc('a'), svc('b'), svc('c', 'n2')]);
    await waitFor('n1 critical', () => statusOf(registry, 'n1-alive') === 'critical');
    assert.equal(serviceStatus(registry, 'a'), 'critical');
    assert.equal(serviceStatus(registry, 'b'), 'critical');
    await waitFor('n2 passing', () => statusOf(registry, 'n2-alive', 'n2') === 'passing');
    assert.equal(serviceStatus(registry, 'c'), 'passing');
  });

  it('a changed definition restarts the check against its new target', async (t) => {
    const a = await switchable(t);
    const b = await switchable(t);
    b.set(500);
    const { registry } = rig(t, [check('web-http', 'web', { http: a.url, interval: 50, timeout: 500 })]);
    await waitFor('passing on A', () => statusOf(registry, 'web-http') === 'passing');
    registry.registerCheck(check('web-http', 'web', { http: b.url, interval: 50, timeout: 500 }, 'passing'), 'api');
    await waitFor('critical on B', () => statusOf(registry, 'web-http') === 'critical');
    const hitsOnA = a.hits();
    await sleep(250);
    assert.ok(a.hits() <= hitsOnA + 1, 'the old runner stopped');
    assert.ok(b.hits() >= 2);
  });

  it('status changes elsewhere do not restart a running check', async (t) => {
    const target = await switchable(t);
    const { registry } = rig(t, [
      check('web-http', 'web', { http: target.url, interval: 60_000 }),
      check('other', 'web', { ttl: 60_000 }, 'passing'),
    ]);
    await waitFor('first run', () => statusOf(registry, 'web-http') === 'passing');
    for (let i = 0; i < 20; i++) registry.updateCheck('n1', 'other', { status: i % 2 === 0 ? 'critical' : 'passing' });
    registry.registerService(svc('unrelated'), [], 'api');
    // A reload brings equal definitions in new objects: still the same check.
    registry.replaceConfig(input([
      check('web-http', 'web', { http: target.url, interval: 60_000 }),
      check('other', 'web', { ttl: 60_000 }, 'passing'),
    ]));
    registry.updateCheck('n1', 'other', { status: 'warning' });
    await sleep(150);
    assert.equal(target.hits(), 1);
    assert.equal(statusOf(registry, 'web-http'), 'passing');
  });

  it('runNow runs a check at once instead of waiting for its interval', async (t) => {
    const port = await freePort();
    const { registry, runner } = rig(t, [check('web-tcp', 'web', { tcp: `127.0.0.1:${port}`, interval: 60_000, timeout: 500 })]);
    await waitFor('first run', () => (outputOf(registry, 'web-tcp') ?? '') !== '');
    assert.equal(statusOf(registry, 'web-tcp'), 'critical');
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    assert.equal(runner.runNow('n1', 'web-tcp'), true);
    await waitFor('passing after runNow', () => statusOf(registry, 'web-tcp') === 'passing', 1000);
    assert.equal(runner.runNow('n1', 'unknown'), false);
  });

  it('a removed check stops running', async (t) => {
    const target = await switchable(t);
    const { registry } = rig(t, [check('web-http', 'web', { http: target.url, interval: 40 })]);
    await waitFor('passing', () => statusOf(registry, 'web-http') === 'passing');
    registry.deregisterCheck('n1', 'web-http');
    const hits = target.hits();
    await sleep(200);
    assert.ok(target.hits() <= hits + 1);
  });

  it('close() aborts a run in flight, and no status changes afterwards', async (t) => {
    const target = await switchable(t);
    target.set('hang');
    const registry = createRegistry(input([
      check('web-http', 'web', { http: target.url, interval: 50, timeout: 60_000 }, 'passing'),
      check('web-ttl', 'web', { ttl: 100 }, 'passing'),
    ]));
    const runner = createHealthRunner({ registry, logger: createLogSink().logger, enableScriptChecks: () => true, random: () => 0 });
    await waitFor('request in flight', () => target.hits() === 1);
    await runner.close();
    await sleep(250);
    assert.equal(statusOf(registry, 'web-ttl'), 'passing');
    assert.equal(statusOf(registry, 'web-http'), 'passing');
  });

  it('after close() nothing keeps the process alive', async () => {
    const src = (p: string): string => pathToFileURL(new URL(p, import.meta.url).pathname).href;
    const code = `
      import http from 'node:http';
      import net from 'node:net';
      import { createRegistry } from ${JSON.stringify(src('../../src/catalog/registry.ts'))};
      import { createHealthRunner } from ${JSON.stringify(src('../../src/health/runner.ts'))};
      const server = http.createServer(() => {}); // never answers: a run stays in flight
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const port = server.address().port;
      const c = (id, definition, type) => ({ id, name: id, node: 'n1', serviceId: 'web', serviceName: 'web', status: 'passing', notes: '', output: '', type, definition });
      const registry = createRegistry({ datacenter: 'dc1', localNode: { name: 'n1', address: '127.0.0.1', datacenter: 'dc1', meta: {} }, nodes: [],
        services: [{ id: 'web', service: 'web', node: 'n1', kind: 'typical', tags: [], address: '', port: 80, meta: {}, weights: { passing: 1, warning: 1 }, connectNative: false }],
        checks: [c('h', { http: 'http://127.0.0.1:' + port + '/', interval: 30, timeout: 60000 }, 'http'), c('t', { ttl: 60000 }, 'ttl'),
          c('p', { tcp: '127.0.0.1:' + port, interval: 30 }, 'tcp'), c('s', { args: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], interval: 30 }, 'script'),
          c('d', { ttl: 10, deregisterCriticalServiceAfter: 60000 }, 'ttl')] });
      const runner = createHealthRunner({ registry, logger: { info() {}, warn() {}, debug() {}, error() {} }, enableScriptChecks: () => true, random: () => 0 });
      await new Promise((r) => setTimeout(r, 300));
      await runner.close();
      server.closeAllConnections();
      server.close();
      console.log('closed');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const exit = await new Promise<number | null>((resolve) => {
      const kill = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 10_000);
      child.once('exit', (c) => { clearTimeout(kill); resolve(c); });
    });
    assert.equal(exit, 0, `the runner process must exit on its own after close(): ${out}`);
    assert.match(out, /closed/);
  });
});
