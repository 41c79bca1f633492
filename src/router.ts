// One query, one way: decode → guard → resolve in-zone (synchronously) or forward → encode.
import type { Logger } from 'pino';
import type { Snapshot } from './catalog/types.js';
import { decodeQuery, encodeAnswer, encodeRcode, type EncodeOptions } from './dns/codec.js';
import { Rcode, type Query, type Transport } from './dns/records.js';
import type { QueryHandler } from './dns/server.js';
import type { Forwarder } from './forward/forwarder.js';
import { resolveQuery } from './resolve/resolve.js';
import type { ResolveContext } from './resolve/types.js';

/** Settings are read through getters on each query, so a reload takes effect without rebuilding the router. */
export interface RouterOptions {
  readonly snapshot: () => Snapshot;
  readonly context: () => ResolveContext;
  readonly encode: () => EncodeOptions;
  readonly forwarder: () => Forwarder | undefined;
  readonly logger: Logger;
}

export function createQueryHandler(opts: RouterOptions): QueryHandler {
  const { logger } = opts;
  const debug = logger.isLevelEnabled('debug');

  const answer = (query: Query, encode: EncodeOptions): Buffer | Promise<Buffer> => {
    const res = resolveQuery(query, opts.snapshot(), opts.context());
    switch (res.kind) {
      case 'answer':
        return encodeAnswer(query, res.answer, encode);
      case 'refused':
        return encodeRcode(query, Rcode.REFUSED, encode);
      case 'forward': {
        // The resolver only asks to forward when recursors exist; without a forwarder, refuse.
        const forwarder = opts.forwarder();
        return forwarder ? forwarder.forward(query) : encodeRcode(query, Rcode.REFUSED, encode);
      }
    }
  };

  return (raw: Buffer, proto: Transport, client) => {
    const encode = opts.encode();
    const decoded = decodeQuery(raw, proto, client, { udpPayloadSize: encode.udpPayloadSize });
    if (decoded.kind === 'drop') {
      if (debug) logger.debug({ proto, client: client.address, reason: decoded.reason }, 'query dropped');
      return null;
    }
    if (decoded.kind === 'error') {
      if (debug) logger.debug({ proto, client: client.address, rcode: decoded.rcode, reason: decoded.reason }, 'bad query');
      return decoded.reply;
    }
    const query = decoded.query;
    if (debug) logger.debug({ proto, client: client.address, qname: query.name, qtype: query.qtype }, 'query');
    try {
      return answer(query, encode);
    } catch (err) {
      logger.error({ err, qname: query.name, qtype: query.qtype }, 'query failed');
      return encodeRcode(query, Rcode.SERVFAIL, encode);
    }
  };
}
