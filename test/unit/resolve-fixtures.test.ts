// The config fixture dirs must answer the case tables exactly like the hand-built catalogs they mirror.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import { loadConfig } from '../../src/config/load.js';
import { Rcode } from '../../src/dns/records.js';
import { resolveQuery } from '../../src/resolve/resolve.js';
import { assertCase } from '../helpers/case-check.js';
import { referenceCases, richCases, type DnsCase } from '../helpers/dns-cases.js';
import { formatRr } from '../helpers/format-rr.js';
import { buildQuery, referenceContext, toResolveContext, type CaseContext } from '../helpers/reference-catalog.js';
import { richContext } from '../helpers/rich-catalog.js';

const RCODE_NAME = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));

function fixture(name: string, expected: CaseContext, cases: readonly DnsCase[]): void {
  describe(`test/fixtures/${name}/`, () => {
    it('loads into the context the tables assume and answers every case', async () => {
      const dir = fileURLToPath(new URL(`../fixtures/${name}/`, import.meta.url));
      const { config } = await loadConfig({ files: [], dirs: [dir] }, {}, { hostname: 'ignored' });
      const context: CaseContext = { domain: config.domain, ...(config.altDomain ? { altDomain: config.altDomain } : {}), recursors: false, dns: config.dns };
      assert.deepEqual(context, expected);
      const snapshot = createSnapshot(catalogFromConfig(config), 1);
      for (const c of cases) {
        const r = resolveQuery(buildQuery(c.qname, c.qtype), snapshot, toResolveContext(context));
        if (r.kind !== 'answer') {
          assertCase({ rcode: r.kind === 'refused' ? 'REFUSED' : 'FORWARD', aa: false, answer: [], authority: [], additional: [] }, c, c.qname);
          continue;
        }
        const a = r.answer;
        assertCase({
          rcode: RCODE_NAME.get(a.rcode) ?? String(a.rcode), aa: a.aa,
          answer: a.answer.map(formatRr), authority: a.authority.map(formatRr), additional: a.additional.map(formatRr),
        }, c, `${c.qname} ${c.qtype}`);
      }
    });
  });
}

fixture('reference', referenceContext(), referenceCases);
fixture('rich', richContext(), richCases);
