// Makes Node's c-ares resolver use TCP: every UDP query gets an empty TC=1 reply, and TCP is piped to the server.
import dgram from 'node:dgram';
import net from 'node:net';

export interface TcShim {
  readonly port: number;
  close(): Promise<void>;
}

/** Offset just past the question of a query, or -1. */
function questionEnd(msg: Buffer): number {
  let off = 12;
  while (off < msg.length) {
    const len = msg[off] ?? 0;
    if (len === 0) return off + 5 <= msg.length ? off + 5 : -1;
    if (len >= 0xc0) return -1;
    off += len + 1;
  }
  return -1;
}

export async function startTcShim(targetPort: number, address = '127.0.0.1'): Promise<TcShim> {
  const sockets = new Set<net.Socket>();
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, address, () => resolve());
    });
    const port = udp.address().port;
    const tcp = net.createServer((client) => {
      const upstream = net.connect(targetPort, address);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const done = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', done).on('close', done);
      upstream.on('error', done).on('close', done);
    });
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, address, () => resolve(true));
    });
    if (!ok) {
      udp.close();
      continue;
    }
    udp.on('message', (msg, rinfo) => {
      const end = questionEnd(msg);
      if (msg.length < 12 || end < 0) return;
      const reply = Buffer.from(msg.subarray(0, end));
      reply[2] = ((reply[2] ?? 0) | 0x80 | 0x02) & ~0x04; // QR, TC; keep opcode and RD
      reply[3] = 0;
      reply.writeUInt16BE(1, 4);
      reply.writeUInt16BE(0, 6);
      reply.writeUInt16BE(0, 8);
      reply.writeUInt16BE(0, 10);
      udp.send(reply, rinfo.port, rinfo.address);
    });
    return {
      port,
      close: async () => {
        for (const s of sockets) s.destroy();
        await Promise.all([
          new Promise<void>((r) => udp.close(() => r())),
          new Promise<void>((r) => tcp.close(() => r())),
        ]);
      },
    };
  }
  throw new Error('could not bind a TC shim');
}
