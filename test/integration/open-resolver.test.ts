// Not an open resolver, end to end: recursion_allow, RD=0 and RFC 8482 ANY through a real server, dig and c-ares, UDP and TCP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startWorkers } from '../../src/cluster/pool.js';
import type { Config } from '../../src/config/types.js';
import { REFERENCE_DIR, startApi } from '../helpers/api-harness.js';
import { cares } from '../helpers/cares.js';
import { dig, hasDig } from '../helpers/dig.js';
import { buildQuery, parseReply, sendTcp, sendUdp } from '../helpers/dns-client.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { createLogSink } from '../helpers/log-sink.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually } from '../helpers/wait.js';

const WORKER_ENTRY = fileURLToPath(new URL('../../src/cluster/worker-entry.ts', import.meta.url));

// Only loopback may be used, so ::1 plays the trusted client and 127.0.0.1 the stranger.
const TRUSTED = '::1';
const STRANGER = '127.0.0.1';

describe('recursion_allow = ["::1/128"]: 127.0.0.1 is outside, ::1 inside', () => {
  let up: FakeUpstream;
  let srv: TestServer;
  let file: string;
  let digOk = false;
  const tmp = mkdtempSync(join(tmpdir(), 'cdns-acl-'));
  const write = (recursionAllow: string[]): void => writeFileSync(file, JSON.stringify({
    recursors: [`127.0.0.1:${up.port}`],
    addresses: { dns: '127.0.0.1 ::1' },
    dns_config: { recursion_allow: recursionAllow, recursor_timeout: '1s' },
    node_name: 'acl-node',
    services: [{ name: 'web', port: 8080, address: '10.0.0.5' }],
  }));

  before(async () => {
    up = await startFakeUpstream({ behaviour: 'answer', answers: (n, t) => (t === 1 ? [`${n} 300 IN A 192.0.2.1`] : [`${n} 300 IN TXT "upstream"`]) });
    file = join(tmp, 'agent.json');
    write(['::1/128']);
    srv = await startTestServer({ files: [file] });
    digOk = await hasDig();
  });
  after(async () => {
    await srv.close();
    await up.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const upstreamNames = (): string[] => up.queries.map((q) => q.name.toLowerCase());

  it('dig: the stranger gets REFUSED without RA for www.example.com over UDP and TCP; the upstream sees nothing', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    for (const tcp of [false, true]) {
      const r = await dig(srv.port, 'www.example.com', 'A', { tcp, server: STRANGER });
      assert.equal(r.status, 'REFUSED', tcp ? 'TCP' : 'UDP');
      assert.ok(!r.flags.includes('ra'), 'recursion not available to this client');
      assert.deepEqual(r.answer, []);
    }
    assert.ok(!upstreamNames().includes('www.example.com.'), 'no query went upstream for the refused client');
  });

  it('c-ares: the stranger is refused, the trusted client answered', async () => {
    assert.deepEqual(await cares(srv.port, 'stranger.example.com', 'A', STRANGER), { ok: false, code: 'EREFUSED' });
    assert.ok(!upstreamNames().includes('stranger.example.com.'));
    assert.deepEqual(await cares(srv.port, 'trusted.example.com', 'A', TRUSTED), { ok: true, records: ['192.0.2.1 300'] });
    assert.ok(upstreamNames().includes('trusted.example.com.'));
  });

  it('dig: the trusted client gets the forwarded answer over UDP and TCP, and both get in-zone answers', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    for (const tcp of [false, true]) {
      const r = await dig(srv.port, 'www.example.com', 'A', { tcp, server: TRUSTED });
      assert.equal(r.status, 'NOERROR');
      assert.ok(r.flags.includes('ra'));
      assert.deepEqual(r.answer.map((a) => a.replace(/ \d+ IN/, ' IN')), ['www.example.com. IN A 192.0.2.1']);
      for (const server of [STRANGER, TRUSTED] as const) {
        const z = await dig(srv.port, 'web.service.consul', 'A', { tcp, server });
        assert.equal(z.status, 'NOERROR', `${server} in-zone`);
        assert.deepEqual(z.answer, ['web.service.consul. 0 IN A 10.0.0.5']);
      }
    }
    // Now www.example.com is in the forward cache: the stranger still gets no answer from it.
    const again = await dig(srv.port, 'www.example.com', 'A', { server: STRANGER });
    assert.equal(again.status, 'REFUSED');
  });

  it('RD=0 (dig +norecurse): REFUSED until the name is cached, then the cached answer; never an upstream query', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const before = up.queries.length;
    for (const tcp of [false, true]) {
      const r = await dig(srv.port, 'norec.example.com', 'A', { tcp, norecurse: true, server: TRUSTED });
      assert.equal(r.status, 'REFUSED');
      assert.ok(r.flags.includes('ra'), 'recursion is available, just not asked for');
      assert.ok(!r.flags.includes('rd'));
    }
    assert.equal(up.queries.length, before, 'RD=0 sent nothing upstream');
    assert.equal((await dig(srv.port, 'norec.example.com', 'A', { server: TRUSTED })).status, 'NOERROR');
    assert.equal(up.queries.length, before + 1);
    for (const tcp of [false, true]) {
      const r = await dig(srv.port, 'norec.example.com', 'A', { tcp, norecurse: true, server: TRUSTED });
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual(r.answer.map((a) => a.replace(/ \d+ IN/, ' IN')), ['norec.example.com. IN A 192.0.2.1']);
    }
    assert.equal(up.queries.length, before + 1, 'the cached answer came from the cache');
    const inZone = await dig(srv.port, 'web.service.consul', 'A', { norecurse: true, server: STRANGER });
    assert.deepEqual(inZone.answer, ['web.service.consul. 0 IN A 10.0.0.5'], 'in-zone is answered whatever RD says');
  });

  it('ANY over UDP gets RFC 8482\'s HINFO and no upstream query; over TCP it is forwarded', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const udp = await dig(srv.port, 'any.example.com', 'ANY', { server: TRUSTED });
    assert.equal(udp.status, 'NOERROR');
    assert.deepEqual(udp.answer, ['any.example.com. 3600 IN HINFO "RFC8482" ""']);
    assert.ok(!udp.flags.includes('aa'));
    assert.ok(!upstreamNames().includes('any.example.com.'), 'ANY over UDP was not forwarded');
    const tcp = await dig(srv.port, 'any.example.com', 'ANY', { tcp: true, server: TRUSTED });
    assert.deepEqual(tcp.answer, ['any.example.com. 300 IN TXT "upstream"']);
    assert.ok(up.queries.some((q) => q.name === 'any.example.com.' && q.qtype === 255 && q.proto === 'tcp'));
    const stranger = await dig(srv.port, 'any.example.com', 'ANY', { server: STRANGER });
    assert.equal(stranger.status, 'REFUSED');
  });

  it('raw clients over UDP and TCP see the same: REFUSED with RA=0 for the stranger', async () => {
    const q = buildQuery({ name: 'raw.example.com.', edns: { udpSize: 1232 } });
    for (const send of [sendUdp, sendTcp]) {
      const r = parseReply(await send(srv.port, q, { address: STRANGER }));
      assert.equal(r.rcodeName, 'REFUSED');
      assert.equal(r.flags.ra, false);
      assert.equal(parseReply(await send(srv.port, q, { address: TRUSTED })).rcodeName, 'NOERROR');
    }
  });

  it('a reload that lets 127.0.0.1 in takes effect at once', async () => {
    write(['::1/128', '127.0.0.0/8']);
    assert.equal(await srv.server.reload(), true);
    assert.deepEqual(await cares(srv.port, 'reloaded.example.com', 'A', STRANGER), { ok: true, records: ['192.0.2.1 300'] });
    write(['::1/128']);
    assert.equal(await srv.server.reload(), true);
    assert.deepEqual(await cares(srv.port, 'reloaded2.example.com', 'A', STRANGER), { ok: false, code: 'EREFUSED' });
  });
});

