// Managed proxies under the real binary: started, seen in DNS, restarted after SIGKILL, stopped with the server, refused as root.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { curl } from '../helpers/api-harness.js';
import { hasDig } from '../helpers/dig.js';
import { isAlive, LISTEN_PROXY, startBinary, type BinaryServer } from '../helpers/binary.js';
import { freePort } from '../helpers/free-port.js';
import { pollUntil } from '../helpers/wait.js';
import { createSrvViews, everywhere, nowhere, type SrvViews } from '../fixtures/live/srv-views.js';

const CONNECT = 'redis.connect.consul';
const isRoot = process.getuid?.() === 0;

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

interface Report { pid: number; env: Record<string, string> }

function readReport(file: string): Report | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Report;
  } catch {
    return undefined;
  }
}

async function checkOf(port: number, id: string): Promise<{ Status: string; Output: string } | undefined> {
  const r = await curl(port, '/v1/agent/checks');
  assert.equal(r.status, 200);
  return (JSON.parse(r.body) as Record<string, { Status: string; Output: string }>)[id];
}

/** A config dir with `redis` and its managed proxy running listen-proxy.mjs on `bindPort`. */
function writeConfig(root: string, bindPort: number, report: string, allowRoot: boolean): string {
  const dir = join(root, 'config');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'agent.json'), JSON.stringify({
    datacenter: 'dc1', node_name: 'proxy-node', advertise_addr: '127.0.0.1',
    ...(allowRoot ? { connect: { proxy: { allow_managed_root: true } } } : {}),
  }));
  writeFileSync(join(dir, 'redis.json'), JSON.stringify({
    service: {
      name: 'redis', port: 6379,
      connect: { proxy: { command: [process.execPath, LISTEN_PROXY, report], config: { bind_port: bindPort } } },
    },
  }));
  return dir;
}

