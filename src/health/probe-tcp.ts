// One run of a TCP check: a connection accepted within the timeout is passing, anything else critical.
import net from 'node:net';
import { boundedProbe, splitHostPort, type ProbeResult } from './probe-result.js';

/** Never rejects: every failure is a critical result with the reason as output. */
export function runTcpProbe(address: string, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const prefix = `TCP connect ${address}`;
  const target = splitHostPort(address);
  if (!target) return Promise.resolve({ status: 'critical', output: `${prefix}: not a host:port address` });
  return boundedProbe(prefix, timeoutMs, signal, (finish) => {
    const socket = net.connect({ host: target.host, port: target.port });
    socket.once('connect', () => finish({ status: 'passing', output: `${prefix}: Success` }));
    socket.once('error', (err) => finish({ status: 'critical', output: `${prefix}: ${err.message}` }));
    return () => socket.destroy();
  });
}
