// Runs the shared DNS case tables against a real server, over UDP and TCP, with dig and with Node's c-ares.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cares, caresTypes, expectedCares } from '../helpers/cares.js';
import { assertCase } from '../helpers/case-check.js';
import { dig, hasDig } from '../helpers/dig.js';
import { referenceCases, referencePassingCases, richCases, richOnlyPassingCases, type DnsCase } from '../helpers/dns-cases.js';
import { listenTcp, waitForCheck } from '../helpers/listener.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startTcShim, type TcShim } from '../helpers/tc-shim.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}/`, import.meta.url));

function table(title: string, dirs: string[], cases: readonly DnsCase[], proxyUp = false): void {
  describe(title, () => {
    let srv: TestServer;
    let shim: TcShim;
    let proxy: { close(): Promise<void> } | undefined;
    let digOk = false;
    before(async () => {
      // The managed proxy "up": something listens on its port, so the check the server runs passes.
      if (proxyUp) proxy = await listenTcp(20120);
      srv = await startTestServer({ dirs: dirs.map(fixture) });
      if (proxyUp) await waitForCheck(srv.server.registry, 'ref-node', 'service:redis-proxy', 'passing');
      shim = await startTcShim(srv.port);
      digOk = await hasDig();
    });
    after(async () => {
      await shim.close();
      await srv.close();
      await proxy?.close();
    });

    for (const c of cases) {
      for (const proto of ['udp', 'tcp'] as const) {
        it(`dig ${proto}: ${c.qname} ${c.qtype} — ${c.desc}`, async (t) => {
          if (!digOk) return t.skip('dig is not installed');
          const r = await dig(srv.port, c.qname, c.qtype, { tcp: proto === 'tcp' });
          assert.equal(r.transport, proto.toUpperCase());
          assertCase(
            { rcode: r.status, aa: r.flags.includes('aa'), answer: r.answer, authority: r.authority, additional: r.additional },
            c,
            `${c.qname} ${c.qtype} over ${proto}`,
          );
          // Every reply to an EDNS query (dig sends one) advertises our own size.
          if (r.status !== 'FORMERR') assert.equal(r.opt?.udp, 1232, 'our OPT advertises 1232');
        });
        if (!caresTypes.has(c.qtype) || c.count) continue;
        it(`c-ares ${proto}: ${c.qname} ${c.qtype}`, async () => {
          const want = expectedCares(c.qtype, c.rcode ?? 'NOERROR', c.answer ?? []);
          const got = await cares(proto === 'udp' ? srv.port : shim.port, c.qname, c.qtype);
          if (want.ok && got.ok) assert.deepEqual([...got.records].sort(), [...want.records].sort());
          else assert.deepEqual(got, want);
        });
      }
    }
  });
}

table('reference capture (Consul 1.2.4 setup) from config files', ['reference'], referenceCases);
table('reference capture with the managed proxy up', ['reference'], referencePassingCases, true);
table('rich catalog from config files', ['rich'], richCases);
table('rich catalog with only_passing', ['rich', 'rich-only-passing'], richOnlyPassingCases);
