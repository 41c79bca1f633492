// Reload end to end: edits in a watched config dir and SIGHUP reach dig answers (UDP and TCP) within 2 s.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { curl } from '../helpers/api-harness.js';
import { isAlive, LISTEN_PROXY, startBinary } from '../helpers/binary.js';
import { hasDig } from '../helpers/dig.js';
import { freePort } from '../helpers/free-port.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../helpers/wait.js';
import { srvBoth } from '../fixtures/reload/dns-poll.js';

const REFERENCE = fileURLToPath(new URL('../fixtures/reference/', import.meta.url));
const noDig = !(await hasDig()) && 'dig is not installed';
const both = (s: string): { udp: string; tcp: string } => ({ udp: s, tcp: s });
const same = (want: { udp: string; tcp: string }) => (v: { udp: string; tcp: string }): boolean =>
  v.udp === want.udp && v.tcp === want.tcp;

function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A watched copy of test/fixtures/reference, served in-process. */
async function watchedReference(t: TestContext): Promise<{ dir: string; srv: TestServer }> {
  const dir = tempDir(t, 'cdns-reload-');
  cpSync(REFERENCE, dir, { recursive: true });
  const srv = await startTestServer({ dirs: [dir], watch: true });
  t.after(() => srv.close());
  return { dir, srv };
}

const webJson = (port: number): string => JSON.stringify({ service: { name: 'web', port, tags: ['primary', 'v1'] } });

function reloadErrors(srv: TestServer, from: number): string[] {
  return srv.logs.lines.slice(from)
    .filter((l) => l['level'] === 50 && typeof l['msg'] === 'string' && /reload failed/.test(l['msg']))
    .map((l) => String(l['msg']));
}

