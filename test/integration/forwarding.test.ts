// Forwarding through the real server to fake upstreams, checked with dig and c-ares over UDP and TCP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cares } from '../helpers/cares.js';
import { dig, hasDig } from '../helpers/dig.js';
import { buildQuery, parseReply, sendUdp } from '../helpers/dns-client.js';
import { startFakeUpstream, type FakeBehaviour, type FakeUpstream } from '../helpers/fake-upstream.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startTcShim, type TcShim } from '../helpers/tc-shim.js';

const TIMEOUT_MS = 300;

describe('forwarding to upstream resolvers', () => {
  let first: FakeUpstream;
  let second: FakeUpstream;
  let srv: TestServer;
  let shim: TcShim;
  let digOk = false;
  const tmp = mkdtempSync(join(tmpdir(), 'cdns-fwd-'));

  before(async () => {
    const answers = (name: string, qtype: number): string[] =>
      qtype === 12 ? [`${name} 300 IN PTR host.example.`] : qtype === 1 ? [`${name} 300 IN A 192.0.2.1`] : [`${name} 300 IN TYPE${qtype} \\# 3 010203`];
    first = await startFakeUpstream({ behaviour: 'answer', answers, injectInZone: true });
    second = await startFakeUpstream({ behaviour: 'answer', answers: (n, t) => (t === 1 ? [`${n} 60 IN A 192.0.2.2`] : answers(n, t)) });
    const file = join(tmp, 'agent.json');
    writeFileSync(file, JSON.stringify({
      recursors: [`127.0.0.1:${first.port}`, `127.0.0.1:${second.port}`],
      // These tests change the upstreams' behaviour between identical queries, so answers must not be cached,
      // and a failing upstream must not be marked down (test/integration/upstream-faults.test.ts covers that).
      dns_config: {
        recursor_timeout: `${TIMEOUT_MS}ms`, recursor_strategy: 'sequential', forward_cache: { enabled: false },
        recursor_health: { max_failures: 1000 },
      },
      node_name: 'fwd-node',
    }));
    srv = await startTestServer({ files: [file] });
    shim = await startTcShim(srv.port);
    digOk = await hasDig();
  });
  after(async () => {
    await shim.close();
    await srv.close();
    await first.close();
    await second.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const set = (a: FakeBehaviour, b: FakeBehaviour): void => {
    first.setBehaviour(a);
    second.setBehaviour(b);
  };

  const flows: { desc: string; a: FakeBehaviour; b: FakeBehaviour; status: string; address?: string; caresCode?: string }[] = [
    { desc: 'the first upstream answers', a: 'answer', b: 'answer', status: 'NOERROR', address: '192.0.2.1' },
    { desc: 'SERVFAIL moves on to the next upstream', a: 'servfail', b: 'answer', status: 'NOERROR', address: '192.0.2.2' },
    { desc: 'REFUSED moves on to the next upstream', a: 'refused', b: 'answer', status: 'NOERROR', address: '192.0.2.2' },
    { desc: 'a reply with a wrong ID is ignored', a: 'wrong-id', b: 'answer', status: 'NOERROR', address: '192.0.2.2' },
    { desc: 'a reply with a wrong question is ignored', a: 'wrong-question', b: 'answer', status: 'NOERROR', address: '192.0.2.2' },
    { desc: 'a forged reply followed by the real one', a: 'wrong-then-right', b: 'silent', status: 'NOERROR', address: '192.0.2.1' },
    { desc: 'NXDOMAIN is an answer and is relayed', a: 'nxdomain', b: 'answer', status: 'NXDOMAIN', caresCode: 'ENOTFOUND' },
    { desc: 'every upstream refusing ends in SERVFAIL', a: 'refused', b: 'refused', status: 'SERVFAIL', caresCode: 'ESERVFAIL' },
    { desc: 'every upstream silent ends in SERVFAIL within the timeouts', a: 'silent', b: 'silent', status: 'SERVFAIL', caresCode: 'ESERVFAIL' },
  ];

  for (const f of flows) {
    for (const tcp of [false, true]) {
      it(`dig ${tcp ? 'TCP' : 'UDP'}: ${f.desc}`, async (t) => {
        if (!digOk) return t.skip('dig is not installed');
        set(f.a, f.b);
        const started = Date.now();
        const r = await dig(srv.port, 'WWW.Example.com', 'A', { tcp });
        const elapsed = Date.now() - started;
        assert.equal(r.status, f.status);
        assert.ok(r.flags.includes('ra'), 'RA set');
        assert.ok(!r.flags.includes('aa'), 'a forwarded answer is not authoritative');
        assert.match(r.text, /;WWW\.Example\.com\.\s+IN\s+A/, 'question echoed in the client\'s case');
        if (f.address) {
          assert.deepEqual(r.answer, [`WWW.Example.com. ${f.address === '192.0.2.1' ? 300 : 60} IN A ${f.address}`], 'record and TTL unchanged');
          assert.ok(!r.text.includes('injected.consul'), 'records owned by our zone are never passed on');
        }
        if (f.a === 'silent') assert.ok(elapsed < 2 * TIMEOUT_MS + 1500, `SERVFAIL after ${elapsed} ms`);
        assert.equal(r.opt?.udp, 1232);
      });
      it(`c-ares ${tcp ? 'TCP' : 'UDP'}: ${f.desc}`, async () => {
        set(f.a, f.b);
        const got = await cares(tcp ? shim.port : srv.port, 'www.example.com', 'A');
        if (f.address) assert.deepEqual(got, { ok: true, records: [`${f.address} ${f.address === '192.0.2.1' ? 300 : 60}`] });
        else assert.deepEqual(got, { ok: false, code: f.caresCode });
      });
    }
  }

  it('each upstream query has a fresh ID and source port, RD=1 and our own OPT without the client\'s options', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    set('answer', 'answer');
    first.queries.length = 0;
    // A +norecurse client is answered from the forward cache only (open-resolver.test.ts), so both ask with RD=1.
    await dig(srv.port, 'a.example.com', 'A');
    await dig(srv.port, 'b.example.com', 'A');
    const [q1, q2] = first.queries;
    assert.ok(q1 && q2);
    assert.notEqual(q1.sourcePort, q2.sourcePort);
    assert.equal(q1.rd, true, 'RD=1 upstream');
    assert.equal(q1.hasOpt, true);
    assert.equal(q1.optOptions, 0);

    // A fixed client ID must not leak upstream: five random 16-bit IDs meet it by chance ~1e-4 of the time,
    // so at most one equal is tolerated; all five equal to each other would mean no fresh ID at all.
    const clientId = 0x2b2b;
    first.queries.length = 0;
    for (let i = 0; i < 5; i++) {
      const reply = parseReply(await sendUdp(srv.port, buildQuery({ name: `id${i}.example.com.`, type: 'A', id: clientId })));
      assert.equal(reply.id, clientId, 'the client gets its own ID back');
      assert.equal(reply.rcodeName, 'NOERROR');
    }
    const ids = first.queries.map((q) => q.id);
    assert.equal(ids.length, 5);
    assert.ok(new Set(ids).size > 1, `upstream IDs ${ids.join(', ')} are not all the same`);
    assert.ok(ids.filter((id) => id === clientId).length <= 1, `upstream IDs ${ids.join(', ')} are not the client's ${clientId}`);
    assert.ok(new Set(first.queries.map((q) => q.sourcePort)).size > 1, 'a fresh source port per query');
  });

  it('a truncated upstream reply is retried over TCP; UDP clients get what fits with TC, TCP clients all of it', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const big = await startFakeUpstream({ behaviour: 'truncate', bigAnswerCount: 100 });
    t.after(() => big.close());
    const file = join(tmp, 'big.json');
    writeFileSync(file, JSON.stringify({ recursors: [`127.0.0.1:${big.port}`], dns_config: { recursor_timeout: '1s' } }));
    const s = await startTestServer({ files: [file] });
    t.after(() => s.close());
    const viaUdp = await dig(s.port, 'many.example.com', 'A', { bufsize: 1232 });
    assert.equal(viaUdp.status, 'NOERROR');
    assert.ok(viaUdp.flags.includes('tc'));
    assert.ok(viaUdp.size <= 1232);
    assert.ok(viaUdp.answer.length > 0 && viaUdp.answer.length < 100);
    const viaTcp = await dig(s.port, 'many.example.com', 'A', { tcp: true });
    assert.equal(viaTcp.answer.length, 100);
    assert.ok(big.queries.some((q) => q.proto === 'tcp'), 'the server retried over TCP');
  });

  it('types the server cannot decode pass through unchanged', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    set('answer', 'answer');
    // A private-use type: dig would try to parse a known one such as HTTPS (65).
    const r = await dig(srv.port, 'svc.example.com', 'TYPE65280');
    assert.deepEqual(r.answer, ['svc.example.com. 300 IN TYPE65280 \\# 3 010203']);
  });

  it('a PTR that matches nothing in the catalog is forwarded', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    set('answer', 'answer');
    const r = await dig(srv.port, '4.3.2.192.in-addr.arpa', 'PTR');
    assert.deepEqual(r.answer, ['4.3.2.192.in-addr.arpa. 300 IN PTR host.example.']);
    const own = await dig(srv.port, '1.0.0.127.in-addr.arpa', 'PTR');
    assert.deepEqual(own.answer, ['1.0.0.127.in-addr.arpa. 0 IN PTR fwd-node.node.dc1.consul.']);
    assert.ok(own.flags.includes('aa') && own.flags.includes('ra'));
  });

  it('in-zone names are never forwarded, and say RA when recursors exist', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    first.queries.length = 0;
    second.queries.length = 0;
    const r = await dig(srv.port, 'nosuch.service.consul', 'A');
    assert.equal(r.status, 'NXDOMAIN');
    assert.ok(r.flags.includes('ra') && r.flags.includes('aa'));
    assert.equal(first.queries.length + second.queries.length, 0);
  });

  it('with the forward cache on (the default), a repeated name is answered from the cache with its TTL counted down', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const up = await startFakeUpstream({ behaviour: 'answer', answers: (n) => [`${n} 300 IN A 192.0.2.7`] });
    t.after(() => up.close());
    const file = join(tmp, 'cached.json');
    writeFileSync(file, JSON.stringify({ recursors: [`127.0.0.1:${up.port}`] }));
    const s = await startTestServer({ files: [file] });
    t.after(() => s.close());
    const first = await dig(s.port, 'cached.example.com', 'A');
    assert.deepEqual(first.answer, ['cached.example.com. 300 IN A 192.0.2.7']);
    await new Promise((r) => setTimeout(r, 1100));
    for (const tcp of [false, true]) {
      const again = await dig(s.port, 'CACHED.example.com', 'A', { tcp });
      assert.equal(again.answer.length, 1);
      const [owner, ttl] = (again.answer[0] ?? '').split(' ');
      assert.equal(owner?.toLowerCase(), 'cached.example.com.');
      assert.match(again.text, /;CACHED\.example\.com\.\s+IN\s+A/, 'the question in the client\'s case');
      assert.ok(Number(ttl) < 300 && Number(ttl) >= 298, `TTL counted down: ${ttl}`);
    }
    assert.equal(up.queries.length, 1, 'one upstream query for three client queries');
    up.setBehaviour('servfail');
    const nx = await dig(s.port, 'fresh.example.com', 'A');
    assert.equal(nx.status, 'SERVFAIL');
    await dig(s.port, 'fresh.example.com', 'A');
    assert.equal(up.queries.filter((q) => q.name.toLowerCase() === 'fresh.example.com.').length, 2, 'SERVFAIL is never cached');
  });
});
