// The fuzz battery: seeded hostile UDP datagrams and TCP sessions against the real binary; it must stay up, answer
// only with well-formed replies within the query's size, keep answering good queries, and not grow.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startBinary, type BinaryServer } from '../helpers/binary.js';
import { buildQuery, parseReply, sendTcp, sendUdp } from '../helpers/dns-client.js';
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream.js';
import { udpCase, type FuzzCase } from '../helpers/fuzz-input.js';
import { framesOf, fuzzUdp, runTcpSession, type FuzzFailure, type TcpSession } from '../helpers/fuzz-send.js';
import { tcpSession } from '../helpers/fuzz-tcp.js';
import { seededRandom } from '../helpers/reference-catalog.js';
import { checkReply } from '../helpers/wire-check.js';

const SEED = process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) >>> 0 : 0x5eed0005;
/**
 * Measured batches; FUZZ_BATCHES raises the count for a longer hunt. With the warm-up the suite sends 13,000
 * UDP datagrams and 1,430+ TCP messages.
 */
const BATCHES = process.env['FUZZ_BATCHES'] !== undefined ? Number(process.env['FUZZ_BATCHES']) : 10;
const WARM_UP_BATCHES = 3;
const UDP_PER_BATCH = 1000;
/** TCP sessions are added to a batch until their messages reach this many. */
const TCP_MESSAGES_PER_BATCH = 110;
const TCP_LANES = 4;
const RSS_GROWTH_LIMIT_KB = 20 * 1024;

/** Each batch has its own stream, so a failing batch reproduces alone from the seed and its number. */
function batchInputs(batch: number): { udp: FuzzCase[]; tcp: TcpSession[]; tcpMessages: number } {
  const rand = seededRandom((SEED ^ Math.imul(batch + WARM_UP_BATCHES + 1, 0x9e3779b1)) >>> 0);
  const udp = Array.from({ length: UDP_PER_BATCH }, () => udpCase(rand));
  const tcp: TcpSession[] = [];
  let tcpMessages = 0;
  while (tcpMessages < TCP_MESSAGES_PER_BATCH) {
    const s = tcpSession(rand);
    tcp.push(s);
    tcpMessages += framesOf(Buffer.concat(s.chunks.map((c) => c.bytes))).length;
  }
  return { udp, tcp, tcpMessages };
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('no VmRSS in /proc status');
  return Number(m[1]);
}

function report(what: string, failures: readonly FuzzFailure[]): string {
  return `${failures.length} bad ${what} (reproduce with FUZZ_SEED=${SEED}); first: ${JSON.stringify(failures.slice(0, 5), null, 1)}`;
}

