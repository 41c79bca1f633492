// The contract of the managed-proxy supervisor (src/proxy/), used by the API and the composition root.

export interface ProxySupervisor {
  /** The proxy's own token (CONSUL_PROXY_TOKEN), minted when its process is first started. */
  tokenFor(proxyId: string): string | undefined;
  /** Which proxy a token belongs to, if it is a proxy token. */
  proxyForToken(token: string): string | undefined;
  /** Processes currently running, by proxy ID (for tests and /v1/agent/self). */
  running(): ReadonlyMap<string, { readonly pid: number; readonly restarts: number }>;
  close(): Promise<void>;
}

/** What /v1/agent/connect/proxy/:id returns (Consul 1.2's ConnectManagedProxy shape). */
export interface ProxyConfigView {
  readonly ProxyServiceID: string;
  readonly TargetServiceID: string;
  readonly TargetServiceName: string;
  readonly ContentHash: string;
  readonly ExecMode: 'daemon' | 'script';
  readonly Command: readonly string[];
  readonly Config: Readonly<Record<string, unknown>>;
}
