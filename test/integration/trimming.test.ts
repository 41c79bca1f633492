// 60 nodes with node meta + one node named "bad node", through dig: size fitting, udp_answer_limit, bad names, CD.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dig, hasDig, parseDig, type DigOptions, type DigResult } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
/** Nodes meta-1..60 (10.3.0.N, meta host-id=meta-node-N) and "bad node" (10.3.1.1) run svc; "bad node" and good run web. */
const META_NODES = 60;
const SVC_INSTANCES = META_NODES + 1;

const typeOf = (line: string): string => line.split(' ')[3] ?? '';
const ipOf = (line: string): string => line.split(' ')[4] ?? '';
const txtOf = (line: string): string => line.split(' ').slice(4).join(' ');

/** The node-meta TXT a svc A record's address stands for. */
function metaFor(ip: string): string {
  if (ip === '10.3.1.1') return '"host-id=bad-node"';
  return `"host-id=meta-node-${ip.split('.')[3]}"`;
}

/** Every SRV target has exactly its A in Additional (one each), and nothing else is there. */
function assertGlueOnly(r: DigResult): void {
  const targets = r.answer.map((l) => l.split(' ').at(-1) ?? '');
  assert.deepEqual(r.additional.map((l) => l.split(' ')[0]).sort(), [...targets].sort(), 'one Additional per SRV target');
  assert.ok(r.additional.every((l) => typeOf(l) === 'A'), 'only A glue in Additional');
}

