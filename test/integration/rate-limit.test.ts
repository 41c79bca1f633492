// Response rate limiting end to end: a limited client gets TC or nothing in the slip pattern, others and TCP are served.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { dig, hasDig, parseDig } from '../helpers/dig.js';
import { buildQuery, parseReply, sendTcp, type ParsedReply } from '../helpers/dns-client.js';
import { sample } from '../helpers/prom-sample.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const LIMITED = '127.0.0.1';
const OTHER = '::1';
const RATE = 5;
const BURST = 5;

interface Burst {
  /** Replies by query index, with when each arrived (ms since the first send). */
  readonly replies: Map<number, { reply: ParsedReply; bytes: number; at: number }>;
  readonly querySize: number;
}

/**
 * Sends `count` queries from one UDP socket at `address`, every `gapMs` (0 = back to back), and collects replies
 * until all came or `quietMs` passed after the last send.
 */
async function burst(port: number, address: string, count: number, gapMs = 0, quietMs = 1500): Promise<Burst> {
  const socket = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const replies: Burst['replies'] = new Map();
  const start = performance.now();
  let querySize = 0;
  socket.on('message', (msg) => {
    const r = parseReply(msg);
    replies.set(r.id - 1000, { reply: r, bytes: msg.length, at: performance.now() - start });
  });
  try {
    for (let i = 0; i < count; i++) {
      const q = buildQuery({ name: 'web.service.consul.', type: 'A', id: 1000 + i, edns: { udpSize: 1232 } });
      querySize = q.length;
      socket.send(q, port, address);
      if (gapMs > 0) await sleep(gapMs);
    }
    const deadline = performance.now() + quietMs;
    while (replies.size < count && performance.now() < deadline) await sleep(20);
  } finally {
    socket.close();
  }
  return { replies, querySize };
}

const isFull = (r: ParsedReply): boolean => !r.flags.tc && r.answer.length === 1;

describe('rate_limit: 5/s, burst 5, slip 2, per /24 and /56', () => {
  let srv: TestServer;
  let file: string;
  let digOk = false;
  const tmp = mkdtempSync(join(tmpdir(), 'cdns-rrl-'));
  const write = (rateLimit: Record<string, number>): void => writeFileSync(file, JSON.stringify({
    addresses: { dns: '127.0.0.1 ::1' },
    dns_config: { rate_limit: rateLimit },
    node_name: 'rrl-node',
    services: [{ name: 'web', port: 8080, address: '10.0.0.5' }],
  }));

  before(async () => {
    file = join(tmp, 'agent.json');
    write({ responses_per_second: RATE, burst: BURST, slip: 2, ipv4_prefix_length: 24, ipv6_prefix_length: 56 });
    srv = await startTestServer({ files: [file] });
    digOk = await hasDig();
  });
  after(async () => {
    await srv.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const metric = async (action: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${srv.httpPort}/metrics`)).text();
    return sample(text, 'connect_dns_guard_actions_total', { action, transport: 'udp' }) ?? 0;
  };

  it('a UDP burst from 127.0.0.1 gets at most burst + rate × elapsed answers, the rest TC or nothing; ::1 is served fully meanwhile', async () => {
    const N = 60;
    const dropsBefore = await metric('rate-limit-drop');
    const slipsBefore = await metric('rate-limit-slip');
    const [limited, other] = await Promise.all([burst(srv.port, LIMITED, N), burst(srv.port, OTHER, BURST, 30)]);

    const all = [...limited.replies.values()];
    const full = all.filter((r) => isFull(r.reply));
    const tc = all.filter((r) => r.reply.flags.tc);
    const lastFull = Math.max(...full.map((r) => r.at));
    assert.ok(full.length >= BURST, `the burst is served: ${full.length} full answers`);
    assert.ok(full.length <= BURST + RATE * (lastFull / 1000) + 1e-9,
      `${full.length} full answers within ${lastFull.toFixed(0)} ms exceed burst + rate × elapsed`);
    assert.equal(full.length + tc.length, all.length, 'every reply is a full answer or a TC');
    // slip 2: of the limited responses, every second one is a TC reply and the others are dropped.
    const limitedCount = N - full.length;
    assert.equal(tc.length, Math.floor(limitedCount / 2), `${tc.length} TC of ${limitedCount} limited`);
    assert.equal(N - all.length, limitedCount - tc.length, 'the rest got nothing');
    for (const r of tc) {
      assert.equal(r.reply.rcodeName, 'NOERROR');
      assert.deepEqual([r.reply.answer, r.reply.authority, r.reply.additional], [[], [], []], 'a slip carries no records');
      assert.equal(r.reply.question?.name, 'web.service.consul.');
      assert.ok(r.bytes <= limited.querySize, 'a slip is no bigger than the query');
    }

    assert.equal(other.replies.size, BURST, '::1 got every reply');
    assert.ok([...other.replies.values()].every((r) => isFull(r.reply)), '::1 got full answers');

    assert.equal(await metric('rate-limit-drop') - dropsBefore, limitedCount - tc.length, 'drops are counted');
    assert.equal(await metric('rate-limit-slip') - slipsBefore, tc.length, 'slips are counted');
  });

  it('TCP from the limited client is served in full', async (t) => {
    await burst(srv.port, LIMITED, 20, 0, 300);
    for (let i = 0; i < 10; i++) {
      const r = parseReply(await sendTcp(srv.port, buildQuery({ name: 'web.service.consul.', id: i }), { address: LIMITED }));
      assert.ok(isFull(r), `TCP query ${i}`);
    }
    if (!digOk) return t.skip('dig is not installed');
    const r = await dig(srv.port, 'web.service.consul', 'A', { tcp: true, server: LIMITED });
    assert.deepEqual(r.answer, ['web.service.consul. 0 IN A 10.0.0.5']);
  });

  it('after a reload to slip 1, dig from a limited client gets TC, retries over TCP and gets its answer', async (t) => {
    if (!digOk) return t.skip('dig is not installed');
    write({ responses_per_second: 1, burst: 1, slip: 1, ipv4_prefix_length: 24, ipv6_prefix_length: 56 });
    assert.equal(await srv.server.reload(), true);
    const slipped = await burst(srv.port, LIMITED, 5, 0, 500);
    assert.ok([...slipped.replies.values()].filter((r) => r.reply.flags.tc).length >= 3, 'slip 1: every limited reply is TC');
    // A flood from the same client keeps its bucket empty while dig runs, so dig's own UDP query is limited too.
    let flooding = true;
    const flood = (async () => {
      for (let i = 0; flooding && i < 50; i++) await burst(srv.port, LIMITED, 20, 2, 0);
    })();
    try {
      let viaTcp: ReturnType<typeof parseDig> | undefined;
      for (let attempt = 0; attempt < 3 && viaTcp === undefined; attempt++) {
        // No +ignore: dig itself must follow the TC bit to TCP.
        const { stdout } = await run('dig', [`@${LIMITED}`, '-p', String(srv.port), 'web.service.consul', 'A', '+notcp', '+time=3', '+tries=1',
          '+nocookie'], { timeout: 10_000, env: { ...process.env, HOME: '/nonexistent' } });
        const r = parseDig(stdout);
        assert.deepEqual(r.answer, ['web.service.consul. 0 IN A 10.0.0.5'], 'dig got its answer');
        if (r.transport === 'TCP') viaTcp = r;
      }
      assert.ok(viaTcp, 'dig retried over TCP after a TC reply');
      assert.match(viaTcp.text, /Truncated, retrying in TCP mode/);
    } finally {
      flooding = false;
      await flood;
    }
  });
});
