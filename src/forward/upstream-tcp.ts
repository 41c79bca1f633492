// One TCP exchange with one upstream: a new connection, 2-byte length framing, destroyed when settled.
import net from 'node:net';
import { type ExchangeOptions, type ExchangeResult, settleOnce } from './exchange.js';

export function exchangeTcp<T>(opts: ExchangeOptions<T>): Promise<ExchangeResult<T>> {
  const { upstream } = opts;
  return settleOnce(opts, (finish) => {
    const framed = Buffer.alloc(2 + opts.message.length);
    framed.writeUInt16BE(opts.message.length, 0);
    opts.message.copy(framed, 2);
    const socket = net.connect({ host: upstream.address, port: upstream.port });
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('connect', () => socket.write(framed));
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // A connection may carry replies we ignore (wrong ID) before the one we want.
      while (pending.length >= 2) {
        const size = pending.readUInt16BE(0);
        if (pending.length < 2 + size) return;
        const reply = pending.subarray(2, 2 + size);
        pending = pending.subarray(2 + size);
        const value = opts.accept(reply);
        if (value !== undefined) { finish({ ok: true, value }); return; }
      }
    });
    socket.on('error', (error) => finish({ ok: false, reason: 'error', error }));
    socket.on('close', () => finish({ ok: false, reason: 'error', error: new Error('upstream closed the connection') }));
    return () => {
      socket.removeAllListeners('data');
      socket.destroy();
    };
  });
}
