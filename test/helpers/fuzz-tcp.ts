// Seeded hostile TCP sessions for the fuzz battery: pipelined and trickled frames, zero-length, oversized and cut-off frames.
import { frame } from './dns-client.js';
import { int, udpCase, validQuery, type Rand } from './fuzz-input.js';
import type { TcpSession } from './fuzz-send.js';

const messages = (rand: Rand, lo: number, hi: number): Buffer[] =>
  Array.from({ length: int(rand, lo, hi) }, () => udpCase(rand).bytes).filter((m) => m.length > 0);

/** Cuts `b` into pieces of 1..maxPiece bytes, each after a short pause, at most `maxPieces` of them. */
function trickle(rand: Rand, b: Buffer, maxPiece: number, maxPieces: number): { bytes: Buffer; delayMs: number }[] {
  const out: { bytes: Buffer; delayMs: number }[] = [];
  let off = 0;
  while (off < b.length) {
    const left = maxPieces - out.length;
    const n = left <= 1 ? b.length - off : int(rand, 1, maxPiece);
    out.push({ bytes: b.subarray(off, off + n), delayMs: int(rand, 0, 3) });
    off += n;
  }
  return out;
}

const once = (bytes: Buffer): { bytes: Buffer; delayMs: number }[] => [{ bytes, delayMs: 0 }];

export function tcpSession(rand: Rand): TcpSession {
  const r = rand();
  if (r < 0.5) return { kind: 'pipelined', chunks: once(frame(...messages(rand, 1, 20))), end: true };
  if (r < 0.65) return { kind: 'trickled', chunks: trickle(rand, frame(...messages(rand, 1, 5)), 40, 60), end: true };
  if (r < 0.73) {
    // The server closes at the zero-length frame; what follows it is never read.
    const stream = Buffer.concat([frame(...messages(rand, 0, 5)), Buffer.from([0, 0]), frame(...messages(rand, 1, 3))]);
    return { kind: 'zero-length frame', chunks: once(stream), end: rand() < 0.5 };
  }
  if (r < 0.8) {
    const big = Buffer.concat([udpCase(rand).bytes, Buffer.alloc(int(rand, 5000, 65000), int(rand, 0, 255))]).subarray(0, 65535);
    return { kind: 'oversized frame', chunks: once(frame(...messages(rand, 0, 3), big, ...messages(rand, 0, 3))), end: true };
  }
  if (r < 0.85) {
    // A length prefix that lies: too short, so the rest of the message is read as the next frames.
    const msgs = messages(rand, 1, 5);
    const stream = frame(...msgs);
    stream.writeUInt16BE(Math.max(1, stream.readUInt16BE(0) - int(rand, 1, 20)), 0);
    return { kind: 'short length prefix', chunks: once(stream), end: true };
  }
  if (r < 0.9) {
    // Complete messages, then one that never finishes: only the partial-message deadline ends it.
    const partial = frame(validQuery(rand));
    const cut = rand() < 0.5
      ? partial.subarray(0, int(rand, 1, partial.length - 1))
      : Buffer.concat([Buffer.from([0xff, 0xff]), partial.subarray(2, int(rand, 2, partial.length))]);
    return { kind: 'incomplete message', chunks: [...once(frame(...messages(rand, 0, 4))), { bytes: cut, delayMs: 0 }], end: false };
  }
  const random = Buffer.from(Array.from({ length: int(rand, 0, 300) }, () => int(rand, 0, 255)));
  return { kind: 'random stream', chunks: once(random), end: true };
}
