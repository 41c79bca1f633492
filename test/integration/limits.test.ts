// 100 instances through real clients: udp_answer_limit for plain UDP, size fitting with TC for EDNS 512/1232/4096, all over TCP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cares } from '../helpers/cares.js';
import { dig, hasDig, type DigResult } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startTcShim, type TcShim } from '../helpers/tc-shim.js';

/** Every SRV target has exactly its A record in Additional, and nothing else is there. */
function assertInStep(r: DigResult): void {
  const targets = r.answer.map((l) => l.split(' ').at(-1) ?? '');
  const owners = r.additional.map((l) => l.split(' ')[0] ?? '');
  assert.deepEqual([...owners].sort(), [...targets].sort(), 'Additional in step with Answer');
  assert.equal(new Set(r.additional).size, r.additional.length, 'no duplicate Additional');
}

describe('100 instances: limits and trimming', () => {
  let srv: TestServer;
  let shim: TcShim;
  let digOk = false;
  before(async () => {
    srv = await startTestServer({ dirs: [fileURLToPath(new URL('../fixtures/rich/', import.meta.url))] });
    shim = await startTcShim(srv.port);
    digOk = await hasDig();
  });
  after(async () => {
    await shim.close();
    await srv.close();
  });

  const udp: { label: string; bufsize: number | false; answers?: number; tc: boolean; limit: number }[] = [
    // Consul's meaning of udp_answer_limit (3): clients without EDNS (or EDNS <= 512) get a random 3, no TC.
    { label: 'no EDNS', bufsize: false, answers: 3, tc: false, limit: 512 },
    { label: 'EDNS 512', bufsize: 512, answers: 3, tc: false, limit: 512 },
    // Larger clients get as many as fit in min(their size, our 1232), with TC because records were cut.
    { label: 'EDNS 1232', bufsize: 1232, tc: true, limit: 1232 },
    { label: 'EDNS 4096', bufsize: 4096, tc: true, limit: 1232 },
  ];
  for (const qtype of ['SRV', 'A']) {
    for (const u of udp) {
      it(`dig UDP ${u.label}: big.service.consul ${qtype}`, async (t) => {
        if (!digOk) return t.skip('dig is not installed');
        const r = await dig(srv.port, 'big.service.consul', qtype, { bufsize: u.bufsize });
        assert.equal(r.status, 'NOERROR');
        assert.ok(r.size <= u.limit, `reply of ${r.size} bytes fits ${u.limit}`);
        assert.equal(r.flags.includes('tc'), u.tc, 'TC');
        if (u.answers !== undefined) assert.equal(r.answer.length, u.answers);
        else assert.ok(r.answer.length > 3 && r.answer.length < 100, `${r.answer.length} answers fit`);
        if (qtype === 'SRV') assertInStep(r);
        else assert.equal(r.additional.length, 0);
      });
    }
    it(`dig TCP: big.service.consul ${qtype} carries all 100`, async (t) => {
      if (!digOk) return t.skip('dig is not installed');
      const r = await dig(srv.port, 'big.service.consul', qtype, { tcp: true });
      assert.equal(r.answer.length, 100);
      assert.equal(r.flags.includes('tc'), false);
      if (qtype === 'SRV') assertInStep(r);
    });
  }

  it('c-ares over UDP (no EDNS) gets the udp_answer_limit subset; over TCP all 100', async () => {
    const viaUdp = await cares(srv.port, 'big.service.consul', 'SRV');
    const viaTcp = await cares(shim.port, 'big.service.consul', 'SRV');
    assert.ok(viaUdp.ok && viaTcp.ok);
    assert.equal(viaUdp.records.length, 3);
    assert.equal(viaTcp.records.length, 100);
    assert.equal(new Set(viaTcp.records).size, 100);
  });

  it('answers are shuffled: ten plain-UDP queries see more than one subset', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await dig(srv.port, 'big.service.consul', 'SRV', { bufsize: false })).answer.join('|'));
    assert.ok(seen.size > 1);
  });
});
