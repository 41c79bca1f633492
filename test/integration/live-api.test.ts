// The real server's live catalog: registrations, TTL/HTTP/TCP checks and maintenance through the HTTP API, seen in DNS.
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Consul from 'consul';
import { curl, REFERENCE_DIR } from '../helpers/api-harness.js';
import { hasDig } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { pollUntil } from '../helpers/wait.js';
import { createHttpTarget, createTcpTarget, type HttpMode } from '../fixtures/live/check-targets.js';
import { createSrvViews, everywhere, nowhere, type SrvView, type SrvViews } from '../fixtures/live/srv-views.js';

interface Live {
  readonly srv: TestServer;
  readonly views: SrvViews;
  readonly consul: Consul;
  /** curl -X PUT with a JSON body; the status code. */
  put(path: string, body?: unknown): Promise<number>;
  /** The status of one check, from GET /v1/agent/checks (curl). */
  checkStatus(id: string): Promise<string | undefined>;
}

async function live(t: TestContext): Promise<Live | undefined> {
  if (!(await hasDig())) {
    t.skip('dig is not installed');
    return undefined;
  }
  const srv = await startTestServer({ dirs: [REFERENCE_DIR] });
  t.after(() => srv.close());
  const views = await createSrvViews(srv.port);
  t.after(() => views.close());
  const consul = new Consul({ host: '127.0.0.1', port: srv.httpPort });
  t.after(() => consul.destroy());
  return {
    srv, views, consul,
    async put(path, body) {
      const args = ['-X', 'PUT'];
      if (body !== undefined) args.push('-H', 'Content-Type: application/json', '--data-binary', JSON.stringify(body));
      return (await curl(srv.httpPort, path, args)).status;
    },
    async checkStatus(id) {
      const r = await curl(srv.httpPort, '/v1/agent/checks');
      assert.equal(r.status, 200);
      return (JSON.parse(r.body) as Record<string, { Status: string }>)[id]?.Status;
    },
  };
}

/** Polls `name` over dig UDP/TCP and c-ares UDP/TCP until `ok` holds in all four views; fails with the last one seen. */
async function expectSrv(l: Live, name: string, ok: (v: SrvView) => boolean, withinMs: number, what: string,
  since = Date.now()): Promise<SrvView> {
  const r = await pollUntil(() => l.views.srvPorts(name), ok, withinMs, { since });
  assert.ok(r.ok, `${what} within ${withinMs} ms (after ${r.elapsedMs} ms): ${JSON.stringify(r.last)}`);
  return r.last as SrvView;
}

const CONNECT = 'redis.connect.consul';
/** The unmanaged proxy of test/fixtures/reference (no checks: always in the answer). */
const EXT_PROXY_PORT = 8181;
const PLAIN_REDIS_PORT = 6379;

function proxyBody(id: string, port: number, check: Record<string, unknown>): Record<string, unknown> {
  return { Name: 'redis-proxy', ID: id, Kind: 'connect-proxy', Port: port, Proxy: { DestinationServiceName: 'redis' }, Check: check };
}

