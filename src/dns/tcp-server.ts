// TCP listener (RFC 7766): 2-byte framing, pipelined queries answered as they complete, with idle, connection,
// in-flight and partial-message (slowloris) limits.
import net from 'node:net';
import type { Logger } from 'pino';
import type { QueryHandler } from './server.js';

export interface TcpLimits {
  /** Close a connection that delivers no complete message for this long (a partial one counts as idle). */
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  /** Stop reading a connection while this many of its queries are unanswered. */
  readonly maxInFlightPerConnection: number;
  /** A message whose first byte has arrived must be complete within this long, however slowly it trickles. */
  readonly messageTimeoutMs: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = { idleTimeoutMs: 10_000, maxConnections: 512, maxInFlightPerConnection: 16, messageTimeoutMs: 2_000 };

export interface TcpListenerOptions {
  readonly address: string;
  readonly port: number;
  readonly handler: QueryHandler;
  readonly logger: Logger;
  readonly limits: TcpLimits;
}

export interface TcpListener {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

const MAX_FRAME = 0xffff;

function isThenable(v: unknown): v is PromiseLike<Buffer | null> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/** Chunks as they arrived; bytes are copied only when a frame spans chunks (a trickle stays linear). */
class ChunkQueue {
  private readonly chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void { this.chunks.push(b); this.length += b.length; }

  /** The 2-byte big-endian length at the front (requires length >= 2). */
  peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= 2) return first.readUInt16BE(0);
    return ((first[0] as number) << 8) | ((this.chunks[1] as Buffer)[0] as number);
  }

  take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    this.length -= n;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift(); else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift(); else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}

function serveConnection(socket: net.Socket, opts: TcpListenerOptions): void {
  const { handler, logger, limits } = opts;
  const client = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
  const queue = new ChunkQueue();
  let inFlight = 0;
  let ended = false;
  let paused = false;
  let pumping = false;
  /** Runs while a started message is incomplete and we are reading; only trickled messages ever arm it. */
  let partial: NodeJS.Timeout | undefined;

  const idle = setTimeout(function onIdle() {
    // An unanswered query is not idleness: the handler (forwarder) bounds its own time.
    if (inFlight > 0) { idle.refresh(); return; }
    logger.debug({ client: client.address }, 'TCP connection idle, closed');
    socket.destroy();
  }, limits.idleTimeoutMs);

  const write = (reply: Buffer): void => {
    if (reply.length > MAX_FRAME) {
      logger.error({ size: reply.length, client: client.address }, 'TCP reply too large for framing, dropped');
      return;
    }
    const frame = Buffer.allocUnsafe(reply.length + 2);
    frame.writeUInt16BE(reply.length, 0);
    reply.copy(frame, 2);
    socket.write(frame);
  };

  const done = (reply: Buffer | null): void => {
    inFlight--;
    if (socket.destroyed) return;
    if (reply !== null) { write(reply); idle.refresh(); }
    pump();
  };

  const dispatch = (frame: Buffer): void => {
    inFlight++;
    let result: ReturnType<QueryHandler>;
    try {
      result = handler(frame, 'tcp', client);
    } catch (err) {
      logger.error({ err, client: client.address }, 'query handler threw');
      done(null);
      return;
    }
    if (isThenable(result)) {
      result.then(done, (err: unknown) => {
        logger.error({ err, client: client.address }, 'query handler failed');
        done(null);
      });
    } else {
      done(result);
    }
  };

  const onPartialTimeout = (): void => {
    logger.debug({ client: client.address, buffered: queue.length }, 'TCP message not complete in time, closed');
    socket.destroy();
  };

  /** The front of the queue is a message that has started but not yet fully arrived. */
  const incomplete = (): boolean => queue.length > 0 && (queue.length < 2 || queue.length < queue.peekLength() + 2);

  const blocked = (): boolean => inFlight >= limits.maxInFlightPerConnection || socket.writableNeedDrain;

  // Takes complete frames while the caps allow, then pauses or resumes reading to match.
  function pump(): void {
    if (pumping) return; // a synchronous handler re-enters through done(); the outer loop continues
    pumping = true;
    try {
      while (!socket.destroyed && !blocked() && queue.length >= 2) {
        const len = queue.peekLength();
        if (len === 0) {
          logger.debug({ client: client.address }, 'zero-length TCP frame, closed');
          socket.destroy();
          return;
        }
        if (queue.length < len + 2) break;
        queue.take(2);
        idle.refresh();
        if (partial !== undefined) { clearTimeout(partial); partial = undefined; }
        dispatch(queue.take(len));
      }
    } finally {
      pumping = false;
    }
    if (socket.destroyed) return;
    const stop = blocked();
    if (stop && !paused) { socket.pause(); paused = true; }
    else if (!stop && paused) { socket.resume(); paused = false; }
    // While paused the rest may sit unread in the kernel: not the client's delay, so the clock stops and
    // starts afresh on resume. Otherwise it keeps running from the message's first byte, however bytes trickle.
    if (!paused && incomplete()) partial ??= setTimeout(onPartialTimeout, limits.messageTimeoutMs);
    else if (partial !== undefined) { clearTimeout(partial); partial = undefined; }
    // Half-open: the client sent its queries and a FIN; answer them all, then end (a partial frame is dropped).
    if (ended && inFlight === 0 && (queue.length < 2 || queue.length < queue.peekLength() + 2)) socket.end();
  }

  socket.on('data', (chunk: Buffer) => { queue.push(chunk); pump(); });
  socket.on('end', () => { ended = true; pump(); });
  socket.on('drain', pump);
  socket.on('error', (err) => logger.debug({ code: (err as NodeJS.ErrnoException).code, client: client.address }, 'TCP connection error'));
  socket.on('close', () => { clearTimeout(idle); if (partial !== undefined) clearTimeout(partial); });
}

export function createTcpListener(opts: TcpListenerOptions): Promise<TcpListener> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    // No Nagle: a pipelining client that delays its ACKs would otherwise see a small reply held for the
    // ACK of the previous one (a 40 ms delayed-ACK stall per burst; measured p99 42 ms over TCP).
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveConnection(socket, opts);
  });
  // Connections over the cap are closed by net.Server itself, before any byte is read.
  server.maxConnections = opts.limits.maxConnections;
  server.on('drop', (d) => opts.logger.debug({ client: d?.remoteAddress }, 'TCP connection over the cap, closed'));

  return new Promise((resolve, reject) => {
    const onListenError = (err: Error): void => reject(err);
    server.once('error', onListenError);
    server.listen({ host: opts.address, port: opts.port }, () => {
      server.off('error', onListenError);
      server.on('error', (err) => opts.logger.warn({ err }, 'TCP server error'));
      const bound = server.address() as net.AddressInfo;
      resolve({
        address: bound.address,
        port: bound.port,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          for (const s of sockets) s.destroy();
        }),
      });
    });
  });
}
