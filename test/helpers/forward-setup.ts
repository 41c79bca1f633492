// Forwarder test set-up: fake upstreams closed after the test, a forwarder over them, and reply decoding.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { pino, type Logger } from 'pino';
import { parseWireMessage, type WireMessage } from '../../src/dns/relay.js';
import { createForwarder, type Forwarder, type ForwarderOptions } from '../../src/forward/forwarder.js';
import { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from './fake-upstream.js';

/** A debug-level logger that discards everything, so log calls run but print nothing. */
export function quietLogger(): Logger {
  return pino({ level: 'debug' }, new Writable({ write(_c, _e, cb) { cb(); } }));
}

export async function fakes(t: TestContext, ...list: FakeUpstreamOptions[]): Promise<FakeUpstream[]> {
  const started = await Promise.all(list.map((o) => startFakeUpstream(o)));
  t.after(() => Promise.all(started.map((f) => f.close())));
  return started;
}

/** Sequential over `ups`, 1 s per try, zone consul., 1232-byte UDP payload; `over` replaces any of these. */
export function forwarderFor(t: TestContext, ups: readonly FakeUpstream[], over: Partial<ForwarderOptions> = {}): Forwarder {
  const fwd = createForwarder({
    upstreams: ups.map((u) => ({ address: u.address, port: u.port })), timeoutMs: 1000, strategy: 'sequential',
    zones: ['consul.'], udpPayloadSize: 1232, logger: quietLogger(), ...over,
  });
  t.after(() => fwd.close());
  return fwd;
}

export function decode(bytes: Buffer): WireMessage {
  const m = parseWireMessage(bytes);
  assert.ok(m, 'the client gets a well-formed message');
  return m;
}

export const rcode = (m: WireMessage): number => m.flags & 0x0f;
