// loadConfig: reading JSON and HCL, merge order, key spellings, and errors that name file, key and position.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { configProblems } from '../../src/config/problems.js';
import { loadConfig, type ConfigFlags } from '../../src/config/load.js';
import { ConfigError, ErrorCode } from '../../src/errors.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const ENV = { hostname: 'test-host' };

/** A temporary config dir holding `files` (objects are written as JSON), removed after the test. */
async function configDir(t: TestContext, files: Record<string, string | object>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-config-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(files)) {
    await writeFile(path.join(dir, name), typeof body === 'string' ? body : JSON.stringify(body, null, 2));
  }
  return dir;
}

async function loadDir(t: TestContext, files: Record<string, string | object>, flags: ConfigFlags = {}) {
  return loadConfig({ files: [], dirs: [await configDir(t, files)] }, flags, ENV);
}

/** What `connect-dns validate` runs: load, then build the catalog. */
async function validateDir(t: TestContext, files: Record<string, string | object>) {
  const { config } = await loadDir(t, files);
  return catalogFromConfig(config);
}

async function rejects(p: Promise<unknown>, code: ErrorCode, where: { file?: string; key?: string; line?: number; column?: number }) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (where.file !== undefined) assert.equal(path.basename(err.location.file), where.file, err.message);
    if (where.key !== undefined) assert.equal(err.location.key, where.key, err.message);
    if (where.line !== undefined) assert.equal(err.location.line, where.line, err.message);
    if (where.column !== undefined) assert.equal(err.location.column, where.column, err.message);
    return true;
  });
}

function withoutSources(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'source' || k === 'files' ? undefined : x)));
}

test('the same settings in JSON and in HCL give the same config', async () => {
  const json = await loadConfig({ files: [path.join(FIXTURES, 'equivalent/agent.json')], dirs: [] }, {}, ENV);
  const hcl = await loadConfig({ files: [path.join(FIXTURES, 'equivalent/agent.hcl')], dirs: [] }, {}, ENV);
  assert.deepEqual(withoutSources(hcl.config), withoutSources(json.config));
  const c = json.config;
  assert.equal(c.datacenter, 'east');
  assert.deepEqual(c.recursors, [{ address: '127.0.0.1', port: 5353 }]);
  assert.deepEqual(c.dns.serviceTtl, { '*': 5, 'db*': 60 });
  assert.equal(c.dns.nodeTtl, 30);
  assert.deepEqual(c.dns.soa, { refresh: 100, retry: 600, expire: 86400, minTtl: 7 });
  assert.deepEqual(c.services.map((s) => s.name), ['redis', 'web']);
  assert.deepEqual(c.services[0]?.connect?.proxy?.config, { upstreams: [{ destination_name: 'db', local_bind_port: 9191 }] });
  assert.deepEqual(c.services[1]?.checks[0]?.header, { 'X-A': ['1'] });
  assert.equal(c.services[1]?.checks[1]?.status, 'warning');
  assert.deepEqual(c.checks[0]?.args, ['/bin/check-mem']);
  assert.equal(c.checks[0]?.interval, 60_000);
  assert.deepEqual(c.connect.proxyDefaults, { execMode: 'script', scriptCommand: ['/bin/proxy.sh'], config: { connect_timeout_ms: 500 } });
});

test('several HCL service blocks become several services, each with its own key path', async (t) => {
  const hcl = 'service {\n  name = "a"\n}\nservice {\n  name = "b"\n  port = "80"\n}\n';
  await rejects(loadDir(t, { 'two.hcl': hcl }), ErrorCode.CONFIG_TYPE, { key: 'service[1].port' });
  const { config } = await loadDir(t, { 'two.hcl': hcl.replace('"80"', '80') });
  assert.deepEqual(config.services.map((s) => [s.name, s.port, s.source.key]), [['a', undefined, 'service[0]'], ['b', 80, 'service[1]']]);
});

