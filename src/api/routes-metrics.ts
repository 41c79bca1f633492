// GET /metrics: Prometheus text, outside /v1/ (where scrapers look), with no token and no blocking.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const METRICS_PATH = '/metrics';

/** What the endpoint needs from src/metrics/prometheus.ts (PrometheusMetrics satisfies it). */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(text);
}

/**
 * Answers a request for METRICS_PATH. It bypasses the /v1/ route table because that table's replies are JSON;
 * a rejected render() is left to the caller's error mapping (500).
 */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse, metrics: MetricsSource | undefined): Promise<void> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return plain(res, 405, `Method ${method} not allowed on ${METRICS_PATH} (allowed: GET, HEAD)`);
  }
  if (!metrics) return plain(res, 404, 'Metrics are not enabled on this agent');
  const text = await metrics.render();
  if (res.destroyed) return;
  res.statusCode = 200;
  res.setHeader('Content-Type', metrics.contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.end(text);
}
