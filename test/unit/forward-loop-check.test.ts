// The loop check: an upstream that sends our probe back to our own listener is disabled; others are left alone.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test, type TestContext } from 'node:test';
import { decodeQuery } from '../../src/dns/decode.js';
import { createDnsServer } from '../../src/dns/server.js';
import type { Forwarder } from '../../src/forward/forwarder.js';
import { answerLoopProbe, buildLoopMarker } from '../../src/forward/loop-check.js';
import { buildClientQuery } from '../helpers/fake-upstream.js';
import { decode, fakes, forwarderFor, quietLogger, rcode } from '../helpers/forward-setup.js';
import { createLogSink } from '../helpers/log-sink.js';

/** Our own listener on loopback: every query goes to `fwd()`, as the router sends names outside our zones. */
async function listener(t: TestContext, fwd: () => Forwarder): Promise<number> {
  const dns = await createDnsServer({
    addresses: ['127.0.0.1'], port: 0, logger: quietLogger(),
    handler: (raw, proto, client) => {
      const d = decodeQuery(raw, proto, client, { udpPayloadSize: 1232 });
      return d.kind === 'query' ? fwd().forward(d.query) : null;
    },
  });
  t.after(() => dns.close());
  const udp = dns.endpoints.find((e) => e.proto === 'udp');
  assert.ok(udp);
  return udp.port;
}

test('an upstream that forwards our probe back to us is disabled and never asked; the others keep serving', async (t) => {
  const [loop, good] = await fakes(t, { behaviour: 'relay' }, { behaviour: 'answer' });
  assert.ok(loop && good);
  const logs = createLogSink('debug');
  let fwd: Forwarder | undefined;
  const port = await listener(t, () => fwd as Forwarder);
  loop.relayTo(port);
  fwd = forwarderFor(t, [loop, good], { loopCheck: true, logger: logs.logger, timeoutMs: 2000 });
  const results = await fwd.loopCheck();
  assert.deepEqual(results, [
    { upstream: `127.0.0.1#${loop.port}`, outcome: 'loop' },
    { upstream: `127.0.0.1#${good.port}`, outcome: 'clear' },
  ]);
  assert.deepEqual(fwd.upstreamStates().map((s) => s.state), ['disabled', 'up']);
  assert.equal(loop.probes.length, 1, 'the probe that came back was answered here, not forwarded round again');
  assert.equal(good.probes.length, 1);
  const err = logs.lines.find((l) => l['level'] === 50);
  assert.equal(err?.['upstream'], `127.0.0.1#${loop.port}`, 'an error names the upstream');
  for (let i = 0; i < 3; i++) {
    const m = decode(await fwd.forward(buildClientQuery({ name: `real${i}.example.`, qtype: 1 })));
    assert.equal(rcode(m), 0);
  }
  assert.equal(loop.queries.length, 0, 'a disabled upstream gets nothing, though it comes first in order');
  assert.equal(good.queries.length, 3);
  assert.equal(await fwd.loopCheck(), results, 'the check runs once; later calls share its result');
});

test('the check starts by itself at the first forward, and an answering or silent upstream is not a loop', async (t) => {
  const [silent, good] = await fakes(t, { behaviour: 'silent' }, { behaviour: 'answer' });
  assert.ok(silent && good);
  const fwd = forwarderFor(t, [silent, good], { loopCheck: true, timeoutMs: 200 });
  await fwd.forward(buildClientQuery({ name: 'first.example.', qtype: 1 }));
  assert.equal(good.probes.length, 1, 'the first forward started the check');
  assert.deepEqual((await fwd.loopCheck()).map((r) => r.outcome), ['no-reply', 'clear']);
  assert.deepEqual(fwd.upstreamStates().map((s) => s.state), ['up', 'up']);
});

test('off by default: nothing but the client\'s queries reach the upstreams', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer' });
  assert.ok(up);
  const fwd = forwarderFor(t, [up]);
  await fwd.forward(buildClientQuery({ name: 'a.example.', qtype: 1 }));
  assert.deepEqual(await fwd.loopCheck(), []);
  assert.equal(up.probes.length, 0);
});

test('our own probe names are answered locally with a marker; another server\'s are forwarded like any name', async (t) => {
  const [up] = await fakes(t, { behaviour: 'answer' });
  assert.ok(up);
  const fwd = forwarderFor(t, [up], { loopCheck: true });
  await fwd.loopCheck();
  const probeName = up.probes[0]?.name;
  assert.ok(probeName);
  const ours = buildClientQuery({ name: probeName, qtype: 16, id: 77, edns: { udpSize: 1232, do: false } });
  const local = answerLoopProbe(ours, 1232);
  assert.ok(local);
  const m = decode(local);
  assert.equal(m.id, 77);
  assert.equal(rcode(m), 0);
  assert.equal(m.answer[0]?.type, 16);
  const viaForwarder = decode(await fwd.forward(ours));
  assert.deepEqual(viaForwarder.answer, m.answer);
  assert.equal(up.probes.length, 1, 'not forwarded');

  const foreign = buildClientQuery({ name: '00112233445566778.0123456789abcdef.connect-dns-loop-check.', qtype: 16 });
  assert.equal(answerLoopProbe(foreign, 1232), undefined);
  const relayed = decode(await fwd.forward(foreign));
  assert.equal(rcode(relayed), 3, 'the upstream\'s NXDOMAIN');
  assert.equal(up.probes.length, 2, 'forwarded: a chain through two servers reaches the one that sent it');
});

test('a probe that came back to a sibling worker is still caught: its marker reply says so', async (t) => {
  // A resolver that answers like one of our other --workers would: the marker, with no record of the probe here.
  const sibling = dgram.createSocket('udp4');
  sibling.on('message', (raw, rinfo) => {
    const d = decodeQuery(raw, 'udp', { address: rinfo.address, port: rinfo.port }, { udpPayloadSize: 1232 });
    if (d.kind === 'query') sibling.send(buildLoopMarker(d.query, 1232), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sibling.bind(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => sibling.close(() => resolve())));
  const fwd = forwarderFor(t, [], { loopCheck: true, upstreams: [{ address: '127.0.0.1', port: sibling.address().port }] });
  assert.deepEqual((await fwd.loopCheck()).map((r) => r.outcome), ['loop']);
  assert.deepEqual(fwd.upstreamStates().map((s) => s.state), ['disabled']);
});
