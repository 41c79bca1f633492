// The environment a managed proxy process starts with: ours plus the variables Consul 1.2 hands its proxies.
import type { ProxyConfigView } from './types.js';

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function buildProxyEnv(base: NodeJS.ProcessEnv, view: ProxyConfigView, token: string, httpAddr: string): NodeJS.ProcessEnv {
  const c = view.Config;
  return {
    ...base,
    CONNECT_PROXY_ID: view.ProxyServiceID,
    CONSUL_PROXY_ID: view.ProxyServiceID,
    CONSUL_PROXY_TOKEN: token,
    CONSUL_HTTP_ADDR: httpAddr,
    CONNECT_PROXY_BIND_ADDRESS: text(c['bind_address']),
    CONNECT_PROXY_BIND_PORT: text(c['bind_port']),
    CONNECT_PROXY_LOCAL_SERVICE_ADDRESS: text(c['local_service_address']),
    CONNECT_PROXY_CONFIG: JSON.stringify(c),
  };
}
