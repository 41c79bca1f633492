// Check probes against real local targets: HTTP status mapping, method/header/TLS, timeouts, TCP, scripts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { runHttpProbe } from '../../src/health/probe-http.js';
import { OUTPUT_LIMIT, splitHostPort } from '../../src/health/probe-result.js';
import { runScriptProbe } from '../../src/health/probe-script.js';
import { runTcpProbe } from '../../src/health/probe-tcp.js';

const never = new AbortController().signal;

async function listen(t: TestContext, server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    if ('closeAllConnections' in server) (server as http.Server).closeAllConnections();
    server.close(() => resolve());
  }));
  return (server.address() as net.AddressInfo).port;
}

interface Seen { method?: string; headers: http.IncomingHttpHeaders }

async function httpTarget(t: TestContext, handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ ...(req.method ? { method: req.method } : {}), headers: req.headers });
    handler(req, res);
  });
  const port = await listen(t, server);
  return { url: `http://127.0.0.1:${port}/health`, seen };
}

const answer = (code: number, body: string) => (_req: http.IncomingMessage, res: http.ServerResponse): void => {
  res.writeHead(code, { 'content-type': 'text/plain' });
  res.end(body);
};

describe('HTTP probe', () => {
  it('maps 200 to passing with Consul-style output, 429 to warning, 500 and 404 to critical', async (t) => {
    for (const [code, status, reason] of [[200, 'passing', 'OK'], [204, 'passing', 'No Content'], [429, 'warning', 'Too Many Requests'],
      [500, 'critical', 'Internal Server Error'], [404, 'critical', 'Not Found']] as const) {
      const { url } = await httpTarget(t, answer(code, code === 204 ? '' : `body ${code}`));
      const r = await runHttpProbe({ url, timeoutMs: 2000 }, never);
      assert.equal(r.status, status, `HTTP ${code}`);
      assert.equal(r.output, `HTTP GET ${url}: ${code} ${reason} Output: ${code === 204 ? '' : `body ${code}`}`);
    }
  });

  it('sends the method and headers of the definition, with Consul defaults for the rest', async (t) => {
    const { url, seen } = await httpTarget(t, answer(200, 'ok'));
    const r = await runHttpProbe({ url, method: 'post', header: { 'X-Token': ['a', 'b'], Accept: ['application/json'] }, timeoutMs: 2000 }, never);
    assert.equal(r.status, 'passing');
    assert.match(r.output, /^HTTP POST /);
    assert.equal(seen[0]?.method, 'POST');
    assert.equal(seen[0]?.headers['x-token'], 'a, b');
    assert.equal(seen[0]?.headers['accept'], 'application/json');
    assert.equal(seen[0]?.headers['user-agent'], 'Consul Health Check');
  });

  it('keeps only the first 4 KiB of a large body', async (t) => {
    const { url } = await httpTarget(t, answer(200, 'x'.repeat(100_000)));
    const r = await runHttpProbe({ url, timeoutMs: 2000 }, never);
    assert.equal(r.status, 'passing');
    assert.equal(r.output.length, `HTTP GET ${url}: 200 OK Output: `.length + OUTPUT_LIMIT);
  });

  it('a server that does not answer in time is critical, and so is a closed port', async (t) => {
    const { url } = await httpTarget(t, () => undefined);
    const slow = await runHttpProbe({ url, timeoutMs: 150 }, never);
    assert.equal(slow.status, 'critical');
    assert.match(slow.output, /timed out after 150ms/);

    const probe = net.createServer();
    // Find a port nothing listens on: open one and close it again.
    const free = await new Promise<number>((resolve) => probe.listen(0, '127.0.0.1', () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    }));
    const refused = await runHttpProbe({ url: `http://127.0.0.1:${free}/`, timeoutMs: 2000 }, never);
    assert.equal(refused.status, 'critical');
    assert.match(refused.output, /ECONNREFUSED/);
  });

  it('an abort ends a run in flight at once', async (t) => {
    const { url } = await httpTarget(t, () => undefined);
    const ac = new AbortController();
    const run = runHttpProbe({ url, timeoutMs: 60_000 }, ac.signal);
    setTimeout(() => ac.abort(), 50);
    const r = await run;
    assert.equal(r.status, 'critical');
    assert.match(r.output, /aborted/);
  });

  it('https with a self-signed certificate passes only with tls_skip_verify', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdns-tls-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'),
      '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) },
      answer(200, 'secure'));
    const port = await listen(t, server);
    const url = `https://127.0.0.1:${port}/`;
    const verified = await runHttpProbe({ url, timeoutMs: 2000 }, never);
    assert.equal(verified.status, 'critical');
    const skipped = await runHttpProbe({ url, tlsSkipVerify: true, timeoutMs: 2000 }, never);
    assert.equal(skipped.status, 'passing');
    assert.equal(skipped.output, `HTTP GET ${url}: 200 OK Output: secure`);
  });

  it('a malformed URL is critical, not a crash', async () => {
    const r = await runHttpProbe({ url: 'not a url', timeoutMs: 100 }, never);
    assert.equal(r.status, 'critical');
  });
});