test('a directory is read in lexical order: later scalars win, objects merge, services accumulate', async (t) => {
  const dir = await configDir(t, {
    '10-base.json': { datacenter: 'first', dns_config: { udp_answer_limit: 5, node_ttl: '10s' }, recursors: ['127.0.0.1'],
      service: { name: 'one' } },
    '2-override.hcl': 'datacenter = "second"\ndns_config {\n  node_ttl = "20s"\n}\nrecursors = ["127.0.0.2"]\nservice {\n  name = "two"\n}\n',
    'notes.txt': 'not a config file',
  });
  const extra = await configDir(t, { 'extra.json': { services: [{ name: 'zero' }] } });
  const { config } = await loadConfig({ files: [path.join(extra, 'extra.json')], dirs: [dir] }, {}, ENV);
  assert.deepEqual(config.files.map((f) => path.basename(f)), ['extra.json', '10-base.json', '2-override.hcl']);
  assert.equal(config.datacenter, 'second');
  assert.equal(config.dns.udpAnswerLimit, 5);
  assert.equal(config.dns.nodeTtl, 20);
  assert.deepEqual(config.recursors.map((r) => r.address), ['127.0.0.1', '127.0.0.2']);
  assert.deepEqual(config.services.map((s) => s.name), ['zero', 'one', 'two']);
});

test('service and check definitions accept the HTTP API CamelCase spellings', async (t) => {
  const { config } = await loadDir(t, {
    's.json': {
      services: [{
        ID: 'web-1', Name: 'web', Tags: ['v1'], Address: '10.0.0.5', Port: 8080, Meta: { Owner: 'team' },
        Weights: { Passing: 5, Warning: 2 }, EnableTagOverride: true,
        Connect: { Proxy: { ExecMode: 'script', Command: ['/bin/p'] } },
        Checks: [{ CheckID: 'web-ttl', Name: 'ttl', TTL: '15s', Status: 'passing', Notes: 'n', DeregisterCriticalServiceAfter: '1m' },
          { HTTP: 'https://127.0.0.1/h', Interval: '5s', Timeout: '2s', TLSSkipVerify: true, Header: { A: ['b'] }, Method: 'HEAD' },
          { ScriptArgs: ['/bin/true'], Interval: '1m' }],
      }, {
        Name: 'web-proxy', Kind: 'connect-proxy', Port: 9000,
        Proxy: { DestinationServiceName: 'web', DestinationServiceID: 'web-1', LocalServiceAddress: '127.0.0.1', LocalServicePort: 8080 },
      }],
    },
  });
  const [web, proxy] = config.services;
  assert.equal(web?.id, 'web-1');
  assert.deepEqual(web?.tags, ['v1']);
  assert.deepEqual(web?.meta, { Owner: 'team' });
  assert.deepEqual(web?.weights, { passing: 5, warning: 2 });
  assert.equal(web?.enableTagOverride, true);
  assert.deepEqual(web?.connect?.proxy, { execMode: 'script', command: ['/bin/p'] });
  assert.equal(web?.checks[0]?.id, 'web-ttl');
  assert.equal(web?.checks[0]?.ttl, 15_000);
  assert.equal(web?.checks[0]?.deregisterCriticalServiceAfter, 60_000);
  assert.equal(web?.checks[1]?.tlsSkipVerify, true);
  assert.deepEqual(web?.checks[1]?.header, { A: ['b'] });
  assert.deepEqual(web?.checks[2]?.args, ['/bin/true']);
  assert.equal(proxy?.kind, 'connect-proxy');
  assert.deepEqual(proxy?.proxy, { destinationServiceName: 'web', destinationServiceId: 'web-1', localServiceAddress: '127.0.0.1', localServicePort: 8080 });
});

test('a key Consul does not know stops the load with the file and the full key path', async (t) => {
  const services = [{ name: 'a' }, { name: 'b', checks: [{ ttl: '10s' }, { tcp: '127.0.0.1:1', intervl: '10s' }] }];
  await rejects(loadDir(t, { 'svc.json': { services } }), ErrorCode.CONFIG_UNKNOWN_KEY, { file: 'svc.json', key: 'services[1].checks[1].intervl' });
  await rejects(loadDir(t, { 'top.hcl': 'datacentre = "dc1"\n' }), ErrorCode.CONFIG_UNKNOWN_KEY, { file: 'top.hcl', key: 'datacentre' });
  await assert.rejects(loadDir(t, { 'dns.json': { dns_config: { udp_answer_limt: 3 } } }),
    (e: unknown) => e instanceof ConfigError && e.location.key === 'dns_config.udp_answer_limt' && /did you mean "udp_answer_limit"/.test(e.message));
});

