// Config keys of the live catalog: HTTP port and addresses, data_dir, script checks, the ACL master token, prepared queries.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { loadConfig, type ConfigFlags } from '../../src/config/load.js';
import { parsePreparedQuery, toPreparedQuery } from '../../src/config/prepared-query.js';
import { ConfigError, ErrorCode } from '../../src/errors.js';

async function loadDir(t: TestContext, files: Record<string, string | object>, flags: ConfigFlags = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-config3-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) {
    await writeFile(path.join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  }
  return loadConfig({ files: [], dirs: [dir] }, flags, { hostname: 'h' });
}

function isConfigError(code: ErrorCode, key?: string, file?: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof ConfigError, String(err));
    assert.equal(err.code, code, err.message);
    if (key !== undefined) assert.equal(err.location.key, key, err.message);
    if (file !== undefined) assert.equal(path.basename(err.location.file), file, err.message);
    return true;
  };
}

describe('HTTP, data dir, script checks, token', () => {
  test('defaults: HTTP on 8500 at the client addresses, no data dir, no script checks, no token', async (t) => {
    const { config, warnings } = await loadDir(t, { 'a.json': { client_addr: '127.0.0.1 ::1' } });
    assert.deepEqual(config.http, { port: 8500, addresses: ['127.0.0.1', '::1'] });
    assert.equal(config.dataDir, undefined);
    assert.equal(config.enableScriptChecks, false);
    assert.equal(config.apiToken, undefined);
    assert.deepEqual(config.preparedQueries, []);
    assert.deepEqual(warnings, []);
  });

  test('files set them, and they are no longer reported as ignored', async (t) => {
    const { config } = await loadDir(t, {
      'a.json': { ports: { http: -1 }, addresses: { http: '127.0.0.2' }, data_dir: '/var/lib/cdns', enable_local_script_checks: true,
        acl: { enabled: true, default_policy: 'deny', tokens: { master: 's3cret', agent: 'a' } } },
    });
    assert.deepEqual(config.http, { port: -1, addresses: ['127.0.0.2'] });
    assert.equal(config.dataDir, '/var/lib/cdns');
    assert.equal(config.enableScriptChecks, true);
    assert.equal(config.apiToken, 's3cret');
    for (const k of ['ports.http', 'addresses.http', 'data_dir', 'enable_local_script_checks', 'acl.tokens.master']) {
      assert.ok(!config.ignoredKeys.includes(k), `${k} is used`);
    }
    assert.ok(config.ignoredKeys.includes('acl.enabled') && config.ignoredKeys.includes('acl.tokens.agent'), config.ignoredKeys.join(', '));
  });

  test('HCL and the 1.2 spellings: acl_master_token, enable_script_checks', async (t) => {
    const { config } = await loadDir(t, { 'a.hcl': 'acl_master_token = "old"\nenable_script_checks = true\nports { http = 0 }\n' });
    assert.equal(config.apiToken, 'old');
    assert.equal(config.enableScriptChecks, true);
    assert.equal(config.http.port, 0);
    const both = await loadDir(t, { 'a.json': { acl_master_token: 'old', acl: { tokens: { master: 'new' } } } });
    assert.equal(both.config.apiToken, 'new', 'acl.tokens.master wins over the 1.2 key');
  });

  test('flags win: --http-port (-1 allowed), --data-dir, --api-token, --enable-script-checks', async (t) => {
    const files = { 'a.json': { ports: { http: 8501, dns: 8601 }, data_dir: '/from/file', acl: { tokens: { master: 'file' } } } };
    const { config } = await loadDir(t, files, { httpPort: -1, dataDir: '/from/flag', apiToken: 'flag', enableScriptChecks: true, dnsPort: 0 });
    assert.equal(config.http.port, -1);
    assert.equal(config.dnsPort, 0);
    assert.equal(config.dataDir, '/from/flag');
    assert.equal(config.apiToken, 'flag');
    assert.equal(config.enableScriptChecks, true);
    await assert.rejects(loadDir(t, {}, { httpPort: 70000 }), isConfigError(ErrorCode.CONFIG_VALUE, '--http-port', '<flags>'));
    await assert.rejects(loadDir(t, {}, { dataDir: ' ' }), isConfigError(ErrorCode.CONFIG_VALUE, '--data-dir'));
  });

  test('bad values name the file and key', async (t) => {
    await assert.rejects(loadDir(t, { 'p.json': { ports: { http: -2 } } }), isConfigError(ErrorCode.CONFIG_VALUE, 'ports.http', 'p.json'));
    await assert.rejects(loadDir(t, { 'p.json': { addresses: { http: 'localhost' } } }), isConfigError(ErrorCode.CONFIG_VALUE, 'addresses.http'));
    await assert.rejects(loadDir(t, { 'p.json': { data_dir: 5 } }), isConfigError(ErrorCode.CONFIG_TYPE, 'data_dir'));
    await assert.rejects(loadDir(t, { 'p.json': { enable_script_checks: 'yes' } }), isConfigError(ErrorCode.CONFIG_TYPE, 'enable_script_checks'));
    await assert.rejects(loadDir(t, { 'p.json': { acl: { tokens: { mastr: 'x' } } } }), isConfigError(ErrorCode.CONFIG_UNKNOWN_KEY, 'acl.tokens.mastr'));
  });
});

