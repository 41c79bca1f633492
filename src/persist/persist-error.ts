// The error of a failed state write or an unreadable state file: names the file and keeps the errno.
import { CdnsError, ErrorCode } from '../errors.js';

export class PersistError extends CdnsError {
  constructor(
    code: typeof ErrorCode.PERSIST_FAILED | typeof ErrorCode.PERSIST_CORRUPT,
    readonly file: string,
    readonly reason: string,
    /** The system error code (ENOSPC, EROFS, EACCES, ...) when the OS refused; undefined for bad content. */
    readonly errno?: string,
    options?: ErrorOptions & { readonly operation?: string },
  ) {
    super(code, `${file}: ${reason}`, options);
    this.name = 'PersistError';
    this.operation = options?.operation;
  }

  /** The step that failed ("writing", "fsync", "renaming over the old file", ...), for logs and metrics. */
  readonly operation: string | undefined;
}

/** Wraps a failed file operation, keeping its errno so operators see ENOSPC or EROFS, not a stack trace. */
export function toPersistFailure(err: unknown, file: string, action: string): PersistError {
  if (err instanceof PersistError) return err;
  const errno = errnoOf(err);
  const detail = err instanceof Error ? err.message : String(err);
  const reason = errno ? `${action} failed: ${errno} (${detail})` : `${action} failed: ${detail}`;
  return new PersistError(ErrorCode.PERSIST_FAILED, file, reason, errno, { cause: err, operation: action });
}

export function errnoOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