test('a wrong JSON type is refused, with no string-to-number coercion', async (t) => {
  await rejects(loadDir(t, { 'p.json': { ports: { dns: '53' } } }), ErrorCode.CONFIG_TYPE, { key: 'ports.dns' });
  await rejects(loadDir(t, { 't.json': { service: { name: 'a', tags: 'v1' } } }), ErrorCode.CONFIG_TYPE, { key: 'service.tags' });
  await rejects(loadDir(t, { 'm.json': { node_meta: { n: 1 } } }), ErrorCode.CONFIG_TYPE, { key: 'node_meta.n' });
  await rejects(loadDir(t, { 'b.json': { dns_config: { only_passing: 'true' } } }), ErrorCode.CONFIG_TYPE, { key: 'dns_config.only_passing' });
  await rejects(loadDir(t, { 'r.json': { ports: { dns: 70000 } } }), ErrorCode.CONFIG_VALUE, { key: 'ports.dns' });
});

test('durations take Go syntax strings; a bare number or prose is refused', async (t) => {
  const { config } = await loadDir(t, { 'd.json': { dns_config: { node_ttl: '1m30s', recursor_timeout: '500ms', service_ttl: { '*': '1h' } } } });
  assert.equal(config.dns.nodeTtl, 90);
  assert.equal(config.dns.recursorTimeout, 500);
  assert.equal(config.dns.serviceTtl['*'], 3600);
  await rejects(loadDir(t, { 'n.json': { dns_config: { node_ttl: 30 } } }), ErrorCode.CONFIG_TYPE, { key: 'dns_config.node_ttl' });
  await rejects(loadDir(t, { 'p.json': { service: { name: 'a', check: { http: 'http://x/', interval: '10 seconds' } } } }),
    ErrorCode.CONFIG_VALUE, { key: 'service.check.interval' });
  await rejects(loadDir(t, { 'neg.json': { dns_config: { service_ttl: { web: '-5s' } } } }), ErrorCode.CONFIG_VALUE, { key: 'dns_config.service_ttl.web' });
});

test('recursors are IPs with an optional port; host names and malformed ports are refused', async (t) => {
  const { config } = await loadDir(t, { 'r.json': { recursors: ['127.0.0.1', '127.0.0.2:5353', '[::1]:5300', '::1'] } });
  assert.deepEqual(config.recursors, [
    { address: '127.0.0.1', port: 53 }, { address: '127.0.0.2', port: 5353 }, { address: '::1', port: 5300 }, { address: '::1', port: 53 },
  ]);
  for (const bad of ['dns.example.com', '1.2.3.4::53', '1.2.3.4:0', '1.2.3.4:99999', '[1.2.3.4]:53']) {
    await rejects(loadDir(t, { 'r.json': { recursors: ['127.0.0.1', bad] } }), ErrorCode.CONFIG_VALUE, { key: 'recursors[1]' });
  }
  await rejects(loadConfig({ files: [], dirs: [] }, { recursors: ['resolver.local'] }, ENV), ErrorCode.CONFIG_VALUE, { file: '<flags>', key: '--recursor' });
});

test('a duplicate service ID stops validate, including an unmanaged proxy that takes <id>-proxy', async (t) => {
  await rejects(validateDir(t, { 'a.json': { service: { name: 'web', port: 1 } }, 'b.json': { service: { name: 'web', port: 2 } } }),
    ErrorCode.CONFIG_DUPLICATE_ID, { file: 'b.json', key: 'service' });
  const redis = { service: { name: 'redis', port: 6379, connect: { proxy: {} } } };
  const unmanaged = { service: { name: 'redis-proxy', kind: 'connect-proxy', proxy_destination: 'redis', port: 8181 } };
  await rejects(validateDir(t, { '1-redis.json': redis, '2-proxy.json': unmanaged }), ErrorCode.CONFIG_DUPLICATE_ID, { file: '2-proxy.json', key: 'service' });
  // Declared the other way round, the managed proxy is the later registration.
  await rejects(validateDir(t, { '1-proxy.json': unmanaged, '2-redis.json': redis }), ErrorCode.CONFIG_DUPLICATE_ID,
    { file: '2-redis.json', key: 'service.connect.proxy' });
  const sidecar = { service: { name: 'api', port: 1, connect: { sidecar_service: {} } } };
  await rejects(validateDir(t, { '1.json': sidecar, '2.json': { service: { name: 'api-sidecar-proxy', kind: 'connect-proxy', proxy_destination: 'api', port: 2 } } }),
    ErrorCode.CONFIG_DUPLICATE_ID, { file: '2.json' });
  // A distinct ID is the documented way to run both.
  const ok = await validateDir(t, { '1-redis.json': redis, '2-proxy.json': { service: { ...unmanaged.service, id: 'redis-proxy-ext' } } });
  assert.deepEqual(ok.services.map((s) => s.id), ['redis', 'redis-proxy', 'redis-proxy-ext']);
});

