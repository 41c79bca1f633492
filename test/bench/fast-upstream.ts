// A fake recursor for the forwarding scenarios that answers at once: every A query gets 192.0.2.1 with TTL 300.
//
//   node --import tsx test/bench/fast-upstream.ts <port>
//
// UDP and TCP on one loopback port. The reply echoes the header and question and carries one answer
// (AAAA 2001:db8::1 for AAAA, NODATA for other types), RA set, no OPT: enough for a forwarder and a cache.
import dgram from 'node:dgram';
import net from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: fast-upstream.ts <port>');

const A_TAIL = Buffer.from('c00c00010001' + '0000012c' + '0004' + 'c0000201', 'hex');
const AAAA_TAIL = Buffer.from('c00c001c0001' + '0000012c' + '0010' + '20010db8000000000000000000000001', 'hex');

function buildUpstreamReply(msg: Buffer): Buffer | undefined {
  if (msg.length < 17 || ((msg[2] ?? 0) & 0x80) !== 0) return undefined;
  let pos = 12;
  for (let len = msg[pos]; len !== undefined && len !== 0; len = msg[pos]) {
    if (len > 63) return undefined;
    pos += 1 + len;
  }
  const end = pos + 5;
  if (end > msg.length) return undefined;
  const qtype = msg.readUInt16BE(pos + 1);
  const tail = qtype === 1 ? A_TAIL : qtype === 28 ? AAAA_TAIL : undefined;
  const out = Buffer.allocUnsafe(end + (tail?.length ?? 0));
  msg.copy(out, 0, 0, end);
  if (tail) tail.copy(out, end);
  out[2] = 0x80 | ((msg[2] ?? 0) & 0x01);
  out[3] = 0x80;
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(tail ? 1 : 0, 6);
  out.writeUInt32BE(0, 8);
  return out;
}

const udp = dgram.createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  const out = buildUpstreamReply(msg);
  if (out) udp.send(out, rinfo.port, rinfo.address);
});
udp.bind(port, '127.0.0.1');

const tcp = net.createServer((socket) => {
  socket.on('error', () => socket.destroy());
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const len = pending.readUInt16BE(0);
      const out = buildUpstreamReply(pending.subarray(2, 2 + len));
      pending = pending.subarray(2 + len);
      if (!out) continue;
      const framed = Buffer.allocUnsafe(2 + out.length);
      framed.writeUInt16BE(out.length, 0);
      out.copy(framed, 2);
      socket.write(framed);
    }
  });
});
tcp.listen(port, '127.0.0.1', () => process.stdout.write(`fast upstream on 127.0.0.1:${port}\n`));
