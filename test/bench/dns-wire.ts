// Raw DNS bytes for the bench: queries exactly as dnsperf sends them, reply headers, one-shot UDP/TCP asks.
import dgram from 'node:dgram';
import net from 'node:net';

export const QTYPES = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33 } as const;
export type QtypeName = keyof typeof QTYPES;

export const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'] as const;

export function encodeName(name: string): Buffer {
  const labels = name.split('.').filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** A query as dnsperf 2.x builds it from a "name TYPE" line: RD=1, class IN, no EDNS (we never pass -e). */
export function buildQuery(name: string, qtype: QtypeName, id = 0): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header[2] = 0x01;
  header.writeUInt16BE(1, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(QTYPES[qtype], 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, encodeName(name), tail]);
}

/** Offset just past the question of a one-question message, or -1 when it does not parse. */
export function questionEnd(msg: Buffer): number {
  let pos = 12;
  for (;;) {
    const len = msg[pos];
    if (len === undefined || len > 63) return -1;
    pos += 1 + len;
    if (len === 0) break;
  }
  return pos + 4 <= msg.length ? pos + 4 : -1;
}

export interface ReplyHeader {
  readonly id: number;
  readonly rcode: number;
  readonly tc: boolean;
  readonly ancount: number;
}

export function parseReplyHeader(msg: Buffer): ReplyHeader | undefined {
  if (msg.length < 12 || (msg[2] ?? 0) < 0x80) return undefined;
  return { id: msg.readUInt16BE(0), rcode: (msg[3] ?? 0) & 0x0f, tc: ((msg[2] ?? 0) & 0x02) !== 0, ancount: msg.readUInt16BE(6) };
}

/** A reusable UDP client: one socket, so polling every millisecond does not churn ports. */
export interface UdpAsker {
  ask(query: Buffer, timeoutMs: number): Promise<Buffer | undefined>;
  close(): void;
}

export async function createUdpAsker(port: number): Promise<UdpAsker> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  let waiting: { id: number; done: (b: Buffer | undefined) => void } | undefined;
  let nextId = 1;
  socket.on('message', (msg) => {
    if (waiting && msg.length >= 2 && msg.readUInt16BE(0) === waiting.id) waiting.done(msg);
  });
  return {
    ask(query, timeoutMs) {
      const id = nextId = (nextId % 65535) + 1;
      const q = Buffer.from(query);
      q.writeUInt16BE(id, 0);
      return new Promise((resolve) => {
        const timer = setTimeout(() => finish(undefined), timeoutMs);
        const finish = (b: Buffer | undefined): void => {
          clearTimeout(timer);
          waiting = undefined;
          resolve(b);
        };
        waiting = { id, done: finish };
        socket.send(q, port, '127.0.0.1');
      });
    },
    close: () => socket.close(),
  };
}

/** One query over a fresh TCP connection; resolves with the reply message (no length prefix). */
export function askTcp(port: number, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const finish = (b: Buffer | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(b);
    };
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    socket.on('error', () => finish(undefined));
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      socket.write(Buffer.concat([len, query]));
    });
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) finish(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  });
}