test('a JSON syntax error names the line and column', async (t) => {
  await rejects(loadConfig({ files: [path.join(FIXTURES, 'bad/syntax.json')], dirs: [] }, {}, ENV), ErrorCode.CONFIG_SYNTAX,
    { file: 'syntax.json', line: 4, column: 3 });
  // Node's message for this one carries no position; the line and column are still found.
  await rejects(loadDir(t, { 'x.json': '{\n  "a": 1,\n  "b": }\n' }), ErrorCode.CONFIG_SYNTAX, { file: 'x.json', line: 3, column: 8 });
  await rejects(loadDir(t, { 'y.json': '[1, 2]' }), ErrorCode.CONFIG_TYPE, { file: 'y.json' });
});

test('an HCL syntax error names the line and column the parser gives', async () => {
  await rejects(loadConfig({ files: [path.join(FIXTURES, 'bad/syntax.hcl')], dirs: [] }, {}, ENV), ErrorCode.CONFIG_SYNTAX,
    { file: 'syntax.hcl', line: 5, column: 2 });
});

test('the first problem of every bad file is reported, not only the first file', async (t) => {
  const err = await loadDir(t, { 'a.json': '{ "x": ', 'b.json': { bogus: 1 }, 'c.json': { datacenter: 'ok' } }).then(
    () => assert.fail('expected the load to fail'), (e: unknown) => e);
  assert.ok(err instanceof ConfigError);
  const problems = configProblems(err);
  assert.deepEqual(problems.map((p) => [path.basename(p.location.file), p.code]),
    [['a.json', ErrorCode.CONFIG_SYNTAX], ['b.json', ErrorCode.CONFIG_UNKNOWN_KEY]]);
  assert.match(err.message, /a\.json.*\n.*b\.json/);
});

test('keys Consul accepts but connect-dns does not use give one warning that lists them', async (t) => {
  const { config, warnings } = await loadDir(t, {
    'server.json': { server: true, bootstrap_expect: 3, ui: true, ports: { https: 8501 }, tls_min_version: 'tls12',
      acl: { enabled: true }, dns_config: { allow_stale: true }, connect: { ca_provider: 'consul' } },
    'svc.hcl': 'service {\n  name = "a"\n  check {\n    script = "/bin/true"\n    interval = "10s"\n  }\n}\n',
  });
  const lines = warnings.filter((w) => w.startsWith('ignoring keys not used by connect-dns: '));
  assert.equal(lines.length, 1);
  for (const key of ['server', 'bootstrap_expect', 'ui', 'ports.https', 'tls_min_version', 'acl.enabled', 'dns_config.allow_stale',
    'connect.ca_provider', 'service.check.script']) {
    assert.ok(config.ignoredKeys.includes(key), `${key} in ${config.ignoredKeys.join(', ')}`);
    assert.ok(lines[0]?.includes(key));
  }
});

