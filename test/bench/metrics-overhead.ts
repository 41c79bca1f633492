// In-process cost of the Prometheus metrics: the router handler called N times with noop vs Prometheus metrics, ns/query.
//
//   node --import tsx test/bench/metrics-overhead.ts [--n 1000000] [--rounds 5]
//
// Rounds alternate so drift (CPU frequency, GC) hits all; the median round is reported. "timed" is a sink that does
// nothing but is not noopMetrics, so the router reads its clock: it splits the router's timing cost from the hooks'.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { catalogFromConfig } from '../../src/catalog/from-config.js';
import { createRegistry } from '../../src/catalog/registry.js';
import { loadConfig } from '../../src/config/load.js';
import type { QueryHandler } from '../../src/dns/server.js';
import { noopMetrics, type DnsMetrics } from '../../src/metrics/types.js';
import { createPrometheusMetrics } from '../../src/metrics/prometheus.js';
import { createQueryHandler } from '../../src/router.js';
import { toEncodeOptions, toResolveContext } from '../../src/server.js';
import { pino } from 'pino';
import { buildQuery } from '../helpers/dns-client.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '5' } } });
const N = Number(values.n);
const ROUNDS = Number(values.rounds);
const REFERENCE_DIR = fileURLToPath(new URL('../fixtures/reference/', import.meta.url));
const CLIENT = { address: '127.0.0.1', port: 40000 };

const { config } = await loadConfig({ files: [], dirs: [REFERENCE_DIR] }, { client: '127.0.0.1', dnsPort: 0 }, { hostname: 'bench' });
const registry = createRegistry(catalogFromConfig(config));
const context = toResolveContext(config);
const encode = toEncodeOptions(config);
const logger = pino({ level: 'warn' });

function handlerWith(metrics: DnsMetrics, cache: boolean): QueryHandler {
  return createQueryHandler({
    snapshot: () => registry.current(), context: () => context, encode: () => encode, forwarder: () => undefined,
    logger, metrics, ...(cache ? {} : { cache: false as const }),
  });
}

const QUERIES = [
  buildQuery({ name: 'redis.connect.consul.', type: 'SRV', id: 1, edns: { udpSize: 1232 } }),
  buildQuery({ name: 'Redis.Connect.Consul.', type: 'A', id: 2 }),
  buildQuery({ name: 'web.service.consul.', type: 'SRV', id: 3, edns: { udpSize: 1232 } }),
  buildQuery({ name: 'nope.service.consul.', type: 'A', id: 4 }),
];

function run(handler: QueryHandler): number {
  let bytes = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const out = handler(QUERIES[i & 3] as Buffer, 'udp', CLIENT);
    if (out instanceof Buffer) bytes += out.length;
  }
  const ns = Number(process.hrtime.bigint() - start) / N;
  if (bytes === 0) throw new Error('no replies: the benchmark measured nothing');
  return ns;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

console.log(`metrics overhead: router handler, ${N} queries x ${ROUNDS} rounds, node ${process.version}`);
for (const cache of [true, false]) {
  const handlers = [handlerWith(noopMetrics, cache), handlerWith({ ...noopMetrics }, cache), handlerWith(createPrometheusMetrics(), cache)];
  for (const h of handlers) run(h); // warm all, so no round pays for JIT
  const rounds: number[][] = handlers.map(() => []);
  for (let r = 0; r < ROUNDS; r++) handlers.forEach((h, i) => rounds[i]?.push(run(h)));
  const [noop, timed, prom] = rounds.map(median) as [number, number, number];
  const pct = (x: number): string => `${(((x - noop) / noop) * 100).toFixed(1)}%`;
  const label = cache ? 'reply cache on (hits)' : 'reply cache off (resolve + encode)';
  console.log(`${label.padEnd(36)} noop ${noop.toFixed(0).padStart(6)} ns   timed ${timed.toFixed(0).padStart(6)} ns (${pct(timed)})   `
    + `prometheus ${prom.toFixed(0).padStart(6)} ns (${pct(prom)}, hooks alone ${(prom - timed).toFixed(0)} ns)`);
}
