// Failing, looping and lying upstreams through the real server, checked with dig (UDP and TCP) and c-ares.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cares } from '../helpers/cares.js';
import { dig, hasDig } from '../helpers/dig.js';
import { FORGED_ADDRESS, FORGERIES, startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from '../helpers/fake-upstream.js';
import { sample } from '../helpers/prom-sample.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { eventually, waitUntil } from '../helpers/wait.js';

const tmp = mkdtempSync(join(tmpdir(), 'cdns-upfaults-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let digOk = false;
before(async () => { digOk = await hasDig(); });

const at = (n: number) => (name: string): string[] => [`${name} 300 IN A 192.0.2.${n}`];
const protos = [false, true] as const;
const via = (tcp: boolean): string => (tcp ? 'TCP' : 'UDP');

/** Fakes first, then a server forwarding to them in order (sequential) with these dns_config keys. */
async function setUp(name: string, fakeOpts: FakeUpstreamOptions[], dnsConfig: Record<string, unknown>): Promise<{ srv: TestServer; ups: FakeUpstream[]; close(): Promise<void> }> {
  const ups = await Promise.all(fakeOpts.map((o) => startFakeUpstream(o)));
  const file = join(tmp, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    recursors: ups.map((u) => `127.0.0.1:${u.port}`),
    dns_config: { recursor_strategy: 'sequential', recursor_timeout: '300ms', ...dnsConfig },
    node_name: 'faults-node',
  }));
  const srv = await startTestServer({ files: [file] });
  return { srv, ups, close: async () => { await srv.close(); await Promise.all(ups.map((u) => u.close())); } };
}

async function metricsText(srv: TestServer): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${srv.httpPort}/metrics`);
  return res.text();
}

describe('a dead upstream', () => {
  it('costs max_failures timeouts, not one per query: later queries go straight to the next upstream', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const { srv, ups: [dead, good], close } = await setUp('dead', [{ behaviour: 'silent' }, { behaviour: 'answer', answers: at(2) }], {
      forward_cache: { enabled: false }, recursor_health: { max_failures: 2, probe_interval: '10m', max_probe_interval: '10m' },
    });
    t.after(close);
    assert.ok(dead && good);
    for (let i = 0; i < 8; i++) {
      const tcp = i % 2 === 1;
      const r = await dig(srv.port, `q${i}.example.com`, 'A', { tcp });
      assert.equal(r.status, 'NOERROR', `query ${i} over ${via(tcp)}`);
      assert.deepEqual(r.answer, [`q${i}.example.com. 300 IN A 192.0.2.2`]);
    }
    const got = await cares(srv.port, 'c.example.com', 'A');
    assert.deepEqual(got, { ok: true, records: ['192.0.2.2 300'] });
    assert.equal(dead.queries.length, 2, 'the dead upstream got only the two tries that marked it down');
    assert.equal(good.queries.length, 9);
    assert.equal(srv.logs.lines.filter((l) => /marked down/.test(String(l['msg']))).length, 1, 'logged once');
    const text = await metricsText(srv);
    assert.equal(sample(text, 'connect_dns_upstream_up', { upstream: `127.0.0.1#${dead.port}` }), 0);
    assert.equal(sample(text, 'connect_dns_upstream_up', { upstream: `127.0.0.1#${good.port}` }), 1);
  });

  it('is probed back and used again once it answers', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const { srv, ups: [flaky, good], close } = await setUp('recover', [{ behaviour: 'silent', answers: at(1) }, { behaviour: 'answer', answers: at(2) }], {
      forward_cache: { enabled: false }, recursor_health: { max_failures: 1, probe_interval: '200ms', max_probe_interval: '400ms' },
    });
    t.after(close);
    assert.ok(flaky && good);
    assert.deepEqual((await dig(srv.port, 'first.example.com', 'A')).answer, ['first.example.com. 300 IN A 192.0.2.2']);
    await waitUntil('marked down', () => srv.logs.find(/marked down/) !== undefined, 5000);
    flaky.setBehaviour('answer');
    let n = 0;
    for (const tcp of protos) {
      const r = await eventually(`the recovered upstream answers over ${via(tcp)}`, 10_000,
        () => dig(srv.port, `r${n++}.example.com`, 'A', { tcp }), (x) => x.answer.some((a) => a.endsWith('192.0.2.1')));
      assert.equal(r.status, 'NOERROR');
    }
    assert.ok(srv.logs.find(/marked up/), 'the recovery is logged');
    assert.equal(sample(await metricsText(srv), 'connect_dns_upstream_up', { upstream: `127.0.0.1#${flaky.port}` }), 1);
  });
});

