// createDnsServer over real loopback sockets: UDP and TCP delivery, framing, caps, timeouts, failures, close.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { createDnsServer, type DnsServer, type DnsServerOptions, type QueryHandler } from '../../src/dns/server.js';
import { CdnsError, ErrorCode } from '../../src/errors.js';
import { buildQuery, connectTcp, frame, readFrames, sendTcp, sendUdp } from '../helpers/dns-client.js';
import { createLogSink } from '../helpers/log-sink.js';

/** The query bytes with QR set: enough for the client to match it by ID. */
const echo = (raw: Buffer): Buffer => {
  const b = Buffer.from(raw);
  b[2] = b[2]! | 0x80;
  return b;
};
const idOf = (b: Buffer): number => b.readUInt16BE(0);
const q = (id: number): Buffer => buildQuery({ name: 'echo.consul.', id });

async function start(t: TestContext, handler: QueryHandler, extra: Partial<DnsServerOptions> = {}): Promise<{ server: DnsServer; port: number; logs: ReturnType<typeof createLogSink> }> {
  const logs = createLogSink('debug');
  const server = await createDnsServer({ addresses: ['127.0.0.1'], port: 0, handler, logger: logs.logger, ...extra });
  t.after(() => server.close());
  const port = server.endpoints[0]!.port;
  return { server, port, logs };
}