describe('prepared_queries', () => {
  test('CamelCase and snake_case load to the same definition; lists add up across files', async (t) => {
    const { config } = await loadDir(t, {
      'a.json': { prepared_queries: [{ Name: 'redis-mesh', Token: 't', Service: { Service: 'redis', Connect: true, Tags: ['!v1'], OnlyPassing: true,
        Near: '_agent', IgnoreCheckIDs: ['serfHealth'], NodeMeta: { rack: 'a' }, ServiceMeta: { v: '2' },
        Failover: { NearestN: 3, Datacenters: ['dc2'] } }, DNS: { TTL: '10s' } }] },
      'b.json': { prepared_queries: [{ name: 'snake', service: { service: 'redis', connect: true, tags: ['!v1'], only_passing: true, near: '_agent',
        ignore_check_ids: ['serfHealth'], node_meta: { rack: 'a' }, service_meta: { v: '2' },
        failover: { nearest_n: 3, datacenters: ['dc2'] } }, dns: { ttl: '10500ms' } }] },
    });
    const [a, b] = config.preparedQueries;
    assert.ok(a && b);
    assert.deepEqual(a.service, b.service);
    assert.deepEqual(a.service, { service: 'redis', connect: true, tags: ['!v1'], onlyPassing: true, near: '_agent', ignoreCheckIds: ['serfHealth'],
      nodeMeta: { rack: 'a' }, serviceMeta: { v: '2' }, failover: { nearestN: 3, datacenters: ['dc2'] } });
    assert.deepEqual([a.dns, b.dns, a.token], [{ ttl: 10 }, { ttl: 10 }, 't']);
    assert.equal(path.basename(b.source.file), 'b.json');
  });

  test('names are unique across files (case-insensitive), and so are IDs', async (t) => {
    await assert.rejects(loadDir(t, {
      'a.json': { prepared_queries: [{ Name: 'Web', Service: { Service: 'web' } }] },
      'b.json': { prepared_queries: [{ Name: 'web', Service: { Service: 'api' } }] },
    }), isConfigError(ErrorCode.CONFIG_DUPLICATE_ID, 'prepared_queries[0]', 'b.json'));
    const id = '0d5c2e4a-8b1f-4c3d-9e7a-6f5b4a3c2d1e';
    await assert.rejects(loadDir(t, {
      'a.json': { prepared_queries: [{ ID: id, Name: 'one', Service: { Service: 'web' } }, { ID: id.toUpperCase(), Name: 'two', Service: { Service: 'web' } }] },
    }), isConfigError(ErrorCode.CONFIG_DUPLICATE_ID, 'prepared_queries[1]'));
  });

  test('a bad query in a file names file and key', async (t) => {
    await assert.rejects(loadDir(t, { 'q.json': { prepared_queries: [{ Service: { Service: 'web' } }] } }),
      isConfigError(ErrorCode.CONFIG_VALUE, 'prepared_queries[0].Name', 'q.json'));
    await assert.rejects(loadDir(t, { 'q.hcl': 'prepared_queries {\n  service {\n    service = "web"\n  }\n}\n' }),
      isConfigError(ErrorCode.CONFIG_VALUE, 'prepared_queries[0].name', 'q.hcl'));
    await assert.rejects(loadDir(t, { 'q.json': { prepared_queries: [{ name: 'x', service: {} }] } }),
      isConfigError(ErrorCode.CONFIG_VALUE, 'prepared_queries[0].service.service'));
    await assert.rejects(loadDir(t, { 'q.json': { prepared_queries: [{ Name: 'x', DNS: { TTL: '10 seconds' } , Service: { Service: 'web' } }] } }),
      isConfigError(ErrorCode.CONFIG_VALUE, 'prepared_queries[0].DNS.TTL'));
  });
});