test('flags win over files, and a bad flag names the flag', async (t) => {
  const files = { 'a.json': { datacenter: 'files', node_name: 'from-file', domain: 'example', recursors: ['127.0.0.9'], ports: { dns: 53 },
    log_level: 'DEBUG', client_addr: '127.0.0.1' } };
  const { config } = await loadDir(t, files, {
    datacenter: 'flags', node: 'from-flag', domain: 'Other.Zone', recursors: ['127.0.0.1:5353'], dnsPort: 0, logLevel: 'warn',
    logFormat: 'pretty', client: '127.0.0.1 ::1', advertise: '10.1.2.3', altDomain: 'alt',
  });
  assert.equal(config.datacenter, 'flags');
  assert.equal(config.nodeName, 'from-flag');
  assert.equal(config.domain, 'other.zone.');
  assert.equal(config.altDomain, 'alt.');
  assert.deepEqual(config.recursors, [{ address: '127.0.0.1', port: 5353 }]);
  assert.equal(config.dnsPort, 0);
  assert.equal(config.logLevel, 'warn');
  assert.equal(config.logFormat, 'pretty');
  assert.deepEqual(config.dnsAddresses, ['127.0.0.1', '::1']);
  assert.equal(config.advertiseAddr, '10.1.2.3');
  const fileOnly = await loadDir(t, files);
  assert.equal(fileOnly.config.logLevel, 'debug');
  assert.equal(fileOnly.config.domain, 'example.');
  await rejects(loadDir(t, files, { dnsPort: 70000 }), ErrorCode.CONFIG_VALUE, { file: '<flags>', key: '--dns-port' });
  await rejects(loadDir(t, files, { client: '0.0.0.0 nope' }), ErrorCode.CONFIG_VALUE, { file: '<flags>', key: '--client' });
  await rejects(loadDir(t, files, { logLevel: 'loud' }), ErrorCode.CONFIG_VALUE, { file: '<flags>', key: '--log-level' });
});

test('defaults: dc1, consul., 127.0.0.1:8600, Consul dns_config defaults, proxy port ranges', async () => {
  const { config, warnings } = await loadConfig({ files: [], dirs: [] }, {}, ENV);
  assert.deepEqual(warnings, []);
  assert.equal(config.datacenter, 'dc1');
  assert.equal(config.nodeName, 'test-host');
  assert.equal(config.domain, 'consul.');
  assert.deepEqual(config.dnsAddresses, ['127.0.0.1']);
  assert.equal(config.advertiseAddr, '127.0.0.1');
  assert.equal(config.dnsPort, 8600);
  assert.deepEqual(config.recursors, []);
  assert.deepEqual(config.ports, { proxyMinPort: 20000, proxyMaxPort: 20255, sidecarMinPort: 21000, sidecarMaxPort: 21255 });
  assert.deepEqual(config.dns, {
    nodeTtl: 0, serviceTtl: {}, udpAnswerLimit: 3, aRecordLimit: 0, enableTruncate: false, onlyPassing: false, recursorTimeout: 2000,
    recursorStrategy: 'sequential', disableCompression: false, enableAdditionalNodeMetaTxt: true,
    soa: { refresh: 3600, retry: 600, expire: 86400, minTtl: 0 }, udpPayloadSize: 1232,
    forwardCache: { enabled: true, size: 10_000, maxTtl: 3600, negativeTtl: 300 },
    recursionAllow: ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'],
    rateLimit: { responsesPerSecond: 0, burst: 0, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56 },
    tcp: { maxConnections: 512, idleTimeout: 10_000, maxInFlight: 16, messageTimeout: 2_000 },
    recursorHealth: { maxFailures: 3, probeInterval: 1_000, maxProbeInterval: 30_000 },
    serveStale: { enabled: true, maxStale: 86_400, ttl: 30 },
  });
  assert.equal(config.connect.enabled, true);
  assert.equal(config.connect.allowManagedRoot, false);
  assert.equal(config.logLevel, 'info');
  assert.equal(config.logFormat, 'json');
});

