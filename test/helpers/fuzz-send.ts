// Delivery for the fuzz battery: UDP datagrams from a few sockets with bounded concurrency, and scripted TCP sessions,
// every reply checked against the query it answers (wire-check.ts).
import dgram from 'node:dgram';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FuzzCase } from './fuzz-input.js';
import { checkReply } from './wire-check.js';

export interface FuzzFailure {
  readonly kind: string;
  readonly problem: string;
  readonly query: string;
  readonly reply: string;
}

export interface BatchResult {
  readonly sent: number;
  readonly replies: number;
  readonly failures: FuzzFailure[];
}

const hex = (b: Buffer): string => (b.length > 200 ? `${b.subarray(0, 200).toString('hex')}…(${b.length} bytes)` : b.toString('hex'));

/**
 * Sends every case over UDP from `sockets` sockets, at most `window` unanswered per socket. Each socket
 * stamps its own sequence number as the ID (so replies are matched exactly); a query with no reply frees
 * its slot after `waitMs`, and its reply is still checked if it comes later.
 */
export async function fuzzUdp(port: number, cases: readonly FuzzCase[], opts: { sockets: number; window: number; waitMs: number }): Promise<BatchResult> {
  const failures: FuzzFailure[] = [];
  let replies = 0;
  const lanes = Array.from({ length: opts.sockets }, (_, i) => cases.filter((_, j) => j % opts.sockets === i));
  await Promise.all(lanes.map(async (lane) => {
    const socket = dgram.createSocket('udp4');
    const sent = new Map<number, { c: FuzzCase; bytes: Buffer; answered: boolean; free?: () => void }>();
    socket.on('message', (reply) => {
      replies++;
      const entry = reply.length >= 2 ? sent.get(reply.readUInt16BE(0)) : undefined;
      if (!entry) {
        failures.push({ kind: '?', problem: 'a reply with an ID we never sent', query: '', reply: hex(reply) });
        return;
      }
      if (entry.answered) failures.push({ kind: entry.c.kind, problem: 'a second reply', query: hex(entry.bytes), reply: hex(reply) });
      entry.answered = true;
      const problem = checkReply(entry.bytes, reply, 'udp');
      if (problem) failures.push({ kind: entry.c.kind, problem, query: hex(entry.bytes), reply: hex(reply) });
      entry.free?.();
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    let inFlight = 0;
    let wake: (() => void) | undefined;
    for (let seq = 0; seq < lane.length; seq++) {
      const c = lane[seq] as FuzzCase;
      while (inFlight >= opts.window) await new Promise<void>((r) => { wake = r; });
      const bytes = Buffer.from(c.bytes);
      if (bytes.length >= 2) bytes.writeUInt16BE(seq, 0);
      const entry: { c: FuzzCase; bytes: Buffer; answered: boolean; free?: () => void } = { c, bytes, answered: false };
      sent.set(seq, entry);
      inFlight++;
      let freed = false;
      const timer = setTimeout(() => entry.free?.(), opts.waitMs);
      entry.free = () => {
        if (freed) return;
        freed = true;
        clearTimeout(timer);
        inFlight--;
        const w = wake;
        wake = undefined;
        w?.();
      };
      socket.send(bytes, port, '127.0.0.1');
    }
    while (inFlight > 0) await new Promise<void>((r) => { wake = r; });
    // Late replies to queries whose slot timed out are still checked.
    await sleep(opts.waitMs);
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }));
  return { sent: cases.length, replies, failures };
}

/** One TCP connection's script: chunks written in order (after their delay), then optionally a half-close. */
export interface TcpSession {
  readonly kind: string;
  readonly chunks: readonly { readonly bytes: Buffer; readonly delayMs: number }[];
  /** Half-close after the last chunk, so the server answers what is complete and ends the connection. */
  readonly end: boolean;
}

/** The messages the server will take from a byte stream: 2-byte framing, up to a zero length or an incomplete frame. */
export function framesOf(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off + 2 <= stream.length; ) {
    const len = stream.readUInt16BE(off);
    if (len === 0 || off + 2 + len > stream.length) break;
    out.push(stream.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return out;
}

/**
 * Runs one session and waits (at most `closeWithinMs`) for the server to close the connection, which it
 * must: after a half-close, a zero-length frame, or a message left incomplete. A reply must answer one of
 * the messages sent with its ID.
 */
export async function runTcpSession(port: number, s: TcpSession, closeWithinMs: number): Promise<BatchResult & { closed: boolean }> {
  const failures: FuzzFailure[] = [];
  const stream = Buffer.concat(s.chunks.map((c) => c.bytes));
  const messages = framesOf(stream);
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  let buf = Buffer.alloc(0);
  let replies = 0;
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const reply = buf.subarray(2, 2 + buf.readUInt16BE(0));
      buf = buf.subarray(2 + reply.length);
      replies++;
      const candidates = messages.filter((m) => m.length >= 2 && reply.length >= 2 && m.readUInt16BE(0) === reply.readUInt16BE(0));
      const problems = candidates.map((m) => checkReply(m, reply, 'tcp'));
      if (!problems.includes(undefined)) {
        failures.push({ kind: s.kind, problem: problems[0] ?? 'a reply with an ID we never sent', query: hex(candidates[0] ?? stream), reply: hex(reply) });
      }
    }
  });
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), closeWithinMs);
    socket.on('close', () => { clearTimeout(timer); resolve(true); });
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()).once('close', () => resolve()));
  for (const c of s.chunks) {
    if (socket.destroyed) break;
    if (c.delayMs > 0) await sleep(c.delayMs);
    socket.write(c.bytes);
  }
  if (s.end && !socket.destroyed) socket.end();
  const didClose = await closed;
  socket.destroy();
  if (buf.length > 0) failures.push({ kind: s.kind, problem: `${buf.length} bytes of an incomplete reply frame`, query: hex(stream), reply: hex(buf) });
  if (replies > messages.length) failures.push({ kind: s.kind, problem: `${replies} replies to ${messages.length} messages`, query: hex(stream), reply: '' });
  return { sent: messages.length, replies, failures, closed: didClose };
}