describe('worker processes (--workers 2) apply recursion_allow too, and follow a new config', { timeout: 120_000 }, () => {
  it('127.0.0.1 is refused by every worker until the config lets it in', async (t) => {
    const up = await startFakeUpstream({ behaviour: 'answer' });
    t.after(() => up.close());
    const patch = (c: Config): Config => ({
      ...c, recursors: [{ address: '127.0.0.1', port: up.port }], dnsAddresses: ['127.0.0.1', '::1'], logLevel: 'warn',
      dns: { ...c.dns, recursionAllow: ['::1/128'] },
    });
    const api = await startApi({ dirs: [REFERENCE_DIR], patch });
    t.after(() => api.close());
    const pool = await startWorkers({
      count: 2, config: api.config, registry: api.registry, logger: createLogSink('warn').logger,
      exec: { file: WORKER_ENTRY, execArgv: ['--import', 'tsx'] },
    });
    t.after(() => pool.close());
    const port = pool.endpoints.find((e) => e.proto === 'udp')?.port ?? 0;
    const rcodes = async (address: string): Promise<string[]> => {
      const out: string[] = [];
      // Fresh UDP sockets and TCP connections: the cluster spreads them over both workers.
      for (let i = 0; i < 6; i++) {
        const q = buildQuery({ name: `w${i}.example.com.` });
        out.push(parseReply(await (i % 2 ? sendTcp : sendUdp)(port, q, { address })).rcodeName);
      }
      return out;
    };
    assert.deepEqual(await rcodes(STRANGER), Array(6).fill('REFUSED'));
    assert.equal(up.queries.length, 0);
    assert.deepEqual(await rcodes(TRUSTED), Array(6).fill('NOERROR'));
    pool.reconfigure({ ...api.config, dns: { ...api.config.dns, recursionAllow: ['::1/128', '127.0.0.0/8'] } });
    await eventually('every worker forwards for 127.0.0.1', 10_000, () => rcodes(STRANGER), (r) => r.every((c) => c === 'NOERROR'));
  });
});
