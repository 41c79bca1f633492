// Typed errors with stable codes; mapped to an rcode, an HTTP status or an exit status in one place each.

export const ErrorCode = {
  CONFIG_SYNTAX: 'CDNS_ERR_CONFIG_SYNTAX',
  CONFIG_UNKNOWN_KEY: 'CDNS_ERR_CONFIG_UNKNOWN_KEY',
  CONFIG_TYPE: 'CDNS_ERR_CONFIG_TYPE',
  CONFIG_VALUE: 'CDNS_ERR_CONFIG_VALUE',
  CONFIG_DUPLICATE_ID: 'CDNS_ERR_CONFIG_DUPLICATE_ID',
  CONFIG_READ: 'CDNS_ERR_CONFIG_READ',
  PORTS_EXHAUSTED: 'CDNS_ERR_PORTS_EXHAUSTED',
  BAD_REQUEST: 'CDNS_ERR_BAD_REQUEST',
  UPSTREAM_FAILED: 'CDNS_ERR_UPSTREAM_FAILED',
  LISTEN: 'CDNS_ERR_LISTEN',
  NOT_FOUND: 'CDNS_ERR_NOT_FOUND',
  PERMISSION_DENIED: 'CDNS_ERR_PERMISSION_DENIED',
  TOO_LARGE: 'CDNS_ERR_TOO_LARGE',
  CONFLICT: 'CDNS_ERR_CONFLICT',
  PERSIST_FAILED: 'CDNS_ERR_PERSIST_FAILED',
  PERSIST_CORRUPT: 'CDNS_ERR_PERSIST_CORRUPT',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class CdnsError extends Error {
  constructor(readonly code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CdnsError';
  }
}

/** Where in the config a problem is: file, dotted key path, and line/column when the parser gives them. */
export interface ConfigLocation {
  readonly file: string;
  readonly key?: string;
  readonly line?: number;
  readonly column?: number;
}

export class ConfigError extends CdnsError {
  constructor(code: ErrorCode, readonly location: ConfigLocation, readonly reason: string) {
    super(code, formatConfigProblem(location, reason));
    this.name = 'ConfigError';
  }
}

export function formatConfigProblem(loc: ConfigLocation, reason: string): string {
  const pos = loc.line !== undefined ? `:${loc.line}${loc.column !== undefined ? `:${loc.column}` : ''}` : '';
  const key = loc.key ? ` ${loc.key}:` : ':';
  return `${loc.file}${pos}${key} ${reason}`;
}