describe('reload of a watched config dir (in-process server)', { skip: noDig, timeout: 120_000 }, () => {
  it('editing a file (web 8080 → 9090) shows in web.service.consul SRV within 2 s', async (t) => {
    const { dir, srv } = await watchedReference(t);
    // web-bad's TTL check is critical, so only the plain web instance answers.
    assert.deepEqual(await srvBoth(srv.port, 'web.service.consul'), both('NOERROR 8080'));
    const since = Date.now();
    writeFileSync(join(dir, 'web.json'), webJson(9090));
    await eventually('web on 9090', 2000, () => srvBoth(srv.port, 'web.service.consul'), same(both('NOERROR 9090')), since);
  });

  it('adding a file (service cache) makes cache.service.consul answer within 2 s', async (t) => {
    const { dir, srv } = await watchedReference(t);
    assert.deepEqual(await srvBoth(srv.port, 'cache.service.consul'), both('NXDOMAIN'));
    const since = Date.now();
    writeFileSync(join(dir, 'cache.json'), JSON.stringify({ service: { name: 'cache', port: 6380 } }));
    await eventually('cache answers', 2000, () => srvBoth(srv.port, 'cache.service.consul'), same(both('NOERROR 6380')), since);
  });

  it('removing a file drops its service within 2 s; a service registered with curl stays', async (t) => {
    const { dir, srv } = await watchedReference(t);
    const reg = await curl(srv.httpPort, '/v1/agent/service/register',
      ['-X', 'PUT', '--data-binary', JSON.stringify({ Name: 'api-svc', Port: 7777 })]);
    assert.equal(reg.status, 200, reg.body);
    assert.deepEqual(await srvBoth(srv.port, 'db.service.consul'), both('NOERROR 5432'));
    assert.deepEqual(await srvBoth(srv.port, 'api-svc.service.consul'), both('NOERROR 7777'));
    const since = Date.now();
    unlinkSync(join(dir, 'db.json'));
    await eventually('db gone', 2000, () => srvBoth(srv.port, 'db.service.consul'), same(both('NXDOMAIN')), since);
    assert.deepEqual(await srvBoth(srv.port, 'db.connect.consul'), both('NXDOMAIN'));
    assert.deepEqual(await srvBoth(srv.port, 'api-svc.service.consul'), both('NOERROR 7777'));
    const services = await curl(srv.httpPort, '/v1/agent/services');
    const ids = Object.keys(JSON.parse(services.body) as Record<string, unknown>);
    assert.ok(ids.includes('api-svc') && !ids.includes('db'), ids.join(','));
  });

  it('a broken file keeps the last good catalog serving and logs file, key and reason; fixing it applies', async (t) => {
    const { dir, srv } = await watchedReference(t);
    const file = join(dir, 'web.json');
    const good = both('NOERROR 8080');
    assert.deepEqual(await srvBoth(srv.port, 'web.service.consul'), good);

    // 1. A syntax error: the error names the file with the line, and the old answers stay.
    let from = srv.logs.lines.length;
    let since = Date.now();
    writeFileSync(file, '{\n  "service": {\n    "name": "web",\n    "port": 9090,,\n  }\n}\n');
    const [syntax] = await eventually('syntax error logged', 2000, async () => reloadErrors(srv, from), (e) => e.length > 0, since);
    assert.ok(syntax?.includes(`${file}:4`), `names the file and line: ${syntax}`);
    assert.match(syntax ?? '', /invalid JSON/, 'says why');
    await sleep(Math.max(0, 2500 - (Date.now() - since)));
    assert.deepEqual(await srvBoth(srv.port, 'web.service.consul'), good, 'still the last good catalog after 2.5 s');

    // 2. An unknown key: the error names the file, the key path and the reason.
    from = srv.logs.lines.length;
    since = Date.now();
    writeFileSync(file, JSON.stringify({ service: { name: 'web', port: 9090, bogus_key: true } }));
    const [unknown] = await eventually('unknown key logged', 2000, async () => reloadErrors(srv, from), (e) => e.length > 0, since);
    assert.ok(unknown?.includes(file), `names the file: ${unknown}`);
    assert.match(unknown ?? '', /service\.bogus_key/, 'names the key path');
    assert.match(unknown ?? '', /unknown/i, 'says why');
    await sleep(Math.max(0, 2500 - (Date.now() - since)));
    assert.deepEqual(await srvBoth(srv.port, 'web.service.consul'), good, 'still the last good catalog after 2.5 s');
    assert.deepEqual(await srvBoth(srv.port, 'db.service.consul'), both('NOERROR 5432'), 'other files keep serving too');

    // 3. Fixed: applied within 2 s.
    since = Date.now();
    writeFileSync(file, webJson(9091));
    await eventually('fixed file applied', 2000, () => srvBoth(srv.port, 'web.service.consul'), same(both('NOERROR 9091')), since);
  });

  it('an atomic replace (write a temp file, rename over) is picked up within 2 s', async (t) => {
    const { dir, srv } = await watchedReference(t);
    const since = Date.now();
    const tmp = join(dir, '.web.json.tmp');
    writeFileSync(tmp, webJson(9191));
    renameSync(tmp, join(dir, 'web.json'));
    await eventually('replaced web.json applied', 2000, () => srvBoth(srv.port, 'web.service.consul'), same(both('NOERROR 9191')), since);
    // The same replace again (a second rename onto the new inode) is seen too.
    const since2 = Date.now();
    writeFileSync(tmp, webJson(9192));
    renameSync(tmp, join(dir, 'web.json'));
    await eventually('second replace applied', 2000, () => srvBoth(srv.port, 'web.service.consul'), same(both('NOERROR 9192')), since2);
  });

  it('removing a managed proxy\'s service from its file stops the proxy process', async (t) => {
    const dir = tempDir(t, 'cdns-reload-proxy-');
    // Outside the config dir: the report is JSON, which the loader would read as a config file.
    const report = join(tempDir(t, 'cdns-proxy-report-'), 'report.json');
    const bindPort = await freePort();
    writeFileSync(join(dir, 'agent.json'), JSON.stringify({
      node_name: 'ref-node', advertise_addr: '127.0.0.1',
      // The tests run as root in CI containers; the proxy is a harmless test script.
      connect: { proxy: { allow_managed_root: true } },
    }));
    writeFileSync(join(dir, 'cache.json'), JSON.stringify({
      service: {
        name: 'cache', port: 6380,
        connect: { proxy: { command: [process.execPath, LISTEN_PROXY, report], config: { bind_port: bindPort } } },
      },
    }));
    writeFileSync(join(dir, 'db.json'), JSON.stringify({ service: { name: 'db', port: 5432 } }));
    const srv = await startTestServer({ dirs: [dir], watch: true });
    t.after(() => srv.close());

    const started = await eventually('proxy started', 5000, async () => existsSync(report), (v) => v);
    assert.ok(started);
    const { pid } = JSON.parse(readFileSync(report, 'utf8')) as { pid: number };
    t.after(() => { if (isAlive(pid)) process.kill(pid, 'SIGKILL'); });
    // Its "Connect Proxy Listening" check passes once it listens, so it becomes a .connect answer.
    await eventually('proxy in cache.connect.consul', 5000, () => srvBoth(srv.port, 'cache.connect.consul'),
      same(both(`NOERROR ${bindPort}`)));

    const since = Date.now();
    unlinkSync(join(dir, 'cache.json'));
    await eventually('cache gone from DNS', 2000, () => srvBoth(srv.port, 'cache.connect.consul'), same(both('NXDOMAIN')), since);
    await eventually('proxy process stopped', 6000, async () => isAlive(pid), (a) => !a, since);
    assert.match(readFileSync(`${report}.signals`, 'utf8'), /SIGTERM/, 'stopped with SIGTERM first');
    assert.deepEqual(await srvBoth(srv.port, 'db.service.consul'), both('NOERROR 5432'));
  });
});

