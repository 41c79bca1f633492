// The state file's envelope: a format tag and a SHA-256 over the canonical payload, so damage is detected at load.
import { createHash } from 'node:crypto';
import { ErrorCode } from '../errors.js';
import { PersistError } from './persist-error.js';

export const STATE_FORMAT = 'connect-dns/1';

/** JSON with object keys sorted at every level: the same value always gives the same bytes, so the same hash. */
export function toCanonicalJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    // fromEntries defines own properties, so a "__proto__" key stays data instead of changing the prototype.
    const obj = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]]));
  });
  if (text === undefined) throw new TypeError('the state is not representable as JSON');
  return text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The whole file's text for `payload`, written at `now`. */
export function buildEnvelope(payload: unknown, now: Date): string {
  const canonical = toCanonicalJson(payload);
  // The payload is embedded as its canonical text, so what is hashed is exactly what is on disk.
  const head = `{"format":${JSON.stringify(STATE_FORMAT)},"written":${JSON.stringify(now.toISOString())},` +
    `"sha256":${JSON.stringify(sha256Hex(canonical))},"payload":`;
  return `${head}${canonical}}\n`;
}

export interface Envelope {
  readonly written: string;
  readonly payload: unknown;
}

/** Parses and verifies a state file's text; throws PERSIST_CORRUPT naming `file` with the reason. */
export function parseEnvelope(text: string, file: string): Envelope {
  const corrupt = (reason: string): PersistError => new PersistError(ErrorCode.PERSIST_CORRUPT, file, reason);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const hint = text.length === 0 ? 'the file is empty' : `not valid JSON (truncated or damaged): ${(err as Error).message}`;
    throw corrupt(hint);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw corrupt('not a connect-dns state file (no JSON object)');
  const env = doc as Record<string, unknown>;
  if (typeof env['format'] !== 'string') throw corrupt('not a connect-dns state file (no "format")');
  if (env['format'] !== STATE_FORMAT) {
    throw corrupt(`format ${JSON.stringify(env['format'])} is not supported (this version reads ${STATE_FORMAT})`);
  }
  const { sha256, payload, written } = env;
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) throw corrupt('missing or malformed "sha256"');
  if (payload === undefined) throw corrupt('missing "payload"');
  if (sha256Hex(toCanonicalJson(payload)) !== sha256) {
    throw corrupt('checksum mismatch: the payload was changed or damaged after it was written');
  }
  return { written: typeof written === 'string' ? written : '', payload };
}