describe('an upstream that forwards back to us', () => {
  it('is found by the loop check at start, disabled, and never asked', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const { srv, ups: [loop, good], close } = await setUp('loop', [{ behaviour: 'relay' }, { behaviour: 'answer', answers: at(2) }], {
      recursor_timeout: '2s', forward_cache: { enabled: false },
    });
    t.after(close);
    assert.ok(loop && good);
    loop.relayTo(srv.port);
    await waitUntil('the loop to be reported', () => srv.logs.find(/forwarding loop/) !== undefined, 10_000);
    const err = srv.logs.find(/forwarding loop/);
    assert.equal(err?.['level'], 50);
    assert.equal(err?.['upstream'], `127.0.0.1#${loop.port}`);
    for (const tcp of protos) {
      const r = await dig(srv.port, `after-${via(tcp)}.example.com`, 'A', { tcp });
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual(r.answer, [`after-${via(tcp)}.example.com. 300 IN A 192.0.2.2`]);
    }
    assert.deepEqual(await cares(srv.port, 'cares.example.com', 'A'), { ok: true, records: ['192.0.2.2 300'] });
    assert.equal(loop.queries.length, 0, 'nothing but the probe went to the looping upstream');
    assert.equal(loop.probes.length, 1);
    assert.equal(sample(await metricsText(srv), 'connect_dns_upstream_up', { upstream: `127.0.0.1#${loop.port}` }), 0);
  });
});

describe('serve-stale', () => {
  it('answers from the expired cache entry with TTL 30 once the upstream is gone', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const { srv, ups: [up], close } = await setUp('stale', [{ behaviour: 'answer', answers: (n) => [`${n} 1 IN A 192.0.2.7`] }], {
      recursor_timeout: '200ms',
    });
    t.after(close);
    assert.ok(up);
    assert.deepEqual((await dig(srv.port, 'stale.example.com', 'A')).answer, ['stale.example.com. 1 IN A 192.0.2.7']);
    await up.close();
    await new Promise((r) => setTimeout(r, 1200));
    for (const tcp of protos) {
      const r = await dig(srv.port, 'stale.example.com', 'A', { tcp });
      assert.equal(r.status, 'NOERROR', `over ${via(tcp)}`);
      assert.deepEqual(r.answer, ['stale.example.com. 30 IN A 192.0.2.7']);
    }
    assert.deepEqual(await cares(srv.port, 'stale.example.com', 'A'), { ok: true, records: ['192.0.2.7 30'] });
    assert.equal((await dig(srv.port, 'never-seen.example.com', 'A')).status, 'SERVFAIL', 'nothing stale to serve');
  });
});

describe('forged replies', () => {
  let env: Awaited<ReturnType<typeof setUp>>;
  before(async () => {
    env = await setUp('forged', [{ behaviour: 'forge-then-right', answers: at(1) }], {
      forward_cache: { enabled: false }, recursor_health: { max_failures: 1000 },
    });
  });
  after(() => env.close());

  for (const f of FORGERIES) {
    for (const tcp of protos) {
      if (f === 'wrong-source' && tcp) continue;
      it(`${f} over ${via(tcp)}: never relayed; the real reply after it is`, async (t) => {
        if (!digOk) return t.skip('dig is not installed');
        const [up] = env.ups;
        assert.ok(up);
        up.setForgery(f);
        up.setBehaviour('forge-then-right');
        const r = await dig(env.srv.port, `${f}.example.com`, 'A', { tcp });
        assert.equal(r.status, 'NOERROR');
        assert.deepEqual(r.answer, [`${f}.example.com. 300 IN A 192.0.2.1`]);
        assert.ok(!r.text.includes(FORGED_ADDRESS));
        up.setBehaviour('forge-only');
        const only = await dig(env.srv.port, `${f}-only.example.com`, 'A', { tcp });
        assert.equal(only.status, 'SERVFAIL', 'forgeries alone end in SERVFAIL');
      });
    }
  }
});

describe('records outside the question', () => {
  it('in-zone records from upstream never reach a client or answer for our names; unrelated ones are not cached for their name', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const answers = (n: string): string[] => (n.toLowerCase() === 'www.example.com.'
      ? [`${n} 300 IN A 192.0.2.1`, `evil.example.com. 300 IN A ${FORGED_ADDRESS}`]
      : [`${n} 300 IN A 192.0.2.9`]);
    const { srv, ups: [up], close } = await setUp('bailiwick', [{ behaviour: 'answer', answers, injectInZone: true }], {});
    t.after(close);
    assert.ok(up);
    for (const tcp of protos) {
      const r = await dig(srv.port, 'www.example.com', 'A', { tcp });
      assert.equal(r.status, 'NOERROR');
      assert.ok(!r.text.includes('injected.consul'), 'no record owned by our zone is relayed');
    }
    for (const tcp of protos) {
      const own = await dig(srv.port, 'injected.consul', 'A', { tcp });
      assert.equal(own.status, 'NXDOMAIN', 'our zone answers for itself');
      assert.ok(!own.text.includes('192.0.2.66'));
    }
    const before = up.queries.length;
    const evil = await dig(srv.port, 'evil.example.com', 'A');
    assert.deepEqual(evil.answer, ['evil.example.com. 300 IN A 192.0.2.9'], 'its own answer from upstream');
    assert.equal(up.queries.length, before + 1, 'asked upstream, not answered from www\'s cached reply');
  });
});