describe('trimming: 60 nodes with meta and a node whose name is not a DNS name', () => {
  let srv: TestServer;
  let digOk = false;
  before(async () => {
    srv = await startTestServer({ dirs: [fileURLToPath(new URL('../fixtures/meta-trim/', import.meta.url))] });
    digOk = await hasDig();
  });
  after(async () => {
    await srv.close();
  });

  /** dig with extra options the shared helper does not know (+cdflag, +opcode). */
  const digWith = async (name: string, type: string, extra: string[]): Promise<DigResult> => {
    const args = [`@127.0.0.1`, '-p', String(srv.port), name, type, '+time=3', '+tries=1', '+nocookie', '+notcp', '+ignore', ...extra];
    const { stdout } = await run('dig', args, { timeout: 10_000, env: { ...process.env, HOME: '/nonexistent' } });
    return parseDig(stdout);
  };

  const clients: { label: string; opts: DigOptions; limit: number }[] = [
    { label: 'UDP, no EDNS', opts: { bufsize: false }, limit: 512 },
    { label: 'UDP, EDNS 512', opts: { bufsize: 512 }, limit: 512 },
    { label: 'UDP, EDNS 1232', opts: { bufsize: 1232 }, limit: 1232 },
    { label: 'UDP, EDNS 4096', opts: { bufsize: 4096 }, limit: 1232 },
    { label: 'TCP', opts: { tcp: true }, limit: 65535 },
  ];

  for (const c of clients) {
    it(`${c.label}: svc AAAA is NODATA with the SOA and no TC, however much meta there is`, async (t) => {
      if (!digOk) return t.skip('dig is not installed');
      const r = await dig(srv.port, 'svc.service.consul', 'AAAA', c.opts);
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual(r.answer, []);
      assert.equal(r.authority.length, 1);
      assert.equal(typeOf(r.authority[0] ?? ''), 'SOA');
      assert.equal(r.flags.includes('tc'), false, 'TC');
      assert.ok(r.size <= c.limit, `${r.size} bytes fit ${c.limit}`);
      // Over TCP everything fits, and Consul gives the meta even to a NODATA.
      if (c.opts.tcp) assert.equal(r.additional.length, SVC_INSTANCES);
    });
  }

  for (const c of clients.filter((x) => x.limit > 512)) {
    it(`${c.label}: svc A carries all ${SVC_INSTANCES} A records, dropping meta TXT only when it does not fit, no TC`, async (t) => {
      if (!digOk) return t.skip('dig is not installed');
      const r = await dig(srv.port, 'svc.service.consul', 'A', c.opts);
      assert.equal(r.status, 'NOERROR');
      assert.equal(r.answer.length, SVC_INSTANCES);
      assert.equal(r.flags.includes('tc'), false, 'TC');
      assert.ok(r.size <= c.limit, `${r.size} bytes fit ${c.limit}`);
      if (c.opts.tcp) assert.deepEqual(r.additional.map(txtOf).sort(), r.answer.map((l) => metaFor(ipOf(l))).sort());
      else assert.deepEqual(r.additional, []);
    });
  }

  for (const c of clients.filter((x) => x.limit === 512)) {
    it(`${c.label}: svc A gives udp_answer_limit (3) A records with the meta of exactly those nodes`, async (t) => {
      if (!digOk) return t.skip('dig is not installed');
      const r = await dig(srv.port, 'svc.service.consul', 'A', c.opts);
      assert.equal(r.answer.length, 3);
      assert.equal(r.flags.includes('tc'), false, 'TC');
      assert.deepEqual(r.additional.map(txtOf).sort(), r.answer.map((l) => metaFor(ipOf(l))).sort());
    });
  }

  for (const c of clients.filter((x) => !x.opts.tcp)) {
    it(`${c.label}: svc SRV is cut with A glue in step, the meta TXT given up first`, async (t) => {
      if (!digOk) return t.skip('dig is not installed');
      const r = await dig(srv.port, 'svc.service.consul', 'SRV', c.opts);
      assert.equal(r.status, 'NOERROR');
      assert.ok(r.size <= c.limit, `${r.size} bytes fit ${c.limit}`);
      assert.ok(r.answer.every((l) => !l.includes('bad')), 'the bad node is not in SRV answers');
      if (c.limit === 512) {
        // udp_answer_limit leaves 3, and their A and meta TXT fit: nothing is given up.
        assert.equal(r.answer.length, 3);
        assert.equal(r.flags.includes('tc'), false);
        const targets = r.answer.map((l) => l.split(' ').at(-1) ?? '').sort();
        assert.deepEqual(r.additional.filter((l) => typeOf(l) === 'A').map((l) => l.split(' ')[0]).sort(), targets);
        assert.deepEqual(r.additional.filter((l) => typeOf(l) === 'TXT').map((l) => l.split(' ')[0]).sort(), targets);
      } else {
        assertGlueOnly(r);
        // An SRV with its A takes 40-odd bytes here; with the meta TXT kept, barely a dozen would fit.
        assert.ok(r.answer.length >= 18 && r.answer.length < META_NODES, `${r.answer.length} answers`);
        assert.equal(r.flags.includes('tc'), true, 'answers were cut');
      }
    });
  }

  it(`TCP: svc SRV has the ${META_NODES} good nodes, each with its A and meta TXT, and not the bad node`, async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const r = await dig(srv.port, 'svc.service.consul', 'SRV', { tcp: true });
    assert.equal(r.status, 'NOERROR');
    assert.equal(r.answer.length, META_NODES);
    assert.ok(r.answer.every((l) => /^svc\.service\.consul\. 0 IN SRV 1 1 8080 meta-\d+\.node\.dc1\.consul\.$/.test(l)));
    assert.equal(r.additional.filter((l) => typeOf(l) === 'A').length, META_NODES);
    assert.equal(r.additional.filter((l) => typeOf(l) === 'TXT').length, META_NODES);
  });

  for (const tcp of [false, true]) {
    it(`${tcp ? 'TCP' : 'UDP'}: web SRV answers with the good node instead of SERVFAIL`, async (t) => {
      if (!digOk) return t.skip('dig is not installed');
      const r = await dig(srv.port, 'web.service.consul', 'SRV', { tcp });
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual(r.answer, ['web.service.consul. 0 IN SRV 1 1 80 good.node.dc1.consul.']);
      assert.deepEqual(r.additional, ['good.node.dc1.consul. 0 IN A 10.3.1.2']);
    });
  }

  it('web A still carries the bad node\'s address: A records do not need its name', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const r = await dig(srv.port, 'web.service.consul', 'A');
    assert.deepEqual(r.answer.map(ipOf).sort(), ['10.3.1.1', '10.3.1.2']);
  });

  it('PTR of the bad node\'s IP is NXDOMAIN with the SOA, not SERVFAIL; a good node\'s PTR works', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const bad = await dig(srv.port, '1.1.3.10.in-addr.arpa', 'PTR');
    assert.equal(bad.status, 'NXDOMAIN');
    assert.equal(typeOf(bad.authority[0] ?? ''), 'SOA');
    const good = await dig(srv.port, '7.0.3.10.in-addr.arpa', 'PTR');
    assert.deepEqual(good.answer, ['7.0.3.10.in-addr.arpa. 0 IN PTR meta-7.node.dc1.consul.']);
  });

  it('dig +cdflag: CD comes back on in-zone answers, negative answers, REFUSED and NOTIMP replies', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const answers = [
      await digWith('web.service.consul', 'A', ['+cdflag']),
      await digWith('nosuch.service.consul', 'A', ['+cdflag']),
      await digWith('example.com', 'A', ['+cdflag']),
      await digWith('web.service.consul', 'A', ['+cdflag', '+opcode=2']),
    ];
    assert.deepEqual(answers.map((r) => r.status), ['NOERROR', 'NXDOMAIN', 'REFUSED', 'NOTIMP']);
    for (const r of answers) assert.ok(r.flags.includes('cd'), `${r.status}: flags ${r.flags.join(' ')}`);
    const plain = await digWith('web.service.consul', 'A', []);
    assert.equal(plain.flags.includes('cd'), false);
  });
});