describe('parsePreparedQuery (the /v1/query body)', () => {
  const bad = (body: unknown, code: ErrorCode, key?: string) =>
    assert.throws(() => parsePreparedQuery(body, 'request body'), isConfigError(code, key, 'request body'));

  test('every bad input class gives a ConfigError with the key as written', () => {
    bad('[]', ErrorCode.CONFIG_TYPE);
    bad([], ErrorCode.CONFIG_TYPE);
    bad({ Service: { Service: 'web' } }, ErrorCode.CONFIG_VALUE, 'Name');
    bad({ Name: '' , Service: { Service: 'web' } }, ErrorCode.CONFIG_VALUE, 'Name');
    bad({ Name: 'x' }, ErrorCode.CONFIG_VALUE, 'Service');
    bad({ Name: 'x', Service: {} }, ErrorCode.CONFIG_VALUE, 'Service.Service');
    bad({ Name: 'x', Service: { Service: 7 } }, ErrorCode.CONFIG_TYPE, 'Service.Service');
    bad({ Name: 'x', Service: { Service: 'web', OnlyPassing: 'yes' } }, ErrorCode.CONFIG_TYPE, 'Service.OnlyPassing');
    bad({ Name: 'x', Service: { Service: 'web', Tags: 'v1' } }, ErrorCode.CONFIG_TYPE, 'Service.Tags');
    bad({ Name: 'x', Service: { Service: 'web', Tags: ['!'] } }, ErrorCode.CONFIG_VALUE, 'Service.Tags[0]');
    bad({ Name: 'x', Service: { Service: 'web', Failover: { NearestN: -1 } } }, ErrorCode.CONFIG_VALUE, 'Service.Failover.NearestN');
    bad({ Name: 'x', Service: { Service: 'web' }, DNS: { TTL: 10 } }, ErrorCode.CONFIG_TYPE, 'DNS.TTL');
    assert.deepEqual(parsePreparedQuery({ Name: 'x', Service: { Service: 'web' }, DNS: { TTL: '0s' } }, 'request body').dns, { ttl: 0 });
    bad({ Name: 'x', Service: { Service: 'web' }, DNS: { TTL: '-1s' } }, ErrorCode.CONFIG_VALUE, 'DNS.TTL');
    bad({ Name: 'x', Service: { Service: 'web' }, Bogus: 1 }, ErrorCode.CONFIG_UNKNOWN_KEY, 'Bogus');
    bad({ ID: 'not-a-uuid', Name: 'x', Service: { Service: 'web' } }, ErrorCode.CONFIG_VALUE, 'ID');
    bad({ Name: '0d5c2e4a-8b1f-4c3d-9e7a-6f5b4a3c2d1e', Service: { Service: 'web' } }, ErrorCode.CONFIG_VALUE, 'Name');
    bad({ Name: 'x', Service: { Service: 'web' }, Template: { Type: 'name_prefix_match' } }, ErrorCode.CONFIG_VALUE, 'Template.Type');
  });

  test('a body as a GET returns it (empty Template, indexes, Session) is accepted back', () => {
    const def = parsePreparedQuery({
      ID: '0D5C2E4A-8B1F-4C3D-9E7A-6F5B4A3C2D1E', Name: 'web', Session: '', Token: '', Template: { Type: '', Regexp: '', RemoveEmptyTags: false },
      Service: { Service: 'web', Failover: { NearestN: 0, Datacenters: null }, OnlyPassing: false, IgnoreCheckIDs: null, Near: '', Tags: null,
        NodeMeta: null, ServiceMeta: null, Connect: false },
      DNS: { TTL: '' }, CreateIndex: 5, ModifyIndex: 6,
    }, 'request body');
    assert.equal(def.id, '0d5c2e4a-8b1f-4c3d-9e7a-6f5b4a3c2d1e');
    assert.equal(def.token, undefined);
    const q = toPreparedQuery(def, def.id ?? '', 9);
    assert.deepEqual(q, {
      id: '0d5c2e4a-8b1f-4c3d-9e7a-6f5b4a3c2d1e', name: 'web',
      service: { service: 'web', tags: [], onlyPassing: false, near: '', connect: false, ignoreCheckIds: [], nodeMeta: {}, serviceMeta: {},
        failover: { nearestN: 0, datacenters: [] } },
      dns: {}, createIndex: 9, modifyIndex: 9,
    });
  });

  test('a minimal body gets every default; no TTL means none (the service_ttl rule applies later)', () => {
    const q = toPreparedQuery(parsePreparedQuery({ Name: 'm', Service: { Service: 'redis', Connect: true } }, 'request body'), 'id-1', 3);
    assert.deepEqual(q.dns, {});
    assert.equal(q.service.connect, true);
    assert.deepEqual([q.id, q.createIndex, q.modifyIndex], ['id-1', 3, 3]);
  });
});