describe('live catalog: registrations through the HTTP API reach DNS', () => {
  it('an unmanaged proxy registered with curl, and one with the consul client, each appear in redis.connect.consul within 1 s', async (t) => {
    const l = await live(t);
    if (!l) return;
    const before = await l.views.srvPorts(CONNECT);
    assert.ok(everywhere(EXT_PROXY_PORT)(before) && nowhere(21101)(before), JSON.stringify(before));

    let since = Date.now();
    assert.equal(await l.put('/v1/agent/service/register', proxyBody('redis-proxy-curl', 21101, { TTL: '30s', Status: 'passing' })), 200);
    await expectSrv(l, CONNECT, everywhere(21101), 1000, 'the curl-registered proxy is answered', since);

    since = Date.now();
    await l.consul.agent.service.register({
      name: 'redis-proxy', id: 'redis-proxy-npm', port: 21102,
      proxy: { destinationServiceName: 'redis' }, check: { ttl: '30s', status: 'passing' },
    } as never);
    const after = await expectSrv(l, CONNECT, everywhere(21102), 1000, 'the consul-client-registered proxy is answered', since);
    assert.ok(everywhere(21101)(after) && everywhere(EXT_PROXY_PORT)(after), 'earlier endpoints stay');
    assert.ok(nowhere(PLAIN_REDIS_PORT)(after), 'the plain instance is never a .connect answer');
  });

  it('failing its TTL check takes the proxy out within 1 s; passing it brings it back within 1 s', async (t) => {
    const l = await live(t);
    if (!l) return;
    assert.equal(await l.put('/v1/agent/service/register', proxyBody('rp-a', 21201, { TTL: '30s', Status: 'passing' })), 200);
    assert.equal(await l.put('/v1/agent/service/register', proxyBody('rp-b', 21202, { TTL: '30s', Status: 'passing' })), 200);
    await expectSrv(l, CONNECT, (v) => everywhere(21201)(v) && everywhere(21202)(v), 1000, 'both proxies are answered');

    let since = Date.now();
    assert.equal(await l.put('/v1/agent/check/fail/service:rp-a?note=down'), 200);
    const failed = await expectSrv(l, CONNECT, nowhere(21201), 1000, 'the failed proxy leaves', since);
    assert.ok(everywhere(21202)(failed), 'only the failed one leaves');
    assert.equal(await l.checkStatus('service:rp-a'), 'critical');

    since = Date.now();
    await l.consul.agent.check.pass({ id: 'service:rp-a', note: 'up again' } as never);
    await expectSrv(l, CONNECT, everywhere(21201), 1000, 'the passing proxy is back', since);

    // A warning still counts as healthy in DNS (dns_config.only_passing is off in the reference config).
    assert.equal(await l.put('/v1/agent/check/update/service:rp-a', { Status: 'warning', Output: 'slow' }), 200);
    assert.equal(await l.checkStatus('service:rp-a'), 'warning');
    assert.ok(everywhere(21201)(await l.views.srvPorts(CONNECT)), 'a warning proxy stays in the answer');
  });

  it('a TTL check that is never updated expires: the proxy leaves within ttl + 1 s', async (t) => {
    const l = await live(t);
    if (!l) return;
    const since = Date.now();
    assert.equal(await l.put('/v1/agent/service/register', proxyBody('rp-ttl', 21301, { TTL: '1s', Status: 'passing' })), 200);
    // Seen while the TTL runs, so leaving later is the expiry and not a registration that never took.
    await expectSrv(l, CONNECT, everywhere(21301), 1000, 'answered while the TTL runs', since);
    await expectSrv(l, CONNECT, nowhere(21301), 2000, 'the expired proxy leaves', since);
    const r = await curl(l.srv.httpPort, '/v1/agent/checks');
    const check = (JSON.parse(r.body) as Record<string, { Status: string; Output: string }>)['service:rp-ttl'];
    assert.equal(check?.Status, 'critical');
    assert.match(check?.Output ?? '', /TTL expired/);
  });

  it('deregistering removes the proxy; a plain redis instance is answered under .service and never under .connect', async (t) => {
    const l = await live(t);
    if (!l) return;
    assert.equal(await l.put('/v1/agent/service/register', proxyBody('rp-gone', 21401, { TTL: '30s', Status: 'passing' })), 200);
    await l.consul.agent.service.register({
      name: 'redis-proxy', id: 'rp-npm-gone', port: 21402, proxy: { destinationServiceName: 'redis' },
    } as never);
    await expectSrv(l, CONNECT, (v) => everywhere(21401)(v) && everywhere(21402)(v), 1000, 'both proxies are answered');

    let since = Date.now();
    assert.equal(await l.put('/v1/agent/service/deregister/rp-gone'), 200);
    await l.consul.agent.service.deregister('rp-npm-gone');
    await expectSrv(l, CONNECT, (v) => nowhere(21401)(v) && nowhere(21402)(v), 1000, 'the deregistered proxies leave', since);
    assert.equal(await l.put('/v1/agent/service/deregister/rp-gone'), 404, 'a second deregistration names an unknown ID');

    since = Date.now();
    assert.equal(await l.put('/v1/agent/service/register', { Name: 'redis', ID: 'redis-plain-2', Port: 6390 }), 200);
    const plain = await expectSrv(l, 'redis.service.consul', everywhere(6390), 1000, 'the plain instance is answered under .service', since);
    assert.ok(everywhere(PLAIN_REDIS_PORT)(plain));
    const connect = await l.views.srvPorts(CONNECT);
    assert.ok(nowhere(6390)(connect) && nowhere(PLAIN_REDIS_PORT)(connect), `.connect never returns a plain instance: ${JSON.stringify(connect)}`);
    assert.ok(everywhere(EXT_PROXY_PORT)(connect));
  });
});

