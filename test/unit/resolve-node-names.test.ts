// Node names that cannot be DNS names ("bad node", "büro", long labels): left out of SRV and PTR, never a SERVFAIL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSnapshot } from '../../src/catalog/snapshot.js';
import type { CatalogNode } from '../../src/catalog/types.js';
import { decodeQuery, encodeAnswer } from '../../src/dns/codec.js';
import type { Query } from '../../src/dns/records.js';
import { isDnsName } from '../../src/resolve/dns-name.js';
import { resolveQuery } from '../../src/resolve/resolve.js';
import { buildQuery, parseReply, type ParsedReply } from '../helpers/dns-client.js';
import { referenceContext, service, toResolveContext } from '../helpers/reference-catalog.js';

describe('isDnsName', () => {
  const good = ['good.node.dc1.consul.', 'node.with.dots.node.dc1.consul', 'UPPER_under-score.consul.', '.', `${'a'.repeat(63)}.consul.`,
    // 255 octets on the wire exactly: three 63-octet labels and one of 61, each with its length byte, and the root.
    `${Array(3).fill('a'.repeat(63)).join('.')}.${'b'.repeat(61)}.`];
  const bad = ['bad node.node.dc1.consul.', 'b\u00fcro.node.dc1.consul.', `${'a'.repeat(64)}.consul.`, 'a..consul.', '.consul.',
    'tab\there.consul.', `${Array(3).fill('a'.repeat(63)).join('.')}.${'b'.repeat(62)}.`, 'del\u007f.consul.'];
  for (const n of good) it(`accepts ${JSON.stringify(n.length > 40 ? `${n.slice(0, 20)}…(${n.length})` : n)}`, () => assert.equal(isDnsName(n), true));
  for (const n of bad) it(`rejects ${JSON.stringify(n.length > 40 ? `${n.slice(0, 20)}…(${n.length})` : n)}`, () => assert.equal(isDnsName(n), false));
});

const node = (name: string, address: string): CatalogNode => ({ name, address, datacenter: 'dc1', meta: { owner: name } });
const LONG_LABEL = 'x'.repeat(64);
/** Each label is fine, but with ".node.dc1.consul." the name passes 255 octets. */
const LONG_NAME = Array(4).fill('y'.repeat(60)).join('.');
const nodes = [
  node('bad node', '10.5.0.1'),
  node('good', '10.5.0.2'),
  node('b\u00fcro', '10.5.0.3'),
  node(LONG_LABEL, '10.5.0.4'),
  node(LONG_NAME, '10.5.0.5'),
  node('twin', '10.5.0.1'),
];
const snapshot = createSnapshot({
  datacenter: 'dc1',
  localNode: node('server', '127.0.0.1'),
  nodes,
  services: [
    ...nodes.filter((n) => n.name !== 'twin').map((n) => service({ service: 'web', node: n.name, port: 80 })),
    // On its own IP the SRV target is an .addr name, which does not need the node's name.
    service({ service: 'own', node: 'bad node', port: 81, address: '10.5.9.9' }),
  ],
  checks: [],
}, 1);

function ask(name: string, type: string, edns = true): { reply: ParsedReply; query: Query } {
  const out = decodeQuery(buildQuery({ name, type, ...(edns ? { edns: {} } : {}) }), 'udp', { address: '127.0.0.1', port: 5353 }, { udpPayloadSize: 1232 });
  if (out.kind !== 'query') throw new Error(`query did not decode: ${out.kind}`);
  const res = resolveQuery(out.query, snapshot, toResolveContext(referenceContext()));
  assert.equal(res.kind, 'answer');
  if (res.kind !== 'answer') throw new Error('unreachable');
  // The encoder throws on an unencodable record (the router's SERVFAIL): reaching parseReply is the point.
  const reply = parseReply(encodeAnswer(out.query, res.answer, { ra: false, compress: true, udpPayloadSize: 1232 }));
  assert.deepEqual(reply.errors, []);
  return { reply, query: out.query };
}

describe('undecodable node names', () => {
  it('SRV: only the nodes with valid names, each with its A and meta TXT', () => {
    const { reply } = ask('web.service.consul.', 'SRV');
    assert.equal(reply.rcodeName, 'NOERROR');
    assert.deepEqual(reply.answer, ['web.service.consul. 0 IN SRV 1 1 80 good.node.dc1.consul.']);
    assert.deepEqual(reply.additional.sort(), ['good.node.dc1.consul. 0 IN A 10.5.0.2', 'good.node.dc1.consul. 0 IN TXT "owner=good"']);
  });

  it('A: every instance\'s address stays, names are not needed', () => {
    const { reply } = ask('web.service.consul.', 'A');
    assert.deepEqual(reply.answer.sort(), ['10.5.0.1', '10.5.0.2', '10.5.0.3', '10.5.0.4', '10.5.0.5'].map((ip) => `web.service.consul. 0 IN A ${ip}`));
  });

  it('SRV of a bad node\'s service on its own IP: the .addr target still works', () => {
    const { reply } = ask('own.service.consul.', 'SRV');
    assert.deepEqual(reply.answer, ['own.service.consul. 0 IN SRV 1 1 81 0a050909.addr.dc1.consul.']);
    assert.deepEqual(reply.additional, ['0a050909.addr.dc1.consul. 0 IN A 10.5.9.9']);
  });

  it('a service on bad nodes only: NODATA with the SOA, not SERVFAIL', () => {
    const only = createSnapshot({ datacenter: 'dc1', localNode: node('server', '127.0.0.1'), nodes: [node('bad node', '10.5.0.1')],
      services: [service({ service: 'lonely', node: 'bad node', port: 1 })], checks: [] }, 1);
    const out = decodeQuery(buildQuery({ name: 'lonely.service.consul.', type: 'SRV' }), 'udp', { address: '127.0.0.1', port: 5353 }, { udpPayloadSize: 1232 });
    assert.ok(out.kind === 'query');
    const res = resolveQuery(out.query, only, toResolveContext(referenceContext()));
    assert.ok(res.kind === 'answer');
    const r = parseReply(encodeAnswer(out.query, res.answer, { ra: false, compress: true, udpPayloadSize: 1232 }));
    assert.equal(r.rcodeName, 'NOERROR');
    assert.deepEqual(r.answer, []);
    assert.equal(r.authority.length, 1);
  });

  it('PTR skips a bad name for a valid node at the same IP, and is NXDOMAIN when none is valid', () => {
    assert.deepEqual(ask('1.0.5.10.in-addr.arpa.', 'PTR').reply.answer, ['1.0.5.10.in-addr.arpa. 0 IN PTR twin.node.dc1.consul.']);
    for (const ip of ['3', '4', '5']) {
      const { reply } = ask(`${ip}.0.5.10.in-addr.arpa.`, 'PTR');
      assert.equal(reply.rcodeName, 'NXDOMAIN', `10.5.0.${ip}`);
      assert.deepEqual(reply.answer, []);
    }
    assert.deepEqual(ask('2.0.5.10.in-addr.arpa.', 'PTR').reply.answer, ['2.0.5.10.in-addr.arpa. 0 IN PTR good.node.dc1.consul.']);
  });
});
