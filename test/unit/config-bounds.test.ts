// Config bounds: TTLs DNS can carry (at most 2^31 − 1 s) and recursors that would loop back to our own listener.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadConfig, type ConfigFlags } from '../../src/config/load.js';
import { parsePreparedQuery } from '../../src/config/prepared-query.js';
import type { BuildEnv } from '../../src/config/build.js';
import { ConfigError, ErrorCode } from '../../src/errors.js';

const ENV: BuildEnv = { hostname: 'test-host' };
const MAX = 2147483647;

async function loadDir(t: TestContext, files: Record<string, object>, flags: ConfigFlags = {}, env: BuildEnv = ENV) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-bounds-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) await writeFile(path.join(dir, name), JSON.stringify(body));
  return loadConfig({ files: [], dirs: [dir] }, flags, env);
}

function isProblem(code: ErrorCode, where: { file?: string; key: string }) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.location.key, where.key, err.message);
    if (where.file !== undefined) assert.equal(path.basename(err.location.file), where.file, err.message);
    return true;
  };
}

test('SOA timers up to 2147483647 s load; one more is refused with its key path', async (t) => {
  const { config } = await loadDir(t, { 'a.json': { dns_config: { soa: { refresh: MAX, retry: MAX, expire: MAX, min_ttl: MAX } } } });
  assert.deepEqual(config.dns.soa, { refresh: MAX, retry: MAX, expire: MAX, minTtl: MAX });
  for (const key of ['refresh', 'retry', 'expire', 'min_ttl']) {
    for (const bad of [MAX + 1, 0xffffffff]) {
      await assert.rejects(loadDir(t, { 'a.json': { dns_config: { soa: { [key]: bad } } } }),
        isProblem(ErrorCode.CONFIG_VALUE, { file: 'a.json', key: `dns_config.soa.${key}` }));
    }
  }
});

test('node_ttl and service_ttl up to 2147483647 s load; longer durations are refused', async (t) => {
  const { config } = await loadDir(t, { 'a.json': { dns_config: { node_ttl: `${MAX}s`, service_ttl: { '*': `${MAX}.9s`, web: '5s' } } } });
  assert.equal(config.dns.nodeTtl, MAX);
  assert.deepEqual(config.dns.serviceTtl, { '*': MAX, web: 5 });
  await assert.rejects(loadDir(t, { 'a.json': { dns_config: { node_ttl: `${MAX + 1}s` } } }),
    isProblem(ErrorCode.CONFIG_VALUE, { key: 'dns_config.node_ttl' }));
  await assert.rejects(loadDir(t, { 'a.json': { dns_config: { node_ttl: '600000h' } } }),
    isProblem(ErrorCode.CONFIG_VALUE, { key: 'dns_config.node_ttl' }));
  await assert.rejects(loadDir(t, { 'a.json': { dns_config: { service_ttl: { '*': '5s', Web: '1000000h' } } } }),
    isProblem(ErrorCode.CONFIG_VALUE, { key: 'dns_config.service_ttl.Web' }));
});

test('a prepared query DNS.TTL above 2147483647 s is refused in a file and in an API body', async (t) => {
  const query = (ttl: string) => ({ prepared_queries: [{ name: 'q', service: { service: 'web' }, dns: { ttl } }] });
  const { config } = await loadDir(t, { 'q.json': query(`${MAX}s`) });
  assert.equal(config.preparedQueries[0]?.dns?.ttl, MAX);
  await assert.rejects(loadDir(t, { 'q.json': query(`${MAX + 1}s`) }),
    isProblem(ErrorCode.CONFIG_VALUE, { file: 'q.json', key: 'prepared_queries[0].dns.ttl' }));
  assert.throws(() => parsePreparedQuery({ Name: 'q', Service: { Service: 'web' }, DNS: { TTL: '100000000h' } }, 'request body'),
    isProblem(ErrorCode.CONFIG_VALUE, { file: 'request body', key: 'DNS.TTL' }));
  assert.equal(parsePreparedQuery({ Name: 'q', Service: { Service: 'web' }, DNS: { TTL: '1h' } }, 'request body').dns?.ttl, 3600);
});

