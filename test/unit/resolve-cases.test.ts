// Runs the shared case tables through the pure resolver, as a plain UDP, an EDNS UDP and a TCP client would ask.
import { describe, it } from 'node:test';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { CatalogInput } from '../../src/catalog/types.js';
import { Rcode } from '../../src/dns/records.js';
import { resolveQuery } from '../../src/resolve/resolve.js';
import { assertCase, type SeenReply } from '../helpers/case-check.js';
import { referenceCases, referencePassingCases, richCases, richOnlyPassingCases, type DnsCase } from '../helpers/dns-cases.js';
import { formatRr } from '../helpers/format-rr.js';
import { buildQuery, referenceCatalog, referenceContext, toResolveContext, type CaseContext, type Client } from '../helpers/reference-catalog.js';
import { richCatalog, richContext } from '../helpers/rich-catalog.js';

const RCODE_NAME = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));

function seen(input: CatalogInput, context: CaseContext, c: DnsCase, client: Client): SeenReply {
  const res = resolveQuery(buildQuery(c.qname, c.qtype, client), createSnapshot(input, 1), toResolveContext(context));
  if (res.kind === 'refused') return { rcode: 'REFUSED', aa: false, answer: [], authority: [], additional: [] };
  if (res.kind === 'forward') throw new Error('unexpected forward');
  const a = res.answer;
  return {
    rcode: RCODE_NAME.get(a.rcode) ?? String(a.rcode), aa: a.aa,
    answer: a.answer.map(formatRr), authority: a.authority.map(formatRr), additional: a.additional.map(formatRr),
  };
}

function table(title: string, input: CatalogInput, context: CaseContext, cases: readonly DnsCase[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(`${c.qname} ${c.qtype} — ${c.desc}`, () => {
        for (const client of ['udp', 'udp-edns', 'tcp'] as const) assertCase(seen(input, context, c, client), c, `${c.qname} ${c.qtype} (${client})`);
      });
    }
  });
}

table('reference cases (managed proxy critical)', referenceCatalog({ managedProxyPassing: false }), referenceContext(), referenceCases);
table('reference cases (managed proxy passing)', referenceCatalog({ managedProxyPassing: true }), referenceContext(), referencePassingCases);
table('rich cases', richCatalog(), richContext(), richCases);
table('rich cases with only_passing', richCatalog(), richContext({ onlyPassing: true }), richOnlyPassingCases);