describe('reload of the real binary', { skip: noDig, timeout: 120_000 }, () => {
  it('watches its --config-dir by default: an edit reaches dig within 2 s', async (t) => {
    const dir = tempDir(t, 'cdns-reload-bin-');
    cpSync(REFERENCE, dir, { recursive: true });
    const srv = await startBinary(['--config-dir', dir]);
    t.after(() => srv.stop('SIGKILL'));
    assert.deepEqual(await srvBoth(srv.dnsPort, 'web.service.consul'), both('NOERROR 8080'));
    const since = Date.now();
    writeFileSync(join(dir, 'web.json'), webJson(9090));
    await eventually('web on 9090', 2000, () => srvBoth(srv.dnsPort, 'web.service.consul'), same(both('NOERROR 9090')), since);
    assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  });

  it('SIGHUP re-reads a --config-file: a reload even of unchanged content, and an edit is answered', async (t) => {
    const dir = tempDir(t, 'cdns-reload-hup-');
    const file = join(dir, 'all.json');
    const config = (port: number): string => JSON.stringify({
      node_name: 'ref-node', advertise_addr: '127.0.0.1', services: [{ name: 'web', port }, { name: 'db', port: 5432 }],
    });
    writeFileSync(file, config(8080));
    const srv = await startBinary(['--config-file', file]);
    t.after(() => srv.stop('SIGKILL'));
    assert.deepEqual(await srvBoth(srv.dnsPort, 'web.service.consul'), both('NOERROR 8080'));

    // Unchanged content: the watcher has nothing to report, so a "configuration reloaded" line is the signal's doing.
    let from = srv.lines.length;
    srv.child.kill('SIGHUP');
    await srv.waitForLog(/^configuration reloaded/, 2000, from);

    from = srv.lines.length;
    const since = Date.now();
    writeFileSync(file, config(9090));
    srv.child.kill('SIGHUP');
    await eventually('web on 9090 after SIGHUP', 2000, () => srvBoth(srv.dnsPort, 'web.service.consul'), same(both('NOERROR 9090')), since);
    await srv.waitForLog(/^configuration reloaded/, 2000, from);
    assert.deepEqual(await srvBoth(srv.dnsPort, 'db.service.consul'), both('NOERROR 5432'));
    assert.equal(srv.child.exitCode, null, 'SIGHUP does not stop the server');
    assert.deepEqual(await srv.stop(), { code: 0, signal: null });
  });
});