describe('a managed proxy run by the real server', () => {
  const root = mkdtempSync(join(tmpdir(), 'cdns-live-proxy-'));
  // Outside the config dir: the server reads every *.json there.
  const report = join(root, 'out', 'proxy-report.json');
  const pids = new Set<number>();
  let bindPort = 0;
  let server: BinaryServer | undefined;
  let views: SrvViews | undefined;
  let digOk = false;

  before(async () => {
    digOk = await hasDig();
    if (!digOk) return;
    mkdirSync(join(root, 'out'));
    bindPort = await freePort();
    server = await startBinary(['--config-dir', writeConfig(root, bindPort, report, true)], { startMs: 15_000 });
    views = await createSrvViews(server.dnsPort);
  });
  after(async () => {
    await views?.close();
    await server?.kill();
    // Only if a test failed midway: never leave a proxy we caused to start behind.
    for (const pid of pids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('starts the proxy, which listens on its port; its listening check passes and dig shows it within 8 s', async (t) => {
    if (!server || !views) return t.skip('dig is not installed');
    const httpAddr = `127.0.0.1:${server.httpPort}`;
    const started = await pollUntil(async () => readReport(report), (r) => r?.env['CONSUL_HTTP_ADDR'] === httpAddr, 8000);
    assert.ok(started.ok && started.last, `the proxy runs with CONSUL_HTTP_ADDR=${httpAddr}: ${JSON.stringify(started.last)}\n${server.stderr()}`);
    const rep = started.last;
    pids.add(rep.pid);
    assert.equal(rep.env['CONNECT_PROXY_ID'], 'redis-proxy');
    assert.equal(rep.env['CONNECT_PROXY_BIND_PORT'], String(bindPort));
    const listening = await pollUntil(() => canConnect(bindPort), (ok) => ok, 3000);
    assert.ok(listening.ok, 'the proxy listens on its bind port');

    const passing = await pollUntil(() => checkOf(server!.httpPort, 'service:redis-proxy'), (c) => c?.Status === 'passing', 8000);
    assert.ok(passing.ok, `"Connect Proxy Listening" passes: ${JSON.stringify(passing.last)}`);
    const seen = await pollUntil(() => views!.srvPorts(CONNECT), everywhere(bindPort), 8000);
    assert.ok(seen.ok, `redis.connect.consul lists port ${bindPort}: ${JSON.stringify(seen.last)}`);
    assert.ok(nowhere(6379)(seen.last!), 'never the plain instance');
  });

  it('started the proxy once, already knowing CONSUL_HTTP_ADDR (no restart without a cause)', async (t) => {
    if (!server || !views) return t.skip('dig is not installed');
    const rep = readReport(report);
    assert.equal(rep?.env['CONSUL_HTTP_ADDR'], `127.0.0.1:${server.httpPort}`);
    const starts = server.logged(/^proxy started$/);
    assert.equal(starts.length, 1, `one start before anything killed it: ${JSON.stringify(starts)}`);
    assert.equal(starts[0]?.['pid'], rep?.pid);
    assert.deepEqual(server.logged(/config changed; restarting/), []);
  });

  it('restarts the proxy after SIGKILL: a new pid, listening, and visible again', async (t) => {
    if (!server || !views) return t.skip('dig is not installed');
    const old = readReport(report);
    assert.ok(old, 'the proxy is running');
    process.kill(old.pid, 'SIGKILL');
    const gone = await pollUntil(async () => isAlive(old.pid), (alive) => !alive, 3000);
    assert.ok(gone.ok, 'the killed proxy is gone');
    const again = await pollUntil(async () => readReport(report), (r) => r !== undefined && r.pid !== old.pid, 8000);
    assert.ok(again.ok, `restarted with a new pid: ${JSON.stringify(again.last)}\n${server.stderr()}`);
    const rep = again.last!;
    pids.add(rep.pid);
    assert.ok(isAlive(rep.pid));
    assert.ok(server.logged(/^proxy started$/).some((l) => l['pid'] === rep.pid && Number(l['restarts']) >= 1),
      'the supervisor logged the restart');
    const listening = await pollUntil(() => canConnect(bindPort), (ok) => ok, 3000);
    assert.ok(listening.ok, 'the restarted proxy listens on the same port');
    const passing = await pollUntil(() => checkOf(server!.httpPort, 'service:redis-proxy'), (c) => c?.Status === 'passing', 8000);
    assert.ok(passing.ok, `its check passes again: ${JSON.stringify(passing.last)}`);
    const seen = await pollUntil(() => views!.srvPorts(CONNECT), everywhere(bindPort), 8000);
    assert.ok(seen.ok, `visible again: ${JSON.stringify(seen.last)}`);
  });

  it('stopping the server with SIGTERM stops the proxy too (SIGTERM sent to it, pid gone within 6 s)', async (t) => {
    if (!server || !views) return t.skip('dig is not installed');
    const rep = readReport(report);
    assert.ok(rep && isAlive(rep.pid), 'the proxy is running before the stop');
    server.child.kill('SIGTERM');
    const gone = await pollUntil(async () => isAlive(rep.pid), (alive) => !alive, 6000);
    assert.ok(gone.ok, `proxy pid ${rep.pid} still exists 6 s after SIGTERM`);
    const code = await Promise.race([server.exited.then((e) => e.code ?? e.signal), sleep(6000).then(() => 'still running')]);
    assert.equal(code, 0, `the server exits cleanly: ${server.stderr()}`);
    assert.match(readFileSync(`${report}.signals`, 'utf8'), /SIGTERM/, 'the proxy was asked to stop, not orphaned');
    assert.equal(await canConnect(bindPort), false, 'nothing listens on the proxy port any more');
  });
});

describe('a managed proxy as root without allow_managed_root', () => {
  it('is not started, the log says so once, and redis.connect.consul does not list it', async (t) => {
    if (!isRoot) return t.skip('only meaningful when the tests run as root');
    if (!(await hasDig())) return t.skip('dig is not installed');
    const root = mkdtempSync(join(tmpdir(), 'cdns-live-noroot-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'out'));
    const report = join(root, 'out', 'proxy-report.json');
    const bindPort = await freePort();
    const server = await startBinary(['--config-dir', writeConfig(root, bindPort, report, false)], { startMs: 15_000 });
    t.after(() => server.kill());
    t.after(() => {
      const rep = readReport(report);
      if (rep && isAlive(rep.pid)) process.kill(rep.pid, 'SIGKILL');
    });
    const views = await createSrvViews(server.dnsPort);
    t.after(() => views.close());

    // Its listening check has run at least once (first run within a second), so a proxy would have been seen.
    const ran = await pollUntil(() => checkOf(server.httpPort, 'service:redis-proxy'), (c) => (c?.Output ?? '') !== '', 3000);
    assert.ok(ran.ok, `the listening check ran: ${JSON.stringify(ran.last)}`);
    assert.equal(ran.last?.Status, 'critical');

    // More catalog changes and a reload: each re-plans the proxies, and the refusal must still be said only once.
    const put = await curl(server.httpPort, '/v1/agent/service/register',
      ['-X', 'PUT', '-H', 'Content-Type: application/json', '--data-binary', JSON.stringify({ Name: 'web', Port: 8080 })]);
    assert.equal(put.status, 200);
    server.child.kill('SIGHUP');
    const reloaded = await pollUntil(async () => server.logged(/configuration reloaded/).length, (n) => n > 0, 5000);
    assert.ok(reloaded.ok, 'the SIGHUP reload happened');

    const refusals = server.logged(/running as root/);
    assert.equal(refusals.length, 1, `one refusal line: ${JSON.stringify(refusals)}`);
    assert.match(String(refusals[0]?.['msg']), /allow_managed_root/);
    assert.equal(existsSync(report), false, 'the proxy command never ran');
    assert.equal(await canConnect(bindPort), false, 'nothing listens on the proxy port');
    const v = await views.srvPorts(CONNECT);
    assert.ok(nowhere(bindPort)(v), `redis.connect.consul does not list the proxy: ${JSON.stringify(v)}`);
    assert.ok(nowhere(6379)(v), 'nor the plain instance');
  });
});