test('a recursor that is our own DNS listener is refused, named by flag or by file and key', async (t) => {
  await assert.rejects(loadConfig({ files: [], dirs: [] }, { client: '127.0.0.1', dnsPort: 18708, recursors: ['127.0.0.9', '127.0.0.1:18708'] }, ENV),
    isProblem(ErrorCode.CONFIG_VALUE, { file: '<flags>', key: '--recursor' }));
  await assert.rejects(loadDir(t, { 'a.json': { ports: { dns: 18708 }, recursors: ['127.0.0.9', '127.0.0.1:18708'] } }),
    isProblem(ErrorCode.CONFIG_VALUE, { file: 'a.json', key: 'recursors[1]' }));
  // Recursors add up across files; the key is the one in the file that wrote it.
  await assert.rejects(loadDir(t, { 'a.json': { recursors: ['127.0.0.9'] }, 'b.json': { recursors: ['127.0.0.1:8600'] } }),
    isProblem(ErrorCode.CONFIG_VALUE, { file: 'b.json', key: 'recursors[0]' }));
  await assert.rejects(loadDir(t, { 'a.json': { recursor: '127.0.0.1:8600' } }), isProblem(ErrorCode.CONFIG_VALUE, { key: 'recursor' }));
  // The DNS port may come from a flag while the recursor is in a file.
  await assert.rejects(loadDir(t, { 'a.json': { recursors: ['127.0.0.1:5300'] } }, { dnsPort: 5300 }),
    isProblem(ErrorCode.CONFIG_VALUE, { file: 'a.json', key: 'recursors[0]' }));
  await assert.rejects(loadDir(t, { 'a.json': { addresses: { dns: '127.0.0.2 ::1' }, recursors: ['[::1]:8600'] } }),
    isProblem(ErrorCode.CONFIG_VALUE, { key: 'recursors[0]' }));
});

test('a recursor on another address or port, or with an ephemeral DNS port, is accepted', async (t) => {
  const ok = async (flags: ConfigFlags, files: Record<string, object> = {}) => (await loadDir(t, files, flags)).config.recursors;
  assert.deepEqual(await ok({ client: '127.0.0.1', dnsPort: 18708, recursors: ['127.0.0.2:18708'] }), [{ address: '127.0.0.2', port: 18708 }]);
  assert.deepEqual(await ok({ client: '127.0.0.1', dnsPort: 18708, recursors: ['127.0.0.1:18709'] }), [{ address: '127.0.0.1', port: 18709 }]);
  assert.deepEqual(await ok({ client: '127.0.0.1', dnsPort: 0, recursors: ['127.0.0.1:53'] }), [{ address: '127.0.0.1', port: 53 }]);
  // A flag replaces the files' recursors, so the files' loop does not count.
  assert.deepEqual(await ok({ recursors: ['127.0.0.9'] }, { 'a.json': { recursors: ['127.0.0.1:8600'] } }), [{ address: '127.0.0.9', port: 53 }]);
});

test('a wildcard listener loops through loopback and this host\'s own addresses, of its family', async (t) => {
  const env: BuildEnv = {
    hostname: 'h',
    networkInterfaces: {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '00:00:00:00:00:00', cidr: '127.0.0.1/8' }],
      eth0: [{ address: '192.0.2.10', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '02:00:00:00:00:01', cidr: '192.0.2.10/24' }],
    },
  };
  const load = (client: string, recursor: string) => loadDir(t, {}, { client, dnsPort: 53, recursors: [recursor] }, env);
  for (const [client, recursor] of [['0.0.0.0', '127.0.0.53'], ['0.0.0.0', '192.0.2.10'], ['::', '127.0.0.1'], ['::', '::1']]) {
    await assert.rejects(load(client as string, recursor as string), isProblem(ErrorCode.CONFIG_VALUE, { file: '<flags>', key: '--recursor' }),
      `${client} + ${recursor}`);
  }
  for (const [client, recursor] of [['0.0.0.0', '192.0.2.99'], ['0.0.0.0', '::1'], ['::', '198.51.100.1']]) {
    const { config } = await load(client as string, recursor as string);
    assert.equal(config.recursors.length, 1, `${client} + ${recursor} is accepted`);
  }
});

test('a check interval longer than a Node timer can hold is refused with its key path', async (t: TestContext) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-bounds-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'a.json');
  await writeFile(file, JSON.stringify({ service: { name: 'web', port: 80, check: { tcp: '127.0.0.1:80', interval: '720h' } } }));
  await assert.rejects(loadConfig({ files: [file], dirs: [] }, {}), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, ErrorCode.CONFIG_VALUE);
    assert.match(err.location.key ?? '', /interval$/);
    return true;
  });
  await writeFile(file, JSON.stringify({ service: { name: 'web', port: 80, check: { tcp: '127.0.0.1:80', interval: '24h' } } }));
  await loadConfig({ files: [file], dirs: [] }, {});
});
