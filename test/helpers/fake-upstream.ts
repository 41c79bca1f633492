// A scriptable fake recursor on loopback (UDP and TCP on one port) that records every query it gets.
import dgram from 'node:dgram';
import net from 'node:net';
import type { Query } from '../../src/dns/records.js';
import { defaultAnswers, encodeName, encodeRecord, u16, u32 } from './fake-wire.js';

export { encodeRecord } from './fake-wire.js';

export type FakeBehaviour = 'answer' | 'silent' | 'servfail' | 'refused' | 'wrong-id' | 'wrong-question'
  | 'truncate' | 'nxdomain' | 'wrong-then-right' /* sends a wrong-ID reply, then the right one */
  | 'forge-then-right' /* the `forgery` first, then the right reply */ | 'forge-only' /* only the `forgery` */
  | 'relay' /* passes each query on to the relayTo() target over UDP and its reply back: a resolver pointed at us */;

/**
 * Forged replies; each but garbage carries FORGED_ADDRESS as its answer, so one that got through would show.
 * wrong-source: the right ID and question from another UDP port (over TCP, nothing is forged).
 */
export type Forgery = 'wrong-source' | 'wrong-id' | 'wrong-question' | 'qr0' | 'garbage' | 'truncated';
export const FORGERIES: readonly Forgery[] = ['wrong-source', 'wrong-id', 'wrong-question', 'qr0', 'garbage', 'truncated'];
export const FORGED_ADDRESS = '192.0.2.66';
const LOOP_CHECK_SUFFIX = '.connect-dns-loop-check.';

export interface FakeQuery {
  proto: 'udp' | 'tcp';
  raw: Buffer;
  id: number;
  /** As received, dotted, with its trailing dot and original case. */
  name: string;
  qtype: number;
  rd: boolean;
  cd: boolean;
  do: boolean;
  hasOpt: boolean;
  /** How many EDNS options the query's OPT carried. */
  optOptions: number;
  /** The sender's port (fresh per forwarded UDP query). */
  sourcePort: number;
}

export interface FakeUpstream {
  address: string;
  /** UDP and TCP on the same port. */
  port: number;
  /** Every query but the forwarder's loop-check probes, which go to `probes` instead. */
  queries: FakeQuery[];
  probes: FakeQuery[];
  setBehaviour(b: FakeBehaviour): void;
  setForgery(f: Forgery): void;
  /** Where 'relay' sends queries; until it is called they wait. */
  relayTo(port: number, address?: string): void;
  close(): Promise<void>;
}

export interface FakeUpstreamOptions {
  behaviour: FakeBehaviour;
  address?: '127.0.0.1' | '::1';
  /** Zone-file lines for the answer section, e.g. "example.com. 300 IN A 192.0.2.1". */
  answers?: (name: string, qtype: number) => string[];
  /** Zone-file lines for the additional section. */
  additional?: (name: string, qtype: number) => string[];
  /** Adds "injected.consul. 300 IN A 192.0.2.66" to answer and additional (tests the in-zone filter). */
  injectInZone?: boolean;
  /** That many answers instead of the defaults; for 'truncate': UDP replies TC=1 with no answers, TCP the full set. */
  bigAnswerCount?: number;
  /** Option bytes the fake's own OPT carries (default: a COOKIE option), so tests see it is not relayed. */
  replyOptOptions?: Buffer;
  /** For 'forge-then-right' and 'forge-only' (default wrong-id). */
  forgery?: Forgery;
}

interface Parsed { query: FakeQuery; questionEnd: number }