test('hardening keys: recursion_allow CIDRs, rate_limit, tcp, recursor_health, serve_stale (JSON and HCL)', async (t) => {
  const json = await loadDir(t, { 'a.json': { dns_config: {
    recursion_allow: ['10.1.0.0/16', '2001:DB8::/32', '192.0.2.7'],
    rate_limit: { responses_per_second: 20, slip: 0, ipv4_prefix_length: 32 },
    tcp: { max_connections: 8, idle_timeout: '3s', max_in_flight: 2, message_timeout: '500ms' },
    recursor_health: { max_failures: 1, probe_interval: '100ms', max_probe_interval: '2s' },
    serve_stale: { enabled: false, max_stale: '1h', ttl: '10s' },
  } } });
  const d = json.config.dns;
  assert.deepEqual(d.recursionAllow, ['10.1.0.0/16', '2001:db8::/32', '192.0.2.7/32']);
  assert.deepEqual(d.rateLimit, { responsesPerSecond: 20, burst: 20, slip: 0, ipv4PrefixLength: 32, ipv6PrefixLength: 56 });
  assert.deepEqual(d.tcp, { maxConnections: 8, idleTimeout: 3000, maxInFlight: 2, messageTimeout: 500 });
  assert.deepEqual(d.recursorHealth, { maxFailures: 1, probeInterval: 100, maxProbeInterval: 2000 });
  assert.deepEqual(d.serveStale, { enabled: false, maxStale: 3600, ttl: 10 });
  const hcl = await loadDir(t, { 'a.hcl': 'dns_config { recursion_allow = [] \n tcp { max_connections = 3 } }' });
  assert.deepEqual(hcl.config.dns.recursionAllow, []);
  assert.equal(hcl.config.dns.tcp.maxConnections, 3);
  const bad = (dns: Record<string, unknown>, key: string) => rejects(loadDir(t, { 'a.json': { dns_config: dns } }), ErrorCode.CONFIG_VALUE, { file: 'a.json', key });
  await bad({ recursion_allow: ['10.0.0.0/33'] }, 'dns_config.recursion_allow[0]');
  await bad({ recursion_allow: ['127.0.0.1', '10.1.0.0/8'] }, 'dns_config.recursion_allow[1]');
  await bad({ recursion_allow: ['example.com/8'] }, 'dns_config.recursion_allow[0]');
  await bad({ recursion_allow: ['::/129'] }, 'dns_config.recursion_allow[0]');
  await bad({ rate_limit: { responses_per_second: -1 } }, 'dns_config.rate_limit.responses_per_second');
  await bad({ rate_limit: { ipv6_prefix_length: 129 } }, 'dns_config.rate_limit.ipv6_prefix_length');
  await bad({ tcp: { max_connections: 0 } }, 'dns_config.tcp.max_connections');
  await bad({ tcp: { idle_timeout: '0s' } }, 'dns_config.tcp.idle_timeout');
  await bad({ tcp: { message_timeout: 'soon' } }, 'dns_config.tcp.message_timeout');
  await bad({ recursor_health: { max_failures: 0 } }, 'dns_config.recursor_health.max_failures');
  await bad({ serve_stale: { max_stale: '-1s' } }, 'dns_config.serve_stale.max_stale');
  await rejects(loadDir(t, { 'a.json': { dns_config: { tcp: { max_conns: 3 } } } }), ErrorCode.CONFIG_UNKNOWN_KEY, { key: 'dns_config.tcp.max_conns' });
});

test('the advertise address follows the client address, and a wildcard uses a non-internal IPv4', async (t) => {
  const dir = await configDir(t, { 'a.json': { client_addr: '0.0.0.0' } });
  const networkInterfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '00:00:00:00:00:00', cidr: null }],
    eth0: [{ address: '192.0.2.10', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '02:00:00:00:00:01', cidr: null }],
  } as const;
  const wild = await loadConfig({ files: [], dirs: [dir] }, {}, { hostname: 'h', networkInterfaces: structuredClone(networkInterfaces) as never });
  assert.equal(wild.config.advertiseAddr, '192.0.2.10');
  assert.deepEqual(wild.config.dnsAddresses, ['0.0.0.0']);
  const single = await loadConfig({ files: [], dirs: [] }, { client: '10.9.8.7' }, ENV);
  assert.equal(single.config.advertiseAddr, '10.9.8.7');
  const dns = await loadDir(t, { 'a.json': { client_addr: '127.0.0.1', addresses: { dns: '127.0.0.2 ::1' } } });
  assert.deepEqual(dns.config.dnsAddresses, ['127.0.0.2', '::1']);
  assert.deepEqual(dns.config.clientAddresses, ['127.0.0.1']);
});

