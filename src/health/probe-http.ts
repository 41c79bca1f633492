// One run of an HTTP check: 2xx passing, 429 warning, anything else (or no answer in time) critical.
import http from 'node:http';
import https from 'node:https';
import { boundedProbe, OUTPUT_LIMIT, type ProbeResult } from './probe-result.js';

export interface HttpProbe {
  readonly url: string;
  readonly method?: string;
  readonly header?: Readonly<Record<string, readonly string[]>>;
  readonly tlsSkipVerify?: boolean;
  readonly timeoutMs: number;
}

/** Consul sends these unless the check's own header map overrides them. */
const DEFAULT_HEADERS = { 'User-Agent': 'Consul Health Check', Accept: 'text/plain, text/*, */*' } as const;

function statusOf(code: number): ProbeResult['status'] {
  if (code >= 200 && code <= 299) return 'passing';
  if (code === 429) return 'warning';
  return 'critical';
}

function buildHeaders(header: HttpProbe['header']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const given = new Set(Object.keys(header ?? {}).map((k) => k.toLowerCase()));
  for (const [k, v] of Object.entries(DEFAULT_HEADERS)) if (!given.has(k.toLowerCase())) out[k] = v;
  for (const [k, v] of Object.entries(header ?? {})) out[k] = [...v];
  return out;
}

/** Never rejects: every failure is a critical result with the reason as output. */
export function runHttpProbe(probe: HttpProbe, signal: AbortSignal): Promise<ProbeResult> {
  const method = (probe.method ?? 'GET').toUpperCase();
  const prefix = `HTTP ${method} ${probe.url}`;
  let url: URL;
  try {
    url = new URL(probe.url);
  } catch {
    return Promise.resolve({ status: 'critical', output: `${prefix}: invalid URL` });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve({ status: 'critical', output: `${prefix}: unsupported protocol ${url.protocol}` });
  }
  return boundedProbe(prefix, probe.timeoutMs, signal, (finish) => {
    const options: https.RequestOptions = { method, headers: buildHeaders(probe.header), agent: false };
    if (url.protocol === 'https:' && probe.tlsSkipVerify) options.rejectUnauthorized = false;
    const req = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (): void => {
        const body = Buffer.concat(chunks).subarray(0, OUTPUT_LIMIT).toString('utf8');
        const code = res.statusCode ?? 0;
        finish({ status: statusOf(code), output: `${prefix}: ${code} ${res.statusMessage ?? ''} Output: ${body}` });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // Consul reads no more than it keeps; a huge or endless body must not hold the check.
        if (size >= OUTPUT_LIMIT) done();
      });
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', (err) => finish({ status: 'critical', output: `${prefix}: ${err.message}` }));
    req.end();
    return () => req.destroy();
  });
}
