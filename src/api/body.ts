// Reads a request body up to a size limit (stopping at the limit, never buffering more) and decodes its JSON.
import type { IncomingMessage } from 'node:http';
import { CdnsError, ErrorCode } from '../errors.js';
import { badRequest } from './errors.js';

/** Consul's own limit for request bodies. */
export const MAX_BODY_BYTES = 1024 * 1024;

export function tooLarge(limit: number): CdnsError {
  return new CdnsError(ErrorCode.TOO_LARGE, `Request body too large: more than ${limit} bytes`);
}

export function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  const len = Number(req.headers['content-length']);
  return Number.isFinite(len) && len > limit;
}

/** The raw body; rejects with TOO_LARGE as soon as more than `limit` bytes arrive (and stops reading). */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  if (declaredTooLarge(req, limit)) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        // Stop taking bytes from the socket; the reply closes the connection.
        req.pause();
        finish(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish();
    const onError = (err: Error): void => finish(badRequest(`Request decode failed: ${err.message}`));
    const onClose = (): void => finish(badRequest('Request decode failed: the client closed the connection'));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** An empty body is `undefined` (several endpoints take none); anything else must be valid JSON. */
export function parseJsonBody(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`Request decode failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