test('values are checked: domains, addresses, port ranges, statuses, kinds', async (t) => {
  await rejects(loadDir(t, { 'a.json': { domain: 'bad domain' } }), ErrorCode.CONFIG_VALUE, { key: 'domain' });
  await rejects(loadDir(t, { 'a.json': { client_addr: '{{ GetPrivateIP }}' } }), ErrorCode.CONFIG_VALUE, { key: 'client_addr' });
  await rejects(loadDir(t, { 'a.json': { advertise_addr: 'host.example' } }), ErrorCode.CONFIG_VALUE, { key: 'advertise_addr' });
  await rejects(loadDir(t, { 'a.json': { ports: { proxy_min_port: 20300 } } }), ErrorCode.CONFIG_VALUE, { file: 'a.json', key: 'ports.proxy_max_port' });
  await rejects(loadDir(t, { 'a.json': { service: { name: 'a', check: { ttl: '1s', status: 'ok' } } } }), ErrorCode.CONFIG_VALUE, { key: 'service.check.status' });
  await rejects(loadDir(t, { 'a.json': { service: { name: 'a', kind: 'mesh-gateway' } } }), ErrorCode.CONFIG_VALUE, { key: 'service.kind' });
  await rejects(loadDir(t, { 'a.json': { service: { name: '' } } }), ErrorCode.CONFIG_VALUE, { key: 'service.name' });
  await rejects(loadDir(t, { 'a.json': { service: { port: 1 } } }), ErrorCode.CONFIG_VALUE, { key: 'service.name' });
  await rejects(loadDir(t, { 'a.json': { service: { name: 'a', connect: { proxy: { exec_mode: 'fork' } } } } }), ErrorCode.CONFIG_VALUE,
    { key: 'service.connect.proxy.exec_mode' });
  await rejects(loadDir(t, { 'a.json': { service: { name: 'a', check: { http: 'http://x/' } } } }), ErrorCode.CONFIG_VALUE, { key: 'service.check.interval' });
  await rejects(loadDir(t, { 'a.json': { check: { ttl: '10s' } } }), ErrorCode.CONFIG_VALUE, { key: 'check.name' });
  await rejects(loadDir(t, { 'a.json': { dns_config: { udp_payload_size: 100 } } }), ErrorCode.CONFIG_VALUE, { key: 'dns_config.udp_payload_size' });
  await rejects(loadDir(t, { 'a.json': { node_meta: { 'consul-network-segment': '' } } }), ErrorCode.CONFIG_VALUE, { key: 'node_meta.consul-network-segment' });
});

test('a missing file or directory, or a file that is not .json/.hcl, is a read error', async (t) => {
  const dir = await configDir(t, { 'agent.yaml': 'a: 1' });
  await rejects(loadConfig({ files: [path.join(dir, 'nope.json')], dirs: [] }, {}, ENV), ErrorCode.CONFIG_READ, { file: 'nope.json' });
  await rejects(loadConfig({ files: [], dirs: [path.join(dir, 'missing')] }, {}, ENV), ErrorCode.CONFIG_READ, { file: 'missing' });
  await rejects(loadConfig({ files: [path.join(dir, 'agent.yaml')], dirs: [] }, {}, ENV), ErrorCode.CONFIG_READ, { file: 'agent.yaml' });
  // In a directory, other files and sub-directories are skipped, as Consul does.
  await mkdir(path.join(dir, 'sub.json'));
  const { config } = await loadConfig({ files: [], dirs: [dir] }, {}, ENV);
  assert.deepEqual(config.files, []);
});

test('HCL blocks become objects only where Consul expects one; free-form proxy config is kept as written', async (t) => {
  const hcl = [
    'service {', '  name = "a"', '  connect {', '    proxy {', '      config {',
    '        upstreams {', '          destination_name = "db"', '        }',
    '        listener {', '          port = 1', '        }',
    '      }', '    }', '  }', '}', '',
  ].join('\n');
  const { config } = await loadDir(t, { 'a.hcl': hcl });
  assert.deepEqual(config.services[0]?.connect?.proxy?.config, { upstreams: [{ destination_name: 'db' }], listener: [{ port: 1 }] });
  await rejects(loadDir(t, { 'b.hcl': 'connect {\n  enabled = true\n}\nconnect {\n  enabled = false\n}\n' }), ErrorCode.CONFIG_TYPE, { key: 'connect' });
});

test('a service name DNS cannot reach loads with a warning, as in Consul', async (t) => {
  const { config, warnings } = await loadDir(t, { 'a.json': { service: { name: 'my.service', port: 1 } } });
  assert.equal(config.services[0]?.name, 'my.service');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /"my\.service" will not be discoverable via DNS/);
});
