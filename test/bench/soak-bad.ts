// The soak's bad traffic: malformed and unsupported datagrams at a small fixed rate, and bad TCP frames once a second.
import dgram from 'node:dgram';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildHeader } from '../helpers/dns-client.js';
import { seededRandom } from '../helpers/reference-catalog.js';
import { buildQuery, encodeName, RCODE_NAMES } from './dns-wire.js';

const header = buildHeader;
const question = (name: string, type: number, klass: number): Buffer => {
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(klass, 2);
  return Buffer.concat([encodeName(name), tail]);
};
const RD = 0x0100;

/** Each kind of bad datagram, built fresh from `r` so the random ones differ every time. */
export const BAD_KINDS: readonly { readonly name: string; build(r: () => number): Buffer }[] = [
  { name: 'empty', build: () => Buffer.alloc(0) },
  { name: 'short header', build: () => Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00]) },
  { name: 'qdcount 1, no question', build: () => header(1, RD, 1) },
  { name: 'label length 0x41', build: () => Buffer.concat([header(2, RD, 1), Buffer.from([0x41, 0x61, 0x00, 0x00, 0x01, 0x00, 0x01])]) },
  { name: 'compression loop', build: () => Buffer.concat([header(3, RD, 1), Buffer.from([0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01])]) },
  { name: 'forward pointer', build: () => Buffer.concat([header(4, RD, 1), Buffer.from([0xc0, 0x40, 0x00, 0x01, 0x00, 0x01])]) },
  { name: 'truncated question', build: () => Buffer.concat([header(5, RD, 1), encodeName('redis.connect.consul'), Buffer.from([0x00])]) },
  { name: 'QR set', build: () => { const q = buildQuery('redis.connect.consul', 'A', 6); q[2] = (q[2] ?? 0) | 0x80; return q; } },
  { name: 'opcode STATUS', build: () => Buffer.concat([header(7, (2 << 11) | RD, 1), question('redis.connect.consul', 1, 1)]) },
  { name: 'opcode UPDATE', build: () => Buffer.concat([header(8, (5 << 11), 1), question('consul', 6, 1)]) },
  { name: 'opcode 15', build: () => Buffer.concat([header(9, (15 << 11) | RD, 1), question('redis.connect.consul', 1, 1)]) },
  { name: 'qdcount 2', build: () => Buffer.concat([header(10, RD, 2), question('redis.connect.consul', 1, 1), question('www1.example.com', 1, 1)]) },
  { name: 'huge counts', build: () => Buffer.concat([header(11, RD, 1, 0xffff, 0xffff, 0xffff), question('redis.connect.consul', 1, 1)]) },
  { name: 'class CHAOS', build: () => Buffer.concat([header(12, RD, 1), question('version.bind', 16, 3)]) },
  { name: 'unknown type 65280', build: () => Buffer.concat([header(13, RD, 1), question('redis.connect.consul', 65280, 1)]) },
  { name: 'bad OPT rdlength', build: () => Buffer.concat([header(14, RD, 1, 0, 0, 1), question('redis.connect.consul', 1, 1),
    Buffer.from([0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40])]) },
  { name: 'two OPTs', build: () => { const opt = Buffer.from([0x00, 0x00, 0x29, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    return Buffer.concat([header(15, RD, 1, 0, 0, 2), question('redis.connect.consul', 1, 1), opt, opt]); } },
  { name: 'oversized garbage', build: (r) => Buffer.from(Array.from({ length: 3000 }, () => Math.floor(r() * 256))) },
  { name: 'random bytes', build: (r) => Buffer.from(Array.from({ length: 12 + Math.floor(r() * 60) }, () => Math.floor(r() * 256))) },
  { name: 'mutated query', build: (r) => {
    const q = buildQuery('svc100.service.consul', 'SRV', 16);
    for (let i = 0; i < 3; i++) q[Math.floor(r() * q.length)] = Math.floor(r() * 256);
    return q;
  } },
];

export interface BadCounts {
  sent: number;
  replies: number;
  tcpConnections: number;
  /** Reply rcodes seen, by name. */
  readonly rcodes: Record<string, number>;
}

export interface BadSender {
  readonly counts: BadCounts;
  stop(): Promise<void>;
}

/**
 * Sends `perSecond` bad datagrams a second from its own socket, round-robin over BAD_KINDS, and once a second a TCP
 * connection with a bad frame (zero length, then a short one cut off). Bounded by `maxSeconds`.
 */
export async function startBadSender(port: number, perSecond: number, maxSeconds: number, seed: number): Promise<BadSender> {
  const r = seededRandom(seed);
  const counts: BadCounts = { sent: 0, replies: 0, tcpConnections: 0, rcodes: {} };
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  socket.on('message', (msg) => {
    counts.replies++;
    const name = msg.length >= 4 ? RCODE_NAMES[(msg[3] ?? 0) & 0x0f] ?? `rcode${(msg[3] ?? 0) & 0x0f}` : 'short';
    counts.rcodes[name] = (counts.rcodes[name] ?? 0) + 1;
  });
  socket.on('error', () => { /* a send refused while the server restarts is not the soak's concern */ });
  let running = true;
  const started = performance.now();
  const everyMs = 1000 / perSecond;
  const udpLoop = (async () => {
    for (let i = 0; running && performance.now() - started < maxSeconds * 1000; i++) {
      const kind = BAD_KINDS[i % BAD_KINDS.length] as (typeof BAD_KINDS)[number];
      socket.send(kind.build(r), port, '127.0.0.1');
      counts.sent++;
      await sleep(Math.max(0, started + (i + 1) * everyMs - performance.now()));
    }
  })();
  const tcpLoop = (async () => {
    for (let i = 0; running && performance.now() - started < maxSeconds * 1000; i++) {
      await badTcpFrame(port, i % 2 === 0 ? Buffer.from([0x00, 0x00]) : Buffer.from([0x00, 0x40, 0x12, 0x34, 0x01]));
      counts.tcpConnections++;
      await sleep(1000);
    }
  })();
  return {
    counts,
    async stop() {
      running = false;
      await Promise.all([udpLoop, tcpLoop]);
      socket.close();
    },
  };
}

/** Connects, writes `frame`, and closes after the server closes or 500 ms, whichever comes first. */
function badTcpFrame(port: number, frame: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, 500);
    s.on('error', done);
    s.on('close', done);
    s.on('connect', () => s.write(frame));
  });
}