describe('live catalog: blocking queries', () => {
  it('a blocking /v1/health/connect/redis (curl) is pending until a registration, then returns within 1 s with a higher index', async (t) => {
    const l = await live(t);
    if (!l) return;
    // The managed proxy's listening check first runs within a second of start and records its output, which is a
    // change too; let it happen first so that the only change during the wait is ours.
    const settled0 = await pollUntil(async () => {
      const r = await curl(l.srv.httpPort, '/v1/agent/checks');
      return (JSON.parse(r.body) as Record<string, { Output: string }>)['service:redis-proxy']?.Output ?? '';
    }, (out) => out !== '', 3000);
    assert.ok(settled0.ok, 'the listening check ran once');
    const first = await curl(l.srv.httpPort, '/v1/health/connect/redis');
    assert.equal(first.status, 200);
    const n = Number(first.headers['x-consul-index']);
    assert.ok(Number.isInteger(n) && n > 0, `X-Consul-Index: ${first.headers['x-consul-index']}`);

    let settled = false;
    const blocked = curl(l.srv.httpPort, `/v1/health/connect/redis?index=${n}&wait=10s`).finally(() => { settled = true; });
    await sleep(300);
    assert.equal(settled, false, 'still pending 300 ms after being sent, with no change');

    const deadline = sleep(1000).then(() => 'timeout' as const);
    assert.equal(await l.put('/v1/agent/service/register', proxyBody('rp-late', 21501, { TTL: '30s', Status: 'passing' })), 200);
    const r = await Promise.race([blocked, deadline]);
    assert.notEqual(r, 'timeout', 'returned within 1 s of the change');
    if (r === 'timeout') return;
    assert.equal(r.status, 200);
    assert.ok(Number(r.headers['x-consul-index']) > n, `index ${r.headers['x-consul-index']} > ${n}`);
    const ids = (JSON.parse(r.body) as { Service: { ID: string } }[]).map((e) => e.Service.ID);
    assert.ok(ids.includes('rp-late'), `the reply holds the new proxy: ${ids.join(', ')}`);
  });
});

