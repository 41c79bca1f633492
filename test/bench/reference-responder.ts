// The Node ceiling: answers UDP and TCP from precomputed reply bytes, patching only the ID; run as its own process.
//
//   node --import tsx test/bench/reference-responder.ts <table.json> <port>
//
// table.json: { udp: [[queryHex, replyHex]…], tcp: […], fallbackTail?: hex } where queryHex is the query
// without its 12-byte header (as dnsperf sends it). A query not in the table gets its own header and question
// back with `fallbackTail` as the one answer (unique forwarded names), or is dropped when there is none.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

interface Table { udp: [string, string][]; tcp: [string, string][]; fallbackTail?: string }

const [tablePath, portText] = process.argv.slice(2);
if (!tablePath || !portText) throw new Error('usage: reference-responder.ts <table.json> <port>');
const table = JSON.parse(readFileSync(tablePath, 'utf8')) as Table;
const toMap = (rows: [string, string][]): Map<string, Buffer> =>
  new Map(rows.map(([q, r]) => [Buffer.from(q, 'hex').toString('latin1'), Buffer.from(r, 'hex')]));
const udpReplies = toMap(table.udp);
const tcpReplies = toMap(table.tcp);
const tail = table.fallbackTail ? Buffer.from(table.fallbackTail, 'hex') : undefined;

function fallback(msg: Buffer): Buffer | undefined {
  if (!tail) return undefined;
  let pos = 12;
  for (let len = msg[pos]; len !== undefined && len !== 0; len = msg[pos]) pos += 1 + len;
  const end = pos + 5;
  if (end > msg.length) return undefined;
  const out = Buffer.allocUnsafe(end + tail.length);
  msg.copy(out, 0, 0, end);
  tail.copy(out, end);
  out[2] = 0x81;
  out[3] = 0x80;
  out.writeUInt32BE(0x00010001, 4);
  out.writeUInt32BE(0, 8);
  return out;
}

/** A copy of the precomputed reply with the query's ID; the copy is what the send owns. */
function answer(msg: Buffer, replies: Map<string, Buffer>): Buffer | undefined {
  if (msg.length < 17) return undefined;
  const pre = replies.get(msg.toString('latin1', 12));
  if (!pre) return fallback(msg);
  const out = Buffer.allocUnsafe(pre.length);
  pre.copy(out);
  out[0] = msg[0] as number;
  out[1] = msg[1] as number;
  return out;
}

const port = Number(portText);
const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  const out = answer(msg, udpReplies);
  if (out) udp.send(out, rinfo.port, rinfo.address);
});
udp.bind(port, '127.0.0.1');

const tcp = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let off = 0;
    socket.cork();
    while (pending.length - off >= 2 && pending.length - off >= 2 + pending.readUInt16BE(off)) {
      const len = pending.readUInt16BE(off);
      const out = answer(pending.subarray(off + 2, off + 2 + len), tcpReplies);
      off += 2 + len;
      if (!out) continue;
      const framed = Buffer.allocUnsafe(2 + out.length);
      framed.writeUInt16BE(out.length, 0);
      out.copy(framed, 2);
      socket.write(framed);
    }
    socket.uncork();
    pending = pending.subarray(off);
  });
});
tcp.listen(port, '127.0.0.1', () => process.stdout.write(`reference responder on 127.0.0.1:${port}\n`));
