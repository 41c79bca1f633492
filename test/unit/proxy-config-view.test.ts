// The managed-proxy config view: the Consul 1.2.4 capture's shape, defaults merged under the service's config.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { Snapshot } from '../../src/catalog/types.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { buildProxyConfig, stableStringify } from '../../src/proxy/config-view.js';

async function load(t: TestContext, body: object): Promise<{ config: Config; snap: Snapshot }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cdns-proxyview-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'agent.json'), JSON.stringify(body));
  const { config } = await loadConfig({ files: [], dirs: [dir] }, {}, { hostname: 'local' });
  return { config, snap: createSnapshot(catalogFromConfig(config), 1) };
}

const CONSUL = ['/usr/local/bin/consul', 'connect', 'proxy', '-log-level', 'DEBUG'];

describe('buildProxyConfig', () => {
  it('matches the Consul 1.2.4 capture for `connect { proxy {} }` on redis:6379', async (t) => {
    const { config, snap } = await load(t, {
      client_addr: '127.0.0.1',
      ports: { proxy_min_port: 20120, proxy_max_port: 20120 },
      connect: { enabled: true, proxy_defaults: { daemon_command: CONSUL } },
      service: { name: 'redis', port: 6379, connect: { proxy: {} } },
    });
    const view = buildProxyConfig(snap, 'redis-proxy', config);
    assert.ok(view);
    assert.deepEqual({ ...view, ContentHash: undefined }, {
      ProxyServiceID: 'redis-proxy', TargetServiceID: 'redis', TargetServiceName: 'redis', ContentHash: undefined,
      ExecMode: 'daemon', Command: CONSUL,
      Config: { bind_address: '127.0.0.1', bind_port: 20120, local_service_address: '127.0.0.1:6379' },
    });
    assert.equal(JSON.stringify(view.Config), '{"bind_address":"127.0.0.1","bind_port":20120,"local_service_address":"127.0.0.1:6379"}');
    assert.match(view.ContentHash, /^[0-9a-f]{16}$/);
    assert.equal(buildProxyConfig(snap, 'redis-proxy', config)?.ContentHash, view.ContentHash);
  });

  it('merges proxy_defaults.config under the service config, keeps upstreams, and hashes the difference', async (t) => {
    const upstreams = [{ destination_name: 'db', local_bind_port: 9191 }];
    const body = (extra: string) => ({
      client_addr: '0.0.0.0',
      connect: { enabled: true, proxy_defaults: { command: ['/bin/proxy'], config: { level: 'info', shared: 'default' } } },
      service: { name: 'web', id: 'web1', port: 8080, connect: { proxy: { config: { shared: extra, bind_port: 21500, upstreams } } } },
    });
    const a = await load(t, body('mine'));
    const view = buildProxyConfig(a.snap, 'web1-proxy', a.config);
    assert.ok(view);
    assert.equal(view.TargetServiceID, 'web1');
    assert.equal(view.TargetServiceName, 'web');
    assert.deepEqual(view.Command, ['/bin/proxy']);
    assert.deepEqual(view.Config, {
      bind_address: '0.0.0.0', bind_port: 21500, level: 'info', local_service_address: '127.0.0.1:8080', shared: 'mine', upstreams,
    });
    const b = await load(t, body('other'));
    assert.notEqual(buildProxyConfig(b.snap, 'web1-proxy', b.config)?.ContentHash, view.ContentHash);
  });

  it('keeps an explicit bind address and a script exec mode', async (t) => {
    const { config, snap } = await load(t, {
      connect: { enabled: true, proxy_defaults: { script_command: ['/bin/s'] } },
      service: { name: 'api', port: 9000, connect: { proxy: { exec_mode: 'script', config: { bind_address: '127.0.0.9', bind_port: 21000 } } } },
    });
    const view = buildProxyConfig(snap, 'api-proxy', config);
    assert.equal(view?.ExecMode, 'script');
    assert.deepEqual(view?.Command, ['/bin/s']);
    assert.equal(view?.Config['bind_address'], '127.0.0.9');
  });

  it('is undefined for anything that is not a managed proxy of this node', async (t) => {
    const { config, snap } = await load(t, {
      connect: { enabled: true },
      services: [
        { name: 'redis', port: 6379, connect: { proxy: {} } },
        { name: 'web', port: 80, connect: { sidecar_service: {} } },
      ],
    });
    assert.ok(buildProxyConfig(snap, 'redis-proxy', config));
    assert.equal(buildProxyConfig(snap, 'redis', config), undefined);
    assert.equal(buildProxyConfig(snap, 'web-sidecar-proxy', config), undefined);
    assert.equal(buildProxyConfig(snap, 'nope', config), undefined);
    // No command anywhere: an empty command, which the supervisor reads as "nothing to start".
    assert.deepEqual(buildProxyConfig(snap, 'redis-proxy', config)?.Command, []);
  });

  it('stableStringify sorts keys at every level', () => {
    assert.equal(stableStringify({ b: 1, a: [{ d: 1, c: 2 }] }), stableStringify({ a: [{ c: 2, d: 1 }], b: 1 }));
  });
});
