// The TCP limits from dns_config.tcp, end to end: connection cap, idle timeout, in-flight cap, partial-message deadline.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildQuery, connectTcp, frame, parseReply, readFrames, sendTcp, sendUdp } from '../helpers/dns-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';

/**
 * A recursor on one port: over TCP (how a TCP query is forwarded) it holds every query until the test
 * releases it, then answers with one A record; over UDP it answers at once.
 */
interface GatedUpstream {
  readonly port: number;
  /** Question names of the TCP queries, in arrival order. */
  readonly seen: string[];
  releaseAll(): void;
  close(): Promise<void>;
}

function questionName(raw: Buffer): string {
  const labels: string[] = [];
  for (let off = 12; off < raw.length && raw[off] !== 0; off += 1 + (raw[off] as number)) {
    labels.push(raw.toString('latin1', off + 1, off + 1 + (raw[off] as number)));
  }
  return `${labels.join('.')}.`;
}

function answer(msg: Buffer): Buffer {
  const qEnd = 12 + msg.subarray(12).indexOf(0) + 5;
  const head = Buffer.from(msg.subarray(0, qEnd));
  head[2] = 0x80 | ((msg[2] as number) & 0x01);
  head[3] = 0x80;
  head.writeUInt16BE(1, 6);
  head.writeUInt16BE(0, 8);
  head.writeUInt16BE(0, 10);
  return Buffer.concat([head, Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7])]);
}

async function startGatedUpstream(): Promise<GatedUpstream> {
  const seen: string[] = [];
  let held: { msg: Buffer; socket: net.Socket }[] = [];
  const conns = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    conns.add(socket);
    socket.on('close', () => conns.delete(socket));
    socket.on('error', () => socket.destroy());
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        seen.push(questionName(msg));
        held.push({ msg, socket });
      }
    });
  });
  const udp = dgram.createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(answer(msg), rinfo.port, rinfo.address));
  // TCP picks the port; UDP must get the same one, so a taken port means another try.
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await new Promise<number>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve((tcp.address() as net.AddressInfo).port)));
    const bound = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) break;
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (attempt >= 10) throw new Error('gated upstream: no port free for both TCP and UDP');
  }
  return {
    port,
    seen,
    releaseAll() {
      for (const { msg, socket } of held) socket.write(frame(answer(msg)));
      held = [];
    },
    close: async () => {
      for (const c of conns) c.destroy();
      await Promise.all([
        new Promise<void>((resolve) => tcp.close(() => resolve())),
        new Promise<void>((resolve) => udp.close(() => resolve())),
      ]);
    },
  };
}

const good = (id: number): Buffer => buildQuery({ name: 'web.service.consul.', type: 'A', id });
const idOf = (b: Buffer): number => b.readUInt16BE(0);

function assertGood(reply: Buffer, id: number): void {
  const r = parseReply(reply);
  assert.equal(r.id, id);
  assert.equal(r.rcodeName, 'NOERROR');
  assert.deepEqual(r.answer, ['web.service.consul. 0 IN A 127.0.0.1']);
}

/** A closed-or-not answer within a generous deadline, so a limit that never acts fails instead of hanging. */
function closedWithin(s: net.Socket, ms: number): Promise<boolean> {
  if (s.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.once('close', () => { clearTimeout(timer); resolve(true); });
  });
}

async function ask(s: net.Socket, query: Buffer): Promise<Buffer | undefined> {
  const got = readFrames(s, 1, 5000);
  s.write(frame(query));
  return (await got).messages[0];
}