/** A handler whose replies are released by the test, one query at a time. */
function gatedHandler(): { handler: QueryHandler; pending: { id: number; release: () => void }[]; maxOutstanding: () => number } {
  const pending: { id: number; release: () => void }[] = [];
  let outstanding = 0;
  let max = 0;
  const handler: QueryHandler = (raw) => new Promise<Buffer>((resolve) => {
    outstanding++;
    max = Math.max(max, outstanding);
    pending.push({ id: idOf(raw), release: () => { outstanding--; resolve(echo(raw)); } });
  });
  return { handler, pending, maxOutstanding: () => max };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('createDnsServer', () => {
  it('listens on UDP and TCP on the same free port', async (t) => {
    const { server, port } = await start(t, echo);
    assert.deepEqual(server.endpoints.map((e) => [e.proto, e.address, e.port]), [['udp', '127.0.0.1', port], ['tcp', '127.0.0.1', port]]);
    assert.ok(port > 0);
  });

  it('binds IPv4 and IPv6 loopback on one port number', async (t) => {
    const { server, port } = await start(t, echo, { addresses: ['127.0.0.1', '::1'] });
    assert.equal(server.endpoints.length, 4);
    assert.ok(server.endpoints.every((e) => e.port === port));
    assert.equal(idOf(await sendUdp(port, q(61), { address: '::1' })), 61);
    assert.equal(idOf(await sendTcp(port, q(62), { address: '::1' })), 62);
  });

  it('rejects with CDNS_ERR_LISTEN when the port is taken', async (t) => {
    const { port } = await start(t, echo);
    await assert.rejects(
      createDnsServer({ addresses: ['127.0.0.1'], port, handler: echo, logger: createLogSink().logger }),
      (err: unknown) => err instanceof CdnsError && err.code === ErrorCode.LISTEN,
    );
  });

  it('rejects a listen address that is not an IP literal, without resolving it', async () => {
    await assert.rejects(
      createDnsServer({ addresses: ['localhost'], port: 0, handler: echo, logger: createLogSink().logger }),
      (err: unknown) => err instanceof CdnsError && err.code === ErrorCode.LISTEN,
    );
  });

  it('close() resolves, closes open TCP connections and stops listening', async () => {
    const server = await createDnsServer({ addresses: ['127.0.0.1'], port: 0, handler: echo, logger: createLogSink().logger });
    const port = server.endpoints[0]!.port;
    const conn = await connectTcp(port);
    const closed = new Promise<void>((r) => conn.on('close', () => r()));
    await server.close();
    await closed;
    await assert.rejects(connectTcp(port), (err: NodeJS.ErrnoException) => err.code === 'ECONNREFUSED');
  });
});

describe('UDP', () => {
  it('answers with what the handler returns, sync or async', async (t) => {
    const { port } = await start(t, (raw) => (idOf(raw) % 2 === 0 ? echo(raw) : Promise.resolve(echo(raw))));
    assert.equal(idOf(await sendUdp(port, q(10))), 10);
    assert.equal(idOf(await sendUdp(port, q(11))), 11);
  });

  it('sends nothing for null, and keeps serving after sync and async handler failures', async (t) => {
    const { port, logs } = await start(t, (raw) => {
      const id = idOf(raw);
      if (id === 1) return null;
      if (id === 2) throw new Error('sync boom');
      if (id === 3) return Promise.reject(new Error('async boom'));
      return echo(raw);
    });
    // Each failing query is followed by a good one on the same socket: the first reply seen must be the good one.
    for (const bad of [1, 2, 3]) {
      const reply = await new Promise<Buffer>((resolve, reject) => {
        void sendUdp(port, q(bad), { timeoutMs: 500 }).then(() => reject(new Error(`query ${bad} was answered`)), () => undefined);
        sendUdp(port, q(100 + bad)).then(resolve, reject);
      });
      assert.equal(idOf(reply), 100 + bad);
    }
    assert.ok(logs.find(/handler threw/), 'sync failure logged');
    assert.ok(logs.find(/handler failed/), 'async failure logged');
  });
});

describe('TCP', () => {
  it('answers three pipelined queries sent in one write', async (t) => {
    const { port } = await start(t, (raw) => Promise.resolve(echo(raw)));
    const s = await connectTcp(port);
    t.after(() => s.destroy());
    const got = readFrames(s, 3);
    s.write(frame(q(1), q(2), q(3)));
    const { messages } = await got;
    assert.deepEqual(messages.map(idOf).sort(), [1, 2, 3]);
  });

  it('writes replies as they complete, out of order', async (t) => {
    const gate = gatedHandler();
    const { port } = await start(t, gate.handler);
    const s = await connectTcp(port);
    t.after(() => s.destroy());
    const got = readFrames(s, 2);
    s.write(frame(q(1), q(2)));
    await until(() => gate.pending.length === 2, 'two queries at the handler');
    gate.pending[1]!.release();
    gate.pending[0]!.release();
    assert.deepEqual((await got).messages.map(idOf), [2, 1]);
  });

  it('reassembles a query trickled one byte per write', async (t) => {
    const { port } = await start(t, echo);
    const s = await connectTcp(port);
    t.after(() => s.destroy());
    const got = readFrames(s, 1);
    const bytes = frame(q(77));
    for (const b of bytes) {
      s.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual((await got).messages.map(idOf), [77]);
  });

  it('keeps the connection open when the handler drops a query', async (t) => {
    const { port } = await start(t, (raw) => (idOf(raw) === 1 ? null : echo(raw)));
    const s = await connectTcp(port);
    t.after(() => s.destroy());
    const got = readFrames(s, 1);
    s.write(frame(q(1), q(2)));
    const { messages, closed } = await got;
    assert.equal(closed, false);
    assert.deepEqual(messages.map(idOf), [2]);
  });

  it('survives handler failures on a connection and answers the next query', async (t) => {
    const { port } = await start(t, (raw) => {
      if (idOf(raw) === 1) throw new Error('sync boom');
      if (idOf(raw) === 2) return Promise.reject(new Error('async boom'));
      return echo(raw);
    });
    const s = await connectTcp(port);
    t.after(() => s.destroy());
    const got = readFrames(s, 1);
    s.write(frame(q(1), q(2), q(3)));
    assert.deepEqual((await got).messages.map(idOf), [3]);
  });

  it('closes the connection on a zero-length frame', async (t) => {
    const { port } = await start(t, echo);
    const s = await connectTcp(port);
    const got = readFrames(s, 1);
    s.write(Buffer.from([0, 0]));
    assert.deepEqual(await got, { messages: [], closed: true });
  });

  it('closes an idle connection, and one that only sent part of a message', async (t) => {
    const { port } = await start(t, echo, { tcp: { idleTimeoutMs: 200 } });
    const silent = await connectTcp(port);
    const partial = await connectTcp(port);
    const a = readFrames(silent, 1, 3000);
    const b = readFrames(partial, 1, 3000);
    partial.write(frame(q(5)).subarray(0, 7));
    assert.deepEqual(await a, { messages: [], closed: true });
    assert.deepEqual(await b, { messages: [], closed: true });
  });

  it('closes a connection whose message trickles in slower than messageTimeoutMs (slowloris)', async (t) => {
    // The idle timeout alone would never fire: a byte arrives every 60 ms, well inside it.
    const { port, logs } = await start(t, echo, { tcp: { idleTimeoutMs: 60_000, messageTimeoutMs: 300 } });
    const s = await connectTcp(port);
    t.after(() => s.destroy());
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    const bytes = frame(q(9));
    let sent = 0;
    const drip = setInterval(() => { if (sent < bytes.length - 1 && !s.destroyed) s.write(bytes.subarray(sent, ++sent)); }, 60);
    t.after(() => clearInterval(drip));
    const deadline = new Promise<string>((r) => setTimeout(() => r('still open'), 5000).unref());
    assert.equal(await Promise.race([closed.then(() => 'closed'), deadline]), 'closed');
    clearInterval(drip);
    assert.ok(sent < bytes.length, 'closed before the message was complete');
    assert.ok(logs.find(/not complete in time/), 'the close is logged');
  });

  it('gives each message its own messageTimeoutMs: a slow message, then another, both answered', async (t) => {
    const { port } = await start(t, echo, { tcp: { idleTimeoutMs: 60_000, messageTimeoutMs: 400 } });
    const s = await connectTcp(port);
    t.after(() => s.destroy());
    // Each message takes ~250 ms (under the deadline); the two together take longer than it.
    for (const id of [21, 22]) {
      const got = readFrames(s, 1, 3000);
      const bytes = frame(q(id));
      s.write(bytes.subarray(0, 5));
      await new Promise((r) => setTimeout(r, 250));
      s.write(bytes.subarray(5));
      const { messages, closed } = await got;
      assert.equal(closed, false);
      assert.deepEqual(messages.map(idOf), [id]);
    }
  });

  it('does not time a partial message while reading is paused at maxInFlightPerConnection', async (t) => {
    const gate = gatedHandler();
    const { port } = await start(t, gate.handler, { tcp: { idleTimeoutMs: 60_000, messageTimeoutMs: 200, maxInFlightPerConnection: 1 } });
    const s = await connectTcp(port);
    t.after(() => s.destroy());
    const got = readFrames(s, 2, 5000);
    const second = frame(q(32));
    s.write(Buffer.concat([frame(q(31)), second.subarray(0, 6)]));
    await until(() => gate.pending.length === 1, 'the first query at the handler');
    // Longer than the deadline: our own cap, not the client, is holding the second message back.
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(s.destroyed, false);
    gate.pending[0]!.release();
    s.write(second.subarray(6));
    await until(() => gate.pending.length === 2, 'the second query at the handler');
    gate.pending[1]!.release();
    const { messages, closed } = await got;
    assert.equal(closed, false);
    assert.deepEqual(messages.map(idOf), [31, 32]);
  });

  it('closes connections over maxConnections and serves the others', async (t) => {
    const { port } = await start(t, echo, { tcp: { maxConnections: 2 } });
    const first = await connectTcp(port);
    const second = await connectTcp(port);
    t.after(() => { first.destroy(); second.destroy(); });
    // The server accepts asynchronously; make sure both are counted before the third arrives.
    assert.equal(idOf(await readAfterWrite(first, q(1))), 1);
    assert.equal(idOf(await readAfterWrite(second, q(2))), 2);
    const third = await connectTcp(port);
    const got = readFrames(third, 1);
    third.write(frame(q(3)));
    assert.deepEqual(await got, { messages: [], closed: true });
    assert.equal(idOf(await readAfterWrite(first, q(4))), 4);
  });

  it('holds at most maxInFlightPerConnection queries at the handler, then resumes', async (t) => {
    const gate = gatedHandler();
    const { port } = await start(t, gate.handler, { tcp: { maxInFlightPerConnection: 2 } });
    const s = await connectTcp(port);
    t.after(() => s.destroy());
    const got = readFrames(s, 6);
    s.write(frame(...[1, 2, 3, 4, 5, 6].map(q)));
    await until(() => gate.pending.length === 2, 'two queries at the handler');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(gate.pending.length, 2, 'a third query reached the handler while two were unanswered');
    for (let released = 0; released < 6; released++) {
      await until(() => gate.pending.length > released, `query ${released + 1} at the handler`);
      gate.pending[released]!.release();
    }
    assert.deepEqual((await got).messages.map(idOf), [1, 2, 3, 4, 5, 6]);
    assert.equal(gate.maxOutstanding(), 2);
  });

  it('answers queries sent before the client half-closed, then ends', async (t) => {
    const gate = gatedHandler();
    const { port } = await start(t, gate.handler);
    const s = await connectTcp(port);
    t.after(() => s.destroy());
    const ended = new Promise<void>((r) => s.on('end', () => r()));
    const got = readFrames(s, 2);
    s.end(frame(q(8), q(9)));
    await until(() => gate.pending.length === 2, 'two queries at the handler');
    for (const p of gate.pending) p.release();
    assert.deepEqual((await got).messages.map(idOf).sort(), [8, 9]);
    await ended;
  });
});

async function readAfterWrite(s: net.Socket, query: Buffer): Promise<Buffer> {
  const got = readFrames(s, 1);
  s.write(frame(query));
  const { messages } = await got;
  if (!messages[0]) throw new Error('no reply');
  return messages[0];
}
