// Replays every dig of the Consul 1.2.4 capture against our server and compares, with each deliberate difference spelled out.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dig, hasDig, parseDig, type DigResult } from '../helpers/dig.js';
import { listenTcp, waitForCheck } from '../helpers/listener.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Capture {
  readonly name: string;
  readonly type: string;
  readonly tcp: boolean;
  readonly norecurse: boolean;
  readonly reply: DigResult;
}

/** The main run of the capture (the variant runs after the ##### line are other agent set-ups). */
function readCapture(): Capture[] {
  const text = readFileSync(new URL('../fixtures/consul-1.2.4-digs.txt', import.meta.url), 'utf8');
  const main = text.split(/^#{20,}$/m)[0] ?? '';
  const out: Capture[] = [];
  for (const block of main.split(/^={20,}$/m)) {
    const cmd = /^\$ dig @127\.0\.0\.1 -p 8600 (\S+) (\S+)(.*)$/m.exec(block);
    if (!cmd) continue;
    const opts = cmd[3] ?? '';
    out.push({ name: cmd[1] ?? '', type: cmd[2] ?? '', tcp: opts.includes('+tcp'), norecurse: opts.includes('+norecurse'), reply: parseDig(block) });
  }
  return out;
}

const SOA = 'consul. 0 IN SOA ns.consul. hostmaster.consul. <serial> 3600 600 86400 0';

/**
 * What we answer instead of Consul 1.2.4, by the choices:
 * 1. the local node carries only configured node_meta, so no `consul-network-segment` TXT anywhere;
 * 2. Additional never holds duplicates;
 * 3. without the managed proxy running (`proxyUp: false`), its "Connect Proxy Listening" check stays critical
 *    and the 20120 endpoint is filtered out (the capture's own "run A" shows the same);
 * 4. an unknown datacenter is NXDOMAIN + SOA (newer Consul), not SERVFAIL;
 * 5. a name outside the domain with no recursors is REFUSED (newer Consul), not SERVFAIL;
 * 6. an empty NOERROR answer carries the SOA (NODATA), as Consul does for its other empty answers.
 */
function expected(c: Capture, proxyUp: boolean): { status: string; aa: boolean; answer: string[]; authority: string[]; additional: string[] } {
  const noMeta = (l: string): boolean => !l.includes('TXT "consul-network-segment="');
  const proxyFilter = (l: string): boolean => proxyUp || !/ SRV 1 1 20120 /.test(l);
  const serial = (l: string): string => l.replace(/(hostmaster\.consul\. )\d+/, '$1<serial>');
  if (/\.dc2\.consul$/i.test(c.name)) return { status: 'NXDOMAIN', aa: true, answer: [], authority: [SOA], additional: [] };
  if (!/consul$|arpa$/i.test(c.name)) return { status: 'REFUSED', aa: false, answer: [], authority: [], additional: [] };
  const answer = c.reply.answer.filter(noMeta).filter(proxyFilter).map(serial);
  let authority = c.reply.authority.filter(noMeta).map(serial);
  if (c.reply.status === 'NOERROR' && answer.length === 0 && authority.length === 0 && !/\.node\./i.test(c.name)) authority = [SOA];
  const additional = [...new Set(c.reply.additional.filter(noMeta))];
  return { status: c.reply.status, aa: c.reply.flags.includes('aa'), answer, authority, additional };
}

const sorted = (l: readonly string[]): string[] => [...l].sort();
const wild = (l: readonly string[]): string[] => l.map((x) => x.replace(/(hostmaster\.consul\. )\d+/, '$1<serial>'));

for (const proxyUp of [false, true]) {
  describe(`Consul 1.2.4 capture, managed proxy ${proxyUp ? 'up (its check passing)' : 'not started (check critical)'}`, () => {
    let srv: TestServer;
    let proxy: { close(): Promise<void> } | undefined;
    let digOk = false;
    before(async () => {
      // "Up" is what the capture had: something listening on the managed proxy's port (20120), so its
      // "Connect Proxy Listening" check, which the server runs, passes.
      if (proxyUp) proxy = await listenTcp(20120);
      srv = await startTestServer({ dirs: [fileURLToPath(new URL('../fixtures/reference/', import.meta.url))] });
      if (proxyUp) await waitForCheck(srv.server.registry, 'ref-node', 'service:redis-proxy', 'passing');
      digOk = await hasDig();
    });
    after(async () => {
      await srv.close();
      await proxy?.close();
    });

    const captures = readCapture();
    it('reads the whole main run of the capture', () => assert.equal(captures.length, 43));
    for (const c of captures) {
      for (const tcp of [false, true]) {
        it(`${c.name} ${c.type}${c.norecurse ? ' +norecurse' : ''} over ${tcp ? 'TCP' : 'UDP'}`, async (t) => {
          if (!digOk) return t.skip('dig is not installed');
          const want = expected(c, proxyUp);
          const got = await dig(srv.port, c.name, c.type, { tcp, norecurse: c.norecurse });
          assert.equal(got.status, want.status);
          assert.equal(got.flags.includes('aa'), want.aa, 'aa flag');
          assert.equal(got.flags.includes('ra'), false, 'no recursion available without recursors');
          assert.equal(got.flags.includes('rd'), !c.norecurse, 'rd echoed');
          assert.deepEqual(sorted(wild(got.answer)), sorted(want.answer), 'answer');
          assert.deepEqual(sorted(wild(got.authority)), sorted(want.authority), 'authority');
          assert.deepEqual(sorted(got.additional), sorted(want.additional), 'additional');
          assert.equal(got.opt?.udp, 1232);
        });
      }
    }
  });
}