describe('TCP limits from dns_config.tcp', () => {
  let srv: TestServer;
  let upstream: GatedUpstream;
  let dir: string;
  const open: net.Socket[] = [];
  let nextId = 1000;

  before(async () => {
    upstream = await startGatedUpstream();
    dir = mkdtempSync(join(tmpdir(), 'cdns-tcp-limits-'));
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({
      node_name: 'limits',
      recursors: [`127.0.0.1:${upstream.port}`],
      services: [{ name: 'web', port: 80 }],
      dns_config: {
        recursor_timeout: '10s',
        // The partial-message deadline is far below the idle timeout, so each one is seen acting alone.
        tcp: { max_connections: 4, idle_timeout: '1500ms', max_in_flight: 2, message_timeout: '300ms' },
      },
    }));
    srv = await startTestServer({ files: [file] });
  });
  after(async () => {
    for (const s of open) s.destroy();
    await srv.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function connect(): Promise<net.Socket> {
    const s = await connectTcp(srv.port);
    open.push(s);
    return s;
  }

  async function assertServing(): Promise<void> {
    const u = nextId++;
    assertGood(await sendUdp(srv.port, good(u), { timeoutMs: 5000 }), u);
    const t = nextId++;
    assertGood(await sendTcp(srv.port, good(t), { timeoutMs: 5000 }), t);
  }

  it('the config reached the listener', () => {
    assert.deepEqual(srv.config.dns.tcp, { maxConnections: 4, idleTimeout: 1500, maxInFlight: 2, messageTimeout: 300 });
  });

  it('max_connections 4: a fifth connection is closed at once, the four keep working', async () => {
    const four = [await connect(), await connect(), await connect(), await connect()];
    // An answer on each proves the server has accepted and counted it.
    for (const s of four) { const id = nextId++; assertGood((await ask(s, good(id)))!, id); }
    const fifth = await connect();
    const got = readFrames(fifth, 1, 5000);
    fifth.write(frame(good(nextId++)));
    assert.deepEqual(await got, { messages: [], closed: true });
    for (const s of four) { const id = nextId++; assertGood((await ask(s, good(id)))!, id); }
    for (const s of four) s.destroy();
    // Once they are gone, new connections are accepted again.
    const id = nextId++;
    for (let i = 0; i < 50; i++) {
      const reply = await sendTcp(srv.port, good(id), { timeoutMs: 5000 }).catch(() => undefined);
      if (reply) { assertGood(reply, id); break; }
      await sleep(50);
      assert.ok(i < 49, 'no new connection accepted after the four closed');
    }
    await assertServing();
  });

  it('idle_timeout: a silent connection, and one silent after its answer, are closed', async () => {
    const silent = await connect();
    const answered = await connect();
    const id = nextId++;
    assertGood((await ask(answered, good(id)))!, id);
    assert.equal(await closedWithin(silent, 10_000), true, 'silent connection closed');
    assert.equal(await closedWithin(answered, 10_000), true, 'connection idle after its answer closed');
    await assertServing();
  });

  it('message_timeout: a message trickled in over ~1 s (inside the idle timeout) is cut off', async () => {
    const s = await connect();
    const bytes = frame(good(nextId++));
    const got = readFrames(s, 1, 10_000);
    // One byte every 1000/len ms: the message would complete in about 1 s, before the 1.5 s idle timeout.
    const every = Math.floor(1000 / bytes.length);
    for (let i = 0; i < bytes.length && !s.destroyed; i++) {
      s.write(bytes.subarray(i, i + 1));
      await sleep(every);
    }
    assert.deepEqual(await got, { messages: [], closed: true });
    await assertServing();
  });

  it('max_in_flight 2: reading pauses while two forwarded queries are pending, then resumes', async () => {
    const s = await connect();
    const names = ['slow1.example.', 'slow2.example.', 'slow3.example.', 'slow4.example.'];
    const ids = names.map(() => nextId++);
    const got = readFrames(s, 4, 10_000);
    s.write(frame(...names.map((name, i) => buildQuery({ name, type: 'A', id: ids[i] }))));
    await waitUntil('two queries at the upstream', () => upstream.seen.length >= 2, 5000);
    await sleep(300);
    assert.deepEqual(upstream.seen, names.slice(0, 2), 'only two queries of the connection in flight');
    upstream.releaseAll();
    await waitUntil('the other two at the upstream', () => upstream.seen.length >= 4, 5000);
    upstream.releaseAll();
    const { messages } = await got;
    assert.deepEqual(messages.map(idOf).sort(), [...ids].sort());
    for (const m of messages) assert.deepEqual(parseReply(m).answer.map((l) => l.split(' ').at(-1)), ['192.0.2.7']);
    await assertServing();
  });
});
