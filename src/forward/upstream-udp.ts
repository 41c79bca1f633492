// One UDP exchange with one upstream: a fresh socket on a random port, connect()ed so only it can answer.
import dgram from 'node:dgram';
import net from 'node:net';
import { canonicalIp } from '../net/addr.js';
import { type ExchangeOptions, type ExchangeResult, settleOnce } from './exchange.js';

export function exchangeUdp<T>(opts: ExchangeOptions<T>): Promise<ExchangeResult<T>> {
  const { upstream } = opts;
  const expected = canonicalIp(upstream.address);
  return settleOnce(opts, (finish) => {
    const socket = dgram.createSocket(net.isIPv6(upstream.address) ? 'udp6' : 'udp4');
    let closed = false;
    // Errors after we stopped listening (e.g. a late ICMP) must not become uncaught exceptions.
    socket.on('error', (error) => finish({ ok: false, reason: 'error', error }));
    socket.on('message', (reply, rinfo) => {
      // The connected socket already filters by source; this is the belt to its braces.
      if (rinfo.port !== upstream.port || canonicalIp(rinfo.address) !== expected) return;
      const value = opts.accept(reply);
      if (value !== undefined) finish({ ok: true, value });
    });
    socket.bind(0, () => {
      if (closed) return;
      socket.connect(upstream.port, upstream.address, () => {
        if (closed) return;
        socket.send(opts.message, (error) => {
          if (error) finish({ ok: false, reason: 'error', error });
        });
      });
    });
    return () => {
      closed = true;
      socket.removeAllListeners('message');
      try {
        socket.close();
      } catch {
        // already closed by a failed bind/connect: nothing left to release
      }
    };
  });
}