describe(`fuzz battery (FUZZ_SEED=${SEED})`, () => {
  let upstream: FakeUpstream;
  let srv: BinaryServer;
  let dir: string;
  let baselineKb = 0;
  let id = 1;

  before(async () => {
    upstream = await startFakeUpstream({
      behaviour: 'answer',
      // Forwarded "big." names come back larger than any UDP reply may be, so relayed replies are fitted too.
      answers: (name, qtype) => (name.toLowerCase().startsWith('big.') && qtype === 1
        ? Array.from({ length: 90 }, (_, i) => `${name} 300 IN A 192.0.2.${i + 1}`)
        : qtype === 1 ? [`${name} 300 IN A 192.0.2.1`] : [`${name} 300 IN TXT "fake upstream"`]),
    });
    dir = mkdtempSync(join(tmpdir(), 'cdns-fuzz-'));
    const file = join(dir, 'fuzz.json');
    writeFileSync(file, JSON.stringify({
      recursors: [`127.0.0.1:${upstream.port}`],
      dns_config: { recursor_timeout: '2s', tcp: { idle_timeout: '2s', message_timeout: '500ms', max_connections: 64 } },
    }));
    const rich = fileURLToPath(new URL('../fixtures/rich/', import.meta.url));
    srv = await startBinary(['--config-dir', rich, '--config-file', file]);
  });
  after(async () => {
    await srv?.stop();
    await upstream?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** In-zone and forwarded names, each over UDP and TCP, answered correctly. */
  async function assertGoodQueries(): Promise<void> {
    const cases = [
      { name: 'alpha.node.consul.', answer: 'alpha.node.consul. 7 IN A 10.0.0.1' },
      { name: 'good.example.com.', answer: 'good.example.com. 300 IN A 192.0.2.1' },
    ];
    for (const c of cases) {
      for (const proto of ['udp', 'tcp'] as const) {
        const q = buildQuery({ name: c.name, type: 'A', id: id++ & 0xffff, edns: { udpSize: 1232 } });
        const reply = await (proto === 'udp' ? sendUdp : sendTcp)(srv.dnsPort, q, { timeoutMs: 5000 });
        assert.equal(checkReply(q, reply, proto), undefined, `${c.name} over ${proto}`);
        const r = parseReply(reply);
        assert.equal(r.rcodeName, 'NOERROR', `${c.name} over ${proto}`);
        assert.deepEqual(r.answer.map((l) => (l.includes('192.0.2.1') ? l.replace(/ \d+ IN /, ' 300 IN ') : l)), [c.answer], `${c.name} over ${proto}`);
      }
    }
  }

  async function runTcp(sessions: readonly TcpSession[]): Promise<{ messages: number; replies: number; failures: FuzzFailure[] }> {
    const failures: FuzzFailure[] = [];
    let messages = 0;
    let replies = 0;
    let next = 0;
    await Promise.all(Array.from({ length: TCP_LANES }, async () => {
      while (next < sessions.length) {
        const s = sessions[next++] as TcpSession;
        // Every session ends with the server closing: a half-close, a zero-length frame or the 500 ms deadline.
        const r = await runTcpSession(srv.dnsPort, s, 10_000);
        messages += r.sent;
        replies += r.replies;
        failures.push(...r.failures);
        if (!r.closed) failures.push({ kind: s.kind, problem: 'the server left the connection open', query: '', reply: '' });
      }
    }));
    return { messages, replies, failures };
  }

  // Batches -3..-1 warm the server up (V8 grows its heap, caches fill); RSS is measured from after them to the end.
  for (let batch = -WARM_UP_BATCHES; batch < BATCHES; batch++) {
    const title = batch < 0 ? `warm-up batch ${batch + WARM_UP_BATCHES + 1}` : `batch ${batch}`;
    it(`${title}: ${UDP_PER_BATCH} UDP datagrams and ${TCP_MESSAGES_PER_BATCH}+ TCP messages, then good queries over UDP and TCP`, async (t) => {
      const inputs = batchInputs(batch);
      const [udp, tcp] = await Promise.all([
        fuzzUdp(srv.dnsPort, inputs.udp, { sockets: 4, window: 32, waitMs: 150 }),
        runTcp(inputs.tcp),
      ]);
      t.diagnostic(`UDP: ${udp.sent} sent, ${udp.replies} replies; TCP: ${inputs.tcp.length} sessions, ${tcp.messages} messages, ${tcp.replies} replies; upstream saw ${upstream.queries.length}`);
      assert.equal(srv.child.exitCode, null, `the server exited: ${srv.stderr()}`);
      assert.equal(udp.sent, UDP_PER_BATCH);
      assert.ok(udp.replies > UDP_PER_BATCH / 4, `only ${udp.replies} UDP replies`);
      assert.ok(tcp.messages >= TCP_MESSAGES_PER_BATCH - 20, `only ${tcp.messages} TCP messages taken`);
      assert.deepEqual(udp.failures, [], report('UDP replies', udp.failures));
      assert.deepEqual(tcp.failures, [], report('TCP replies', tcp.failures));
      const errors = srv.lines.filter((l) => typeof l['level'] === 'number' && l['level'] >= 50);
      assert.deepEqual(errors, [], 'no error logged while fuzzing');
      await assertGoodQueries();
      if (batch === -1) baselineKb = rssKb(srv.child.pid as number);
    });
  }

  it('the process is still up and its RSS grew less than 20 MB after the warm-up batches', (t) => {
    assert.equal(srv.child.exitCode, null);
    assert.ok(baselineKb > 0, 'the warm-up batches ran');
    const grown = rssKb(srv.child.pid as number) - baselineKb;
    t.diagnostic(`RSS ${baselineKb} kB after warm-up, grew ${grown} kB`);
    assert.ok(grown < RSS_GROWTH_LIMIT_KB, `RSS grew ${grown} kB`);
  });
});
