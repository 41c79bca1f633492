// API errors: helpers that throw typed CdnsErrors, and the ONE mapping from an error to an HTTP status and reason.
import { CdnsError, ConfigError, ErrorCode } from '../errors.js';

export const badRequest = (reason: string): CdnsError => new CdnsError(ErrorCode.BAD_REQUEST, reason);
export const notFound = (reason: string): CdnsError => new CdnsError(ErrorCode.NOT_FOUND, reason);
export const permissionDenied = (): CdnsError => new CdnsError(ErrorCode.PERMISSION_DENIED, 'Permission denied');
export const conflict = (reason: string): CdnsError => new CdnsError(ErrorCode.CONFLICT, reason);

export interface HttpProblem {
  readonly status: number;
  /** One line, sent as text/plain as Consul does (clients show it as the error message). */
  readonly reason: string;
  /** Set for failures that are ours, not the caller's: worth a log line. */
  readonly internal: boolean;
}

const STATUS: Readonly<Partial<Record<ErrorCode, number>>> = {
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.CONFIG_SYNTAX]: 400,
  [ErrorCode.CONFIG_UNKNOWN_KEY]: 400,
  [ErrorCode.CONFIG_TYPE]: 400,
  [ErrorCode.CONFIG_VALUE]: 400,
  [ErrorCode.CONFIG_DUPLICATE_ID]: 400,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.PERMISSION_DENIED]: 403,
  [ErrorCode.TOO_LARGE]: 413,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.PORTS_EXHAUSTED]: 500,
  [ErrorCode.PERSIST_FAILED]: 500,
  [ErrorCode.PERSIST_CORRUPT]: 500,
};

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ');
}

export function toHttpProblem(err: unknown): HttpProblem {
  if (err instanceof ConfigError) {
    // The decoders name the key inside the body; the "file" is always the request body, so it is left out.
    const key = err.location.key;
    return { status: STATUS[err.code] ?? 400, reason: oneLine(key ? `${key}: ${err.reason}` : err.reason), internal: false };
  }
  if (err instanceof CdnsError) {
    const status = STATUS[err.code] ?? 500;
    // A failed state write is logged by the persister once per fault episode, not once per refused request.
    return { status, reason: oneLine(err.message), internal: status >= 500 && err.code !== ErrorCode.PERSIST_FAILED };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { status: 500, reason: oneLine(message || 'internal error'), internal: true };
}