describe('TCP probe', () => {
  it('passes while something listens and fails once it is gone', async (t) => {
    const server = net.createServer((s) => s.end());
    const port = await listen(t, server);
    const ok = await runTcpProbe(`127.0.0.1:${port}`, 2000, never);
    assert.deepEqual(ok, { status: 'passing', output: `TCP connect 127.0.0.1:${port}: Success` });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const gone = await runTcpProbe(`127.0.0.1:${port}`, 2000, never);
    assert.equal(gone.status, 'critical');
    assert.match(gone.output, new RegExp(`^TCP connect 127.0.0.1:${port}: .*ECONNREFUSED`));
  });

  it('reaches IPv6 loopback and rejects an address without a port', async (t) => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '::1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;
    assert.equal((await runTcpProbe(`[::1]:${port}`, 2000, never)).status, 'passing');
    assert.equal((await runTcpProbe('127.0.0.1', 2000, never)).status, 'critical');
    assert.deepEqual(splitHostPort('[::1]:80'), { host: '::1', port: 80 });
    assert.equal(splitHostPort('host:99999'), undefined);
  });
});

describe('script probe', () => {
  const node = process.execPath;
  it('maps exit 0, 1 and 2 to passing, warning and critical, with stdout and stderr as output', async () => {
    const ok = await runScriptProbe([node, '-e', 'process.stdout.write("fine")'], 5000, never);
    assert.deepEqual(ok, { status: 'passing', output: 'fine' });
    const warn = await runScriptProbe([node, '-e', 'process.stderr.write("meh"); process.exit(1)'], 5000, never);
    assert.deepEqual(warn, { status: 'warning', output: 'meh' });
    const bad = await runScriptProbe([node, '-e', 'process.exit(2)'], 5000, never);
    assert.equal(bad.status, 'critical');
  });

  it('kills a script that runs past its timeout, and reports a missing program', async () => {
    const slow = await runScriptProbe([node, '-e', 'setTimeout(() => {}, 60000)'], 200, never);
    assert.deepEqual(slow, { status: 'critical', output: 'Timed out (200ms) running check' });
    const missing = await runScriptProbe(['/nonexistent/check-script'], 2000, never);
    assert.equal(missing.status, 'critical');
    assert.match(missing.output, /ENOENT/);
  });

  it('keeps the last 4 KiB of a long output and says how much there was', async () => {
    const r = await runScriptProbe([node, '-e', 'process.stdout.write("a".repeat(10000) + "END")'], 5000, never);
    assert.equal(r.status, 'passing');
    assert.ok(r.output.startsWith('Captured 4096 of 10003 bytes\n...\n'));
    assert.ok(r.output.endsWith('END'));
  });
});
