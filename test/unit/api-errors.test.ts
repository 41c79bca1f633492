// Every bad API input class gets its status and a one-line reason; tokens gate writes and proxy configs.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createApiServer } from '../../src/api/server.js';
import { ErrorCode } from '../../src/errors.js';
import { curl, httpJson, startApi, type ApiHarness } from '../helpers/api-harness.js';

async function harness(t: TestContext, opts: Parameters<typeof startApi>[0] = {}): Promise<ApiHarness> {
  const h = await startApi(opts);
  t.after(() => h.close());
  return h;
}

const REGISTER = '/v1/agent/service/register';

describe('bad input', () => {
  it('invalid JSON, wrong types, unknown keys and a missing Name are 400 with the decoder\'s one-line reason', async (t) => {
    const h = await harness(t);
    const cases: [unknown, RegExp][] = [
      ['{"Name": ', /^Request decode failed: /],
      ['[1, 2]', /^Request decode failed: expected a JSON object, got a list$/],
      [{ Port: 80 }, /^name: a service needs a name$/],
      [{ Name: 'x', Port: '80' }, /^Port: expected a number, got string "80"$/],
      [{ Name: 'x', Tags: 'a' }, /^Tags: expected a list of strings, got string "a"$/],
      [{ Name: 'x', Port: 70000 }, /^Port: must be an integer from 0 to 65535/],
      [{ Name: 'x', Check: { TTL: 'soon' } }, /^Check\.TTL: is not a duration/],
      [{ Name: 'x', Chek: {} }, /^Chek: unknown key \(did you mean "check"\?\)$/],
      [{ Name: 'x', Kind: 'connect-proxy', Port: 1 }, /needs proxy\.destination_service_name/],
    ];
    for (const [body, reason] of cases) {
      const r = await httpJson(h.port, 'PUT', REGISTER, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.text, reason);
      assert.ok(!r.text.includes('\n'), 'one line');
      assert.equal(r.headers['x-consul-index'], String(h.registry.index));
    }
    assert.equal(h.registry.current().serviceInstances('x').length, 0);
  });

  it('unknown service and check IDs are 404 with the ID in the reason', async (t) => {
    const h = await harness(t);
    for (const path of ['/v1/agent/service/deregister/ghost', '/v1/agent/check/deregister/ghost', '/v1/agent/check/pass/ghost',
      '/v1/agent/service/maintenance/ghost?enable=true']) {
      const r = await httpJson(h.port, 'PUT', path);
      assert.equal(r.status, 404, path);
      assert.match(r.text, /"ghost"/);
    }
  });

  it('a body over 1 MiB is 413 without being read; exactly 1 MiB is read', async (t) => {
    const h = await harness(t);
    const big = `{"Name":"x","Notes":"${'a'.repeat(1024 * 1024)}"}`;
    const dir = await mkdtemp(path.join(tmpdir(), 'cdns-api-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'big.json');
    await writeFile(file, big);
    // curl sends "Expect: 100-continue" for a body this size: the 413 comes before the body is sent.
    const viaCurl = await curl(h.port, REGISTER, ['-X', 'PUT', '-H', 'Content-Type: application/json', '--data-binary', `@${file}`]);
    assert.equal(viaCurl.status, 413);
    assert.match(viaCurl.body, /^Request body too large/);
    // Chunked, with no Content-Length: the limit is found while reading.
    const chunked = await new Promise<string>((resolve, reject) => {
      const s = net.connect(h.port, '127.0.0.1', () => {
        s.write('PUT /v1/agent/service/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
        const chunk = Buffer.alloc(64 * 1024, 0x61);
        for (let i = 0; i < 17; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`);
      });
      let got = '';
      s.on('data', (d) => { got += d.toString(); });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
      setTimeout(() => { s.destroy(); reject(new Error(`no close; got ${got.slice(0, 80)}`)); }, 5000);
    });
    assert.match(chunked, /^HTTP\/1\.1 413 /);
    const exact = Buffer.alloc(1024 * 1024, 0x20);
    Buffer.from('{"Name":"fits","Port":1}').copy(exact);
    const ok = await httpJson(h.port, 'PUT', REGISTER, exact);
    assert.equal(ok.status, 200);
  });

  it('unknown paths are 404 and wrong methods 405 with Allow', async (t) => {
    const h = await harness(t);
    assert.equal((await httpJson(h.port, 'GET', '/v1/agent/nothing')).status, 404);
    assert.equal((await httpJson(h.port, 'GET', '/')).status, 404);
    const r = await httpJson(h.port, 'GET', REGISTER);
    assert.deepEqual([r.status, r.headers['allow']], [405, 'PUT']);
  });

  it('a persistence failure is a 500 naming the reason, and the next write succeeds again', async (t) => {
    const h = await harness(t);
    h.failPersist('disk full');
    const r = await httpJson(h.port, 'PUT', REGISTER, { Name: 'p', Port: 1 });
    assert.equal(r.status, 500);
    assert.match(r.text, /disk full/);
    h.failPersist(undefined);
    assert.equal((await httpJson(h.port, 'PUT', REGISTER, { Name: 'p', Port: 1 })).status, 200);
  });

  it('a bind failure rejects with CDNS_ERR_LISTEN', async (t) => {
    const h = await harness(t);
    await assert.rejects(createApiServer({} as never, { addresses: ['127.0.0.1'], port: h.port }), (err: { code?: string }) => err.code === ErrorCode.LISTEN);
  });
});

describe('tokens', () => {
  const patch = { patch: (c: ApiHarness['config']) => ({ ...c, apiToken: 'master-secret' }), proxyTokens: { 'proxy-secret': 'redis-proxy' } };

  it('with a master token, writes without it (or with a wrong one) are 403; header and ?token= both work; reads stay open', async (t) => {
    const h = await harness(t, patch);
    const body = { Name: 'guarded', Port: 1 };
    for (const headers of [{}, { 'X-Consul-Token': 'wrong' }, { 'X-Consul-Token': 'proxy-secret' }] as Record<string, string>[]) {
      const r = await httpJson(h.port, 'PUT', REGISTER, body, headers);
      assert.deepEqual([r.status, r.text], [403, 'Permission denied'], JSON.stringify(headers));
    }
    assert.equal(h.registry.current().serviceInstances('guarded').length, 0);
    assert.equal((await httpJson(h.port, 'PUT', REGISTER, body, { 'X-Consul-Token': 'master-secret' })).status, 200);
    assert.equal((await httpJson(h.port, 'PUT', '/v1/agent/service/deregister/guarded?token=master-secret')).status, 200);
    assert.equal((await httpJson(h.port, 'GET', '/v1/catalog/services')).status, 200, 'anonymous read');
    assert.equal((await httpJson(h.port, 'POST', '/v1/query', { Service: { Service: 'web' } })).status, 403);
  });

  it('a managed proxy\'s token reads only its own proxy config', async (t) => {
    const h = await harness(t, patch);
    const own = await httpJson(h.port, 'GET', '/v1/agent/connect/proxy/redis-proxy', undefined, { 'X-Consul-Token': 'proxy-secret' });
    assert.equal(own.status, 200);
    assert.equal((own.json as { ProxyServiceID: string }).ProxyServiceID, 'redis-proxy');
    const other = await httpJson(h.port, 'GET', '/v1/agent/connect/proxy/other-proxy', undefined, { 'X-Consul-Token': 'proxy-secret' });
    assert.deepEqual([other.status, other.text], [403, 'Permission denied']);
    const anonymous = await httpJson(h.port, 'GET', '/v1/agent/connect/proxy/redis-proxy');
    assert.equal(anonymous.status, 403, 'a proxy config needs a token when ACLs are on');
    const write = await httpJson(h.port, 'PUT', '/v1/agent/check/pass/service:redis-proxy', undefined, { 'X-Consul-Token': 'proxy-secret' });
    assert.equal(write.status, 403);
    const master = await httpJson(h.port, 'GET', '/v1/agent/connect/proxy/redis-proxy', undefined, { 'X-Consul-Token': 'master-secret' });
    assert.equal(master.status, 200);
  });
});