function parseQuery(raw: Buffer, proto: 'udp' | 'tcp', sourcePort: number): Parsed | undefined {
  if (raw.length < 12 || raw.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let pos = 12;
  for (let len = raw[pos]; len !== undefined && len !== 0; len = raw[pos]) {
    if (len > 63) return undefined;
    labels.push(raw.subarray(pos + 1, pos + 1 + len).toString('latin1'));
    pos += 1 + len;
  }
  pos += 1;
  if (pos + 4 > raw.length) return undefined;
  const qtype = raw.readUInt16BE(pos);
  const questionEnd = pos + 4;
  let hasOpt = false;
  let dnssecOk = false;
  let optOptions = 0;
  // Only our forwarder's shape is expected here: the OPT right after the question.
  if (raw.readUInt16BE(10) >= 1 && raw[questionEnd] === 0 && raw.readUInt16BE(questionEnd + 1) === 41) {
    hasOpt = true;
    dnssecOk = (raw.readUInt32BE(questionEnd + 5) & 0x8000) !== 0;
    const rdEnd = questionEnd + 11 + raw.readUInt16BE(questionEnd + 9);
    for (let p = questionEnd + 11; p + 4 <= rdEnd; p += 4 + raw.readUInt16BE(p + 2)) optOptions++;
  }
  const flags = raw.readUInt16BE(2);
  return {
    questionEnd,
    query: {
      proto, raw: Buffer.from(raw), id: raw.readUInt16BE(0), name: `${labels.join('.')}.`, qtype,
      rd: (flags & 0x0100) !== 0, cd: (flags & 0x0010) !== 0, do: dnssecOk, hasOpt, optOptions, sourcePort,
    },
  };
}

export async function startFakeUpstream(opts: FakeUpstreamOptions): Promise<FakeUpstream> {
  const address = opts.address ?? '127.0.0.1';
  let behaviour = opts.behaviour;
  let forgery: Forgery = opts.forgery ?? 'wrong-id';
  const queries: FakeQuery[] = [];
  const probes: FakeQuery[] = [];
  let setTarget: (t: { address: string; port: number }) => void = () => undefined;
  const target = new Promise<{ address: string; port: number }>((resolve) => { setTarget = resolve; });
  const forger = dgram.createSocket(address === '::1' ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => forger.bind(0, address, () => resolve()));
  const optOptions = opts.replyOptOptions ?? Buffer.concat([u16(10), u16(8), Buffer.from('0123456789abcdef', 'hex')]);

  function reply(p: Parsed, id: number, rcode: number, tc: boolean, full: boolean, qname = p.query.name, forged = false): Buffer {
    const q = p.query;
    const given = forged ? [`${q.name} 300 IN A ${FORGED_ADDRESS}`] : opts.answers?.(q.name, q.qtype);
    const answers = full && rcode === 0
      ? [...(given ?? defaultAnswers(q.name, q.qtype, opts.bigAnswerCount)),
        ...(opts.injectInZone ? ['injected.consul. 300 IN A 192.0.2.66'] : [])]
      : [];
    const additional = full && rcode === 0
      ? [...(opts.additional?.(q.name, q.qtype) ?? []),
        ...(opts.injectInZone ? ['injected.consul. 300 IN A 192.0.2.66'] : [])]
      : [];
    const question = qname === q.name
      ? q.raw.subarray(12, p.questionEnd)
      : Buffer.concat([encodeName(qname), q.raw.subarray(p.questionEnd - 4, p.questionEnd)]);
    const opt = q.hasOpt
      ? Buffer.concat([Buffer.from([0]), u16(41), u16(4096), u32(q.do ? 0x8000 : 0), u16(optOptions.length), optOptions])
      : Buffer.alloc(0);
    const header = Buffer.concat([u16(id), u16(0x8080 | (q.rd ? 0x0100 : 0) | (tc ? 0x0200 : 0) | rcode),
      u16(1), u16(answers.length), u16(0), u16(additional.length + (q.hasOpt ? 1 : 0))]);
    return Buffer.concat([header, question, ...answers.map((l) => encodeRecord(l, q.name)),
      ...additional.map((l) => encodeRecord(l, q.name)), opt]);
  }

  /** The forgery for `p`; undefined for wrong-source, which is sent from the other socket instead. */
  function forge(p: Parsed): Buffer | undefined {
    const id = p.query.id;
    switch (forgery) {
      case 'wrong-source': return undefined;
      case 'wrong-id': return reply(p, id ^ 0x5a5a, 0, false, true, p.query.name, true);
      case 'wrong-question': return reply(p, id, 0, false, true, `wrong.${p.query.name}`, true);
      case 'qr0': {
        const r = reply(p, id, 0, false, true, p.query.name, true);
        r[2] = (r[2] ?? 0) & 0x7f;
        return r;
      }
      case 'garbage': {
        // Passes the cheap header checks (our ID, QR, one question), then is nonsense.
        const g = Buffer.alloc(40, 0xc0);
        g.writeUInt16BE(id, 0);
        g.writeUInt16BE(0x8180, 2);
        g.writeUInt16BE(1, 4);
        return g;
      }
      case 'truncated': {
        const r = reply(p, id, 0, false, true, p.query.name, true);
        return r.subarray(0, r.length - 3);
      }
    }
  }

  /** The replies to send for one query, in order (none for 'silent'). */
  function respond(raw: Buffer, proto: 'udp' | 'tcp', sourcePort: number, send: (out: Buffer) => void,
    sendForeign?: (out: Buffer, then: () => void) => void): void {
    const p = parseQuery(raw, proto, sourcePort);
    if (!p) return;
    if (behaviour === 'relay') {
      void relay(raw).then((out) => { if (out) send(out); });
      (p.query.name.toLowerCase().endsWith(LOOP_CHECK_SUFFIX) ? probes : queries).push(p.query);
      return;
    }
    if (p.query.name.toLowerCase().endsWith(LOOP_CHECK_SUFFIX)) {
      probes.push(p.query);
      if (behaviour !== 'silent') send(reply(p, p.query.id, 3, false, false));
      return;
    }
    queries.push(p.query);
    const out = replies(p);
    if ((behaviour === 'forge-then-right' || behaviour === 'forge-only') && forgery === 'wrong-source' && sendForeign) {
      // The forgery from another port goes first; the real reply only once it is on its way.
      sendForeign(reply(p, p.query.id, 0, false, true, p.query.name, true), () => { for (const o of out) send(o); });
      return;
    }
    for (const o of out) send(o);
  }

  function replies(p: Parsed): Buffer[] {
    const id = p.query.id;
    switch (behaviour) {
      case 'relay': return [];
      case 'forge-then-right': {
        const f = forge(p);
        return [...(f ? [f] : []), reply(p, id, 0, false, true)];
      }
      case 'forge-only': {
        const f = forge(p);
        return f ? [f] : [];
      }
      case 'silent': return [];
      case 'servfail': return [reply(p, id, 2, false, false)];
      case 'refused': return [reply(p, id, 5, false, false)];
      case 'nxdomain': return [reply(p, id, 3, false, false)];
      case 'wrong-id': return [reply(p, id ^ 0x5a5a, 0, false, true)];
      case 'wrong-question': return [reply(p, id, 0, false, true, `wrong.${p.query.name}`)];
      case 'wrong-then-right': return [reply(p, id ^ 0x5a5a, 0, false, true), reply(p, id, 0, false, true)];
      case 'truncate': return [p.query.proto === 'udp' ? reply(p, id, 0, true, false) : reply(p, id, 0, false, true)];
      case 'answer': return [reply(p, id, 0, false, true)];
    }
  }

  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + msg.length);
        respond(msg, 'tcp', socket.remotePort ?? 0, (out) => { if (!socket.destroyed) socket.write(Buffer.concat([u16(out.length), out])); });
      }
    });
  });

  // UDP picks a free port; TCP must get the same one, so try again with a new pair if it is taken.
  let udp: dgram.Socket | undefined;
  let port = 0;
  for (let attempt = 0; udp === undefined; attempt++) {
    const candidate = dgram.createSocket(address === '::1' ? 'udp6' : 'udp4');
    port = await new Promise<number>((resolve, reject) => {
      candidate.once('error', reject);
      candidate.bind(0, address, () => { candidate.off('error', reject); resolve(candidate.address().port); });
    });
    const bound = await new Promise<boolean>((resolve) => {
      const onError = (): void => resolve(false);
      tcp.once('error', onError);
      tcp.listen(port, address, () => { tcp.off('error', onError); resolve(true); });
    });
    if (bound) { udp = candidate; break; }
    await new Promise<void>((resolve) => candidate.close(() => resolve()));
    if (attempt >= 10) throw new Error('fake upstream: no port free for both UDP and TCP');
  }
  const server = udp;
  let closed = false;
  server.on('message', (msg, rinfo) => {
    const send = (out: Buffer): void => { if (!closed) server.send(out, rinfo.port, rinfo.address); };
    respond(msg, 'udp', rinfo.port, send, (out, then) => {
      if (!closed) forger.send(out, rinfo.port, rinfo.address, () => then());
    });
  });

  /** One UDP exchange with the relay target: what a forwarding resolver pointed at us would do. */
  async function relay(raw: Buffer): Promise<Buffer | undefined> {
    const to = await target;
    if (closed) return undefined;
    const socket = dgram.createSocket(to.address.includes(':') ? 'udp6' : 'udp4');
    return new Promise<Buffer | undefined>((resolve) => {
      const done = (out: Buffer | undefined): void => {
        clearTimeout(timer);
        socket.close();
        resolve(out);
      };
      const timer = setTimeout(() => done(undefined), 3000);
      socket.on('error', () => done(undefined));
      socket.on('message', (out) => done(out));
      socket.send(raw, to.port, to.address);
    });
  }

  let closing: Promise<void> | undefined;
  return {
    address,
    port,
    queries,
    probes,
    setBehaviour(b: FakeBehaviour): void { behaviour = b; },
    setForgery(f: Forgery): void { forgery = f; },
    relayTo(p: number, a = '127.0.0.1'): void { setTarget({ address: a, port: p }); },
    close(): Promise<void> {
      closing ??= closeAll();
      return closing;
    },
  };

  async function closeAll(): Promise<void> {
    closed = true;
    for (const s of sockets) s.destroy();
    await Promise.all([
      new Promise<void>((resolve) => forger.close(() => resolve())),
      new Promise<void>((resolve) => server.close(() => resolve())),
      new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  }
}

export interface ClientQueryOptions {
  name: string;
  qtype: number;
  id?: number;
  rd?: boolean;
  cd?: boolean;
  proto?: 'udp' | 'tcp';
  /** The client's OPT; `options` are raw option bytes (e.g. a COOKIE) it carries. */
  edns?: { udpSize: number; do: boolean; options?: Buffer };
}

/** A client Query as src/dns/ would decode it, raw bytes included (for forwarder tests). */
export function buildClientQuery(o: ClientQueryOptions): Query {
  const id = o.id ?? 0x4242;
  const rd = o.rd ?? true;
  const cd = o.cd ?? false;
  const question = Buffer.concat([encodeName(o.name), u16(o.qtype), u16(1)]);
  const options = o.edns?.options ?? Buffer.alloc(0);
  const opt = o.edns
    ? Buffer.concat([Buffer.from([0]), u16(41), u16(o.edns.udpSize), u32(o.edns.do ? 0x8000 : 0), u16(options.length), options])
    : Buffer.alloc(0);
  const header = Buffer.concat([u16(id), u16((rd ? 0x0100 : 0) | (cd ? 0x0010 : 0)), u16(1), u16(0), u16(0),
    u16(o.edns ? 1 : 0)]);
  const raw = Buffer.concat([header, question, opt]);
  return {
    id, name: o.name, qname: o.name.toLowerCase(), qtype: o.qtype, qclass: 1, rd, cd, proto: o.proto ?? 'udp',
    client: { address: '127.0.0.1', port: 53000 },
    ...(o.edns ? { edns: { udpSize: Math.max(512, o.edns.udpSize), version: 0, do: o.edns.do } } : {}),
    raw, questionEnd: 12 + question.length,
  };
}
