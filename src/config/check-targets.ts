// What a check probes (tcp host:port, http URL, method, header names): refused at load, not failed at every run.
import { isIp } from '../net/addr.js';
import { isHostName, type Parsed } from './values.js';

function goodPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

/** A tcp check's "host:port" or "[v6]:port": the host an IP or a host name, the port 1-65535. */
export function parseCheckTcp(text: string): Parsed<string> {
  const m = /^\[([^\]]+)\]:([^:]*)$/.exec(text) ?? /^([^:[\]]+):([^:]*)$/.exec(text);
  if (!m) return { error: `must be host:port ([v6]:port for IPv6), got "${text}"` };
  const host = m[1] ?? '';
  const bracketed = text.startsWith('[');
  if (bracketed ? !(isIp(host) && host.includes(':')) : !(isIp(host) || isHostName(host))) {
    return { error: `must name an IP address or a host name before the port, got "${text}"` };
  }
  if (!goodPort(m[2] ?? '')) return { error: `has a bad port (1-65535), got "${text}"` };
  return { value: text };
}

/** An http check's URL: http or https, with a host; fetch would refuse anything else on every run. */
export function parseCheckUrl(text: string): Parsed<string> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: `must be an http:// or https:// URL, got "${text}"` };
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    return { error: `must be an http:// or https:// URL, got "${text}"` };
  }
  // WHATWG URL keeps port 0 as written; nothing listens there.
  if (url.port === '0') return { error: `has a bad port (1-65535), got "${text}"` };
  return { value: text };
}

/** RFC 9110 token: an HTTP method or header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function isHttpToken(text: string): boolean {
  return TOKEN.test(text);
}