describe('live catalog: checks against real local targets', () => {
  const WEB2 = 'web2.service.consul';
  /** Interval 200 ms + timeout 300 ms: a transition is seen within a few runs; the bound leaves room for a loaded machine. */
  const TRANSITION_MS = 3000;

  it('an HTTP check follows its target: 200 in, 500 out, 429 (warning) stays, too slow out, stopped out, started again in', async (t) => {
    const l = await live(t);
    if (!l) return;
    const target = await createHttpTarget();
    t.after(() => target.close());
    assert.equal(await l.put('/v1/agent/service/register', {
      Name: 'web2', ID: 'web2', Port: 9200, Check: { HTTP: target.url, Interval: '200ms', Timeout: '300ms' },
    }), 200);
    await expectSrv(l, WEB2, everywhere(9200), TRANSITION_MS, 'a 200 target makes it visible');
    assert.ok(target.hits() > 0, 'the check really asked the target');

    const steps: { mode: HttpMode; visible: boolean; status: string }[] = [
      { mode: 'error', visible: false, status: 'critical' },
      { mode: 'ok', visible: true, status: 'passing' },
      { mode: 'slow', visible: false, status: 'critical' },
      { mode: 'ok', visible: true, status: 'passing' },
    ];
    for (const s of steps) {
      target.setMode(s.mode);
      await expectSrv(l, WEB2, s.visible ? everywhere(9200) : nowhere(9200), TRANSITION_MS, `mode ${s.mode}: visible ${s.visible}`);
      assert.equal(await l.checkStatus('service:web2'), s.status, `mode ${s.mode}`);
    }

    target.setMode('too-many');
    const warned = await pollUntil(() => l.checkStatus('service:web2'), (s) => s === 'warning', TRANSITION_MS);
    assert.ok(warned.ok, `429 makes the check warning: ${warned.last}`);
    assert.ok(everywhere(9200)(await l.views.srvPorts(WEB2)), 'a warning instance stays in the answer');

    target.setMode('ok');
    await target.stop();
    await expectSrv(l, WEB2, nowhere(9200), TRANSITION_MS, 'a stopped target takes it out');
    await target.start();
    await expectSrv(l, WEB2, everywhere(9200), TRANSITION_MS, 'a started target brings it back');
  });

  it('a TCP check follows its listener: open in, closed out, open again in', async (t) => {
    const l = await live(t);
    if (!l) return;
    const target = await createTcpTarget();
    t.after(() => target.close());
    assert.equal(await l.put('/v1/agent/service/register', {
      Name: 'web2', ID: 'web2-tcp', Port: 9201, Check: { TCP: `127.0.0.1:${target.port}`, Interval: '200ms', Timeout: '300ms' },
    }), 200);
    await expectSrv(l, WEB2, everywhere(9201), TRANSITION_MS, 'an open listener makes it visible');
    assert.ok(target.accepted() > 0, 'the check really connected');
    await target.stop();
    await expectSrv(l, WEB2, nowhere(9201), TRANSITION_MS, 'a closed listener takes it out');
    assert.equal(await l.checkStatus('service:web2-tcp'), 'critical');
    await target.start();
    await expectSrv(l, WEB2, everywhere(9201), TRANSITION_MS, 'an open listener brings it back');
    assert.equal(await l.checkStatus('service:web2-tcp'), 'passing');
  });
});

describe('live catalog: maintenance mode', () => {
  it('service maintenance (curl) hides the service from DNS; turning it off brings it back', async (t) => {
    const l = await live(t);
    if (!l) return;
    const WEB = 'web.service.consul';
    await expectSrv(l, WEB, everywhere(8080), 1000, 'web is answered before maintenance');
    let since = Date.now();
    assert.equal(await l.put('/v1/agent/service/maintenance/web?enable=true&reason=upgrading'), 200);
    await expectSrv(l, WEB, nowhere(8080), 1000, 'maintenance hides web', since);
    assert.equal(await l.checkStatus('_service_maintenance:web'), 'critical');
    const db = await l.views.srvPorts('db.connect.consul');
    assert.ok(everywhere(5432)(db), 'other services are untouched');
    since = Date.now();
    assert.equal(await l.put('/v1/agent/service/maintenance/web?enable=false'), 200);
    await expectSrv(l, WEB, everywhere(8080), 1000, 'web is back after maintenance', since);
    assert.equal(await l.checkStatus('_service_maintenance:web'), undefined);
  });

  it('node maintenance (consul client) hides every service of the node; off brings them back', async (t) => {
    const l = await live(t);
    if (!l) return;
    await expectSrv(l, CONNECT, everywhere(EXT_PROXY_PORT), 1000, 'the proxy is answered before maintenance');
    let since = Date.now();
    await l.consul.agent.maintenance({ enable: true, reason: 'kernel upgrade' } as never);
    await expectSrv(l, CONNECT, nowhere(EXT_PROXY_PORT), 1000, 'node maintenance hides the proxy', since);
    await expectSrv(l, 'db.connect.consul', nowhere(5432), 1000, 'and the native service');
    since = Date.now();
    await l.consul.agent.maintenance({ enable: false } as never);
    await expectSrv(l, CONNECT, everywhere(EXT_PROXY_PORT), 1000, 'the proxy is back', since);
    await expectSrv(l, 'db.connect.consul', everywhere(5432), 1000, 'and the native service');
  });
});
