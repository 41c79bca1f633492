// A TCP listener standing in for a proxy process, and a bounded wait for a check to reach a status.
import net from 'node:net';
import type { Registry } from '../../src/catalog/registry.js';
import type { HealthStatus } from '../../src/catalog/types.js';

export async function listenTcp(port: number, address = '127.0.0.1'): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen on ${address}:${port} for the test: ${err.message}`)));
    server.listen(port, address, () => resolve());
  });
  return {
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Resolves once the check has `status`; rejects after `timeoutMs`. */
export async function waitForCheck(registry: Registry, node: string, id: string, status: HealthStatus, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = registry.current().checks().find((x) => x.node === node && x.id === id);
    if (c?.status === status) return;
    if (Date.now() > deadline) throw new Error(`check ${id} on ${node} is ${c?.status ?? 'missing'}, not ${status}, after ${timeoutMs} ms`);
    await registry.waitForChange(registry.index, Math.max(10, deadline - Date.now()));
  }
}
