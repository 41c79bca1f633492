// The shared DNS case tables: run in-process (test/unit/resolve-cases) and against a real server (dig, c-ares).
// Data only. Lines are `<owner> <ttl> IN <TYPE> <rdata>`; `<serial>` matches any SOA serial.

export interface DnsCase {
  readonly desc: string;
  readonly qname: string;
  readonly qtype: string;
  readonly rcode?: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'NOTIMP' | 'FORMERR';
  readonly answer?: readonly string[];
  readonly authority?: readonly string[];
  readonly additional?: readonly string[];
  readonly count?: { answer?: number; additional?: number };
  readonly aa?: boolean;
  readonly capture?: 'same' | 'differs';
}

// ---------------------------------------------------------------- reference (digs.txt)
const SOA = 'consul. 0 IN SOA ns.consul. hostmaster.consul. <serial> 3600 600 86400 0';
const REF_A = 'ref-node.node.dc1.consul. 0 IN A 127.0.0.1';
const NO_TXT = 'no consul-network-segment TXT (the local node has only configured node_meta)';

/** Against referenceCatalog({ managedProxyPassing: false }): the capture's "run A" for the managed proxy. */
export const referenceCases: readonly DnsCase[] = [
  {
    desc: `connect SRV: only the unmanaged proxy 8181 (managed proxy check critical, capture run A); ${NO_TXT}; Additional de-duplicated`,
    qname: 'redis.connect.consul.', qtype: 'SRV', capture: 'differs', aa: true,
    answer: ['redis.connect.consul. 0 IN SRV 1 1 8181 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: `connect A: the proxy's node address; ${NO_TXT}`, qname: 'redis.connect.consul.', qtype: 'A', capture: 'differs', aa: true,
    answer: ['redis.connect.consul. 0 IN A 127.0.0.1'],
  },
  {
    desc: `connect ANY: A only; ${NO_TXT}`, qname: 'redis.connect.consul.', qtype: 'ANY', capture: 'differs', answer: ['redis.connect.consul. 0 IN A 127.0.0.1'],
  },
  {
    desc: `connect AAAA on an IPv4 proxy: NODATA + SOA; ${NO_TXT}`, qname: 'redis.connect.consul.', qtype: 'AAAA', capture: 'differs', authority: [SOA],
  },
  {
    desc: 'connect TXT: no node meta, so NODATA + SOA (Consul answered its consul-network-segment TXT)',
    qname: 'redis.connect.consul.', qtype: 'TXT', capture: 'differs', authority: [SOA],
  },
  {
    desc: 'mixed-case question: owner echoed as asked, generated names lower-case; 8181 only (run A)',
    qname: 'REDIS.Connect.CONSUL.', qtype: 'SRV', capture: 'differs',
    answer: ['REDIS.Connect.CONSUL. 0 IN SRV 1 1 8181 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: 'explicit datacenter label; 8181 only (run A)', qname: 'redis.connect.dc1.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['redis.connect.dc1.consul. 0 IN SRV 1 1 8181 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: 'unknown datacenter: NXDOMAIN + SOA (newer Consul; 1.2.4 said SERVFAIL)',
    qname: 'redis.connect.dc2.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', capture: 'differs', authority: [SOA],
  },
  {
    desc: 'unknown datacenter, A: NXDOMAIN + SOA (1.2.4 said SERVFAIL)',
    qname: 'redis.connect.dc2.consul.', qtype: 'A', rcode: 'NXDOMAIN', capture: 'differs', authority: [SOA],
  },
  {
    desc: 'labels left of the service are ignored on .connect; 8181 only (run A)', qname: 'extra.label.redis.connect.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['extra.label.redis.connect.consul. 0 IN SRV 1 1 8181 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: 'RFC 2782 form on .connect parses as service "_tcp": NXDOMAIN',
    qname: '_redis._tcp.connect.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', capture: 'same', authority: [SOA],
  },
  { desc: 'bare keyword is invalid', qname: 'connect.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', capture: 'same', authority: [SOA] },
  { desc: 'no Connect endpoints', qname: 'nosuch.connect.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', capture: 'same', authority: [SOA] },
  {
    desc: `.service returns the plain instance; ${NO_TXT}`, qname: 'redis.service.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['redis.service.consul. 0 IN SRV 1 1 6379 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: 'proxies are ordinary services under their own name; the managed one is critical (run A)',
    qname: 'redis-proxy.service.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['redis-proxy.service.consul. 0 IN SRV 1 1 8181 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: `Connect-native service on .connect; ${NO_TXT}`, qname: 'db.connect.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['db.connect.consul. 0 IN SRV 1 1 5432 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: `Connect-native A; ${NO_TXT}`, qname: 'db.connect.consul.', qtype: 'A', capture: 'differs', answer: ['db.connect.consul. 0 IN A 127.0.0.1'],
  },
  {
    desc: `native service on .service too; ${NO_TXT}`, qname: 'db.service.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['db.service.consul. 0 IN SRV 1 1 5432 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: `critical web-bad filtered out; ${NO_TXT}`, qname: 'web.service.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['web.service.consul. 0 IN SRV 1 1 8080 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  { desc: `service A; ${NO_TXT}`, qname: 'web.service.consul.', qtype: 'A', capture: 'differs', answer: ['web.service.consul. 0 IN A 127.0.0.1'] },
  { desc: `service ANY; ${NO_TXT}`, qname: 'web.service.consul.', qtype: 'ANY', capture: 'differs', answer: ['web.service.consul. 0 IN A 127.0.0.1'] },
  {
    desc: `tag filter; ${NO_TXT}`, qname: 'primary.web.service.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['primary.web.service.consul. 0 IN SRV 1 1 8080 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: `shared tag, critical instance dropped; ${NO_TXT}`, qname: 'v1.web.service.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['v1.web.service.consul. 0 IN SRV 1 1 8080 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  { desc: 'tag only on a critical instance', qname: 'secondary.web.service.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', capture: 'same', authority: [SOA] },
  { desc: 'tag nobody has', qname: 'nosuchtag.web.service.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', capture: 'same', authority: [SOA] },
  {
    desc: `RFC 2782 with _tcp = no tag filter; ${NO_TXT}`, qname: '_web._tcp.service.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['_web._tcp.service.consul. 0 IN SRV 1 1 8080 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: `RFC 2782 with a tag; ${NO_TXT}`, qname: '_web._primary.service.consul.', qtype: 'SRV', capture: 'differs',
    answer: ['_web._primary.service.consul. 0 IN SRV 1 1 8080 ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: `RFC 2782 form with .service works for A; ${NO_TXT}`, qname: '_web._tcp.service.consul.', qtype: 'A', capture: 'differs',
    answer: ['_web._tcp.service.consul. 0 IN A 127.0.0.1'],
  },
  { desc: `node A; ${NO_TXT}`, qname: 'ref-node.node.consul.', qtype: 'A', capture: 'differs', answer: ['ref-node.node.consul. 0 IN A 127.0.0.1'] },
  { desc: `node ANY; ${NO_TXT}`, qname: 'ref-node.node.consul.', qtype: 'ANY', capture: 'differs', answer: ['ref-node.node.consul. 0 IN A 127.0.0.1'] },
  {
    desc: `node with datacenter; ${NO_TXT}`, qname: 'ref-node.node.dc1.consul.', qtype: 'A', capture: 'differs',
    answer: ['ref-node.node.dc1.consul. 0 IN A 127.0.0.1'],
  },
  { desc: 'node lookup, unsupported qtype: NOERROR, nothing, no SOA', qname: 'ref-node.node.consul.', qtype: 'SRV', capture: 'same' },
  { desc: 'unknown node', qname: 'nosuch.node.consul.', qtype: 'A', rcode: 'NXDOMAIN', capture: 'same', authority: [SOA] },
  { desc: 'unknown service, SRV', qname: 'nosuch.service.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', capture: 'same', authority: [SOA] },
  { desc: 'unknown service, A', qname: 'nosuch.service.consul.', qtype: 'A', rcode: 'NXDOMAIN', capture: 'same', authority: [SOA] },
  { desc: 'no lookup keyword', qname: 'foo.consul.', qtype: 'A', rcode: 'NXDOMAIN', capture: 'same', authority: [SOA] },
  {
    desc: 'only one label may sit between keyword and domain', qname: 'web.service.dc1.extra.consul.', qtype: 'SRV',
    rcode: 'NXDOMAIN', capture: 'same', authority: [SOA],
  },
  {
    desc: 'zone SOA with the NS set and glue', qname: 'consul.', qtype: 'SOA', capture: 'same',
    answer: [SOA], authority: ['consul. 0 IN NS ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: 'zone NS: the server itself, with glue', qname: 'consul.', qtype: 'NS', capture: 'same',
    answer: ['consul. 0 IN NS ref-node.node.dc1.consul.'], additional: [REF_A],
  },
  {
    desc: 'PTR of the node address', qname: '1.0.0.127.in-addr.arpa.', qtype: 'PTR', capture: 'same', aa: true,
    answer: ['1.0.0.127.in-addr.arpa. 0 IN PTR ref-node.node.dc1.consul.'],
  },
  {
    desc: 'outside the domain without recursors: REFUSED (newer Consul; 1.2.4 said SERVFAIL)',
    qname: 'example.com.', qtype: 'A', rcode: 'REFUSED', capture: 'differs', aa: false,
  },
];

const REF_PASSING_ANSWER = (owner: string): string[] => [
  `${owner} 0 IN SRV 1 1 8181 ref-node.node.dc1.consul.`,
  `${owner} 0 IN SRV 1 1 20120 ref-node.node.dc1.consul.`,
];

/** Against referenceCatalog({ managedProxyPassing: true }): the capture's main run, with the managed proxy up. */
export const referencePassingCases: readonly DnsCase[] = [
  {
    desc: `both proxies; Additional A once (Consul repeated A and TXT per SRV); ${NO_TXT}`, qname: 'redis.connect.consul.', qtype: 'SRV', capture: 'differs',
    answer: REF_PASSING_ANSWER('redis.connect.consul.'), additional: [REF_A],
  },
  {
    desc: `mixed case, both proxies; ${NO_TXT}`, qname: 'REDIS.Connect.CONSUL.', qtype: 'SRV', capture: 'differs',
    answer: REF_PASSING_ANSWER('REDIS.Connect.CONSUL.'), additional: [REF_A],
  },
  {
    desc: `datacenter label, both proxies; ${NO_TXT}`, qname: 'redis.connect.dc1.consul.', qtype: 'SRV', capture: 'differs',
    answer: REF_PASSING_ANSWER('redis.connect.dc1.consul.'), additional: [REF_A],
  },
  {
    desc: `extra labels ignored, both proxies; ${NO_TXT}`, qname: 'extra.label.redis.connect.consul.', qtype: 'SRV', capture: 'differs',
    answer: REF_PASSING_ANSWER('extra.label.redis.connect.consul.'), additional: [REF_A],
  },
  {
    desc: `both proxies under their shared name; ${NO_TXT}`, qname: 'redis-proxy.service.consul.', qtype: 'SRV', capture: 'differs',
    answer: REF_PASSING_ANSWER('redis-proxy.service.consul.'), additional: [REF_A],
  },
  {
    desc: `two proxies on one address: one A; ${NO_TXT}`, qname: 'redis.connect.consul.', qtype: 'A', capture: 'differs',
    answer: ['redis.connect.consul. 0 IN A 127.0.0.1'],
  },
];

// ---------------------------------------------------------------- rich catalog (richCatalog(), richContext())
const RSOA = 'consul. 60 IN SOA ns.consul. hostmaster.consul. <serial> 3600 600 86400 60';
const ALT_SOA = 'alt.example. 60 IN SOA ns.alt.example. hostmaster.alt.example. <serial> 3600 600 86400 60';
const ALPHA = 'alpha.node.lab1.consul.';
const BETA = 'beta.node.lab1.consul.';
const GAMMA = 'gamma.node.lab1.consul.';
const ALPHA_A = (ttl: number): string => `${ALPHA} ${ttl} IN A 10.0.0.1`;
const BETA_A = (ttl: number): string => `${BETA} ${ttl} IN A 10.0.0.2`;
const GAMMA_AAAA = (ttl: number): string => `${GAMMA} ${ttl} IN AAAA 2001:db8::10`;
const WEB_SRV = (owner: string, zone = 'consul.'): string[] => [
  `${owner} 5 IN SRV 1 1 80 alpha.node.lab1.${zone}`,
  `${owner} 5 IN SRV 1 1 80 beta.node.lab1.${zone}`,
  `${owner} 5 IN SRV 1 1 80 gamma.node.lab1.${zone}`,
];
const WEB_SRV_EXTRA = [ALPHA_A(5), BETA_A(5), GAMMA_AAAA(5)];
const META_TXT = (owner: string, ttl: number): string[] => [`${owner} ${ttl} IN TXT "note=c\`\`d"`, `${owner} ${ttl} IN TXT "k=v is raw"`];
const NS = 'consul. 7 IN NS rich-server.node.lab1.consul.';
const GLUE = 'rich-server.node.lab1.consul. 7 IN A 127.0.0.1';
const ALT_NS = 'alt.example. 7 IN NS rich-server.node.lab1.alt.example.';
const ALT_GLUE = 'rich-server.node.lab1.alt.example. 7 IN A 127.0.0.1';
const V6_10 = '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.';
const V6_20 = '0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.';
const HEX6_20 = '20010db8000000000000000000000020';

export const richCases: readonly DnsCase[] = [
  // .service SRV, names and grammar
  {
    desc: 'SRV: healthy and warning instances, critical-node instance dropped; node targets with their address', aa: true,
    qname: 'web.service.consul.', qtype: 'SRV', answer: WEB_SRV('web.service.consul.'), additional: WEB_SRV_EXTRA,
  },
  {
    desc: 'mixed case: owner as asked, datacenter and zone lower-case in targets',
    qname: 'WEB.Service.LAB1.Consul.', qtype: 'SRV', answer: WEB_SRV('WEB.Service.LAB1.Consul.'), additional: WEB_SRV_EXTRA,
  },
  {
    desc: 'alt domain: generated names and glue in the zone the question used',
    qname: 'web.service.alt.example.', qtype: 'SRV', answer: WEB_SRV('web.service.alt.example.', 'alt.example.'), additional: [
      'alpha.node.lab1.alt.example. 5 IN A 10.0.0.1', 'beta.node.lab1.alt.example. 5 IN A 10.0.0.2',
      'gamma.node.lab1.alt.example. 5 IN AAAA 2001:db8::10',
    ],
  },
  { desc: 'A: one per address, IPv4 only', qname: 'web.service.consul.', qtype: 'A', answer: ['web.service.consul. 5 IN A 10.0.0.1', 'web.service.consul. 5 IN A 10.0.0.2'] },
  { desc: 'AAAA: IPv6 instance only', qname: 'web.service.consul.', qtype: 'AAAA', answer: ['web.service.consul. 5 IN AAAA 2001:db8::10'] },
  {
    desc: 'ANY: both families', qname: 'web.service.consul.', qtype: 'ANY',
    answer: ['web.service.consul. 5 IN A 10.0.0.1', 'web.service.consul. 5 IN A 10.0.0.2', 'web.service.consul. 5 IN AAAA 2001:db8::10'],
  },
  { desc: 'instances exist, no RR of that type: NODATA + SOA', qname: 'web.service.consul.', qtype: 'MX', authority: [RSOA] },
  {
    desc: 'dotted tag', qname: 'v1.2.web.service.consul.', qtype: 'SRV',
    answer: [`v1.2.web.service.consul. 5 IN SRV 1 1 80 ${ALPHA}`, `v1.2.web.service.consul. 5 IN SRV 1 1 80 ${GAMMA}`], additional: [ALPHA_A(5), GAMMA_AAAA(5)],
  },
  { desc: 'tag filter', qname: 'primary.web.service.consul.', qtype: 'SRV', answer: [`primary.web.service.consul. 5 IN SRV 1 1 80 ${ALPHA}`], additional: [ALPHA_A(5)] },
  { desc: 'RFC 2782 with a tag', qname: '_web._v2.service.consul.', qtype: 'SRV', answer: [`_web._v2.service.consul. 5 IN SRV 1 1 80 ${BETA}`], additional: [BETA_A(5)] },
  {
    desc: 'RFC 2782 SRV without .service, with datacenter', qname: '_web._tcp.lab1.consul.', qtype: 'SRV',
    answer: WEB_SRV('_web._tcp.lab1.consul.'), additional: WEB_SRV_EXTRA,
  },
  { desc: 'RFC 2782 with .service, A', qname: '_web._tcp.service.consul.', qtype: 'A', answer: ['_web._tcp.service.consul. 5 IN A 10.0.0.1', '_web._tcp.service.consul. 5 IN A 10.0.0.2'] },
  { desc: '.service may be left out only for SRV', qname: '_web._primary.consul.', qtype: 'A', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'tag with no instances', qname: 'nosuchtag.web.service.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'all instances filtered by a critical node check', qname: 'cache.service.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'unknown service', qname: 'nosuch.service.consul.', qtype: 'A', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'unknown datacenter', qname: 'web.service.nodc.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'unknown datacenter, alt domain SOA', qname: 'web.service.nodc.alt.example.', qtype: 'A', rcode: 'NXDOMAIN', authority: [ALT_SOA] },
  // weights and TTLs
  {
    desc: 'weights: passing 10, warning 1; service_ttl exact "db" = 10s wins over "d*"', qname: 'db.service.consul.', qtype: 'SRV',
    answer: [`db.service.consul. 10 IN SRV 1 10 5432 ${ALPHA}`, `db.service.consul. 10 IN SRV 1 1 5432 ${BETA}`], additional: [ALPHA_A(10), BETA_A(10)],
  },
  {
    desc: 'service_ttl prefix "d*" = 42s; a service address equal to its node\'s keeps the node target', qname: 'dash.service.consul.', qtype: 'SRV',
    answer: [`dash.service.consul. 42 IN SRV 1 1 3000 ${ALPHA}`], additional: [ALPHA_A(42)],
  },
  { desc: 'a proxy\'s own name takes its own TTL ("d*")', qname: 'db-proxy.service.consul.', qtype: 'SRV', answer: [`db-proxy.service.consul. 42 IN SRV 1 1 21002 ${ALPHA}`], additional: [ALPHA_A(42)] },
  // .connect
  { desc: '.connect TTL by the destination name ("db" = 10s), not the proxy\'s', qname: 'db.connect.consul.', qtype: 'SRV', answer: [`db.connect.consul. 10 IN SRV 1 1 21002 ${ALPHA}`], additional: [ALPHA_A(10)] },
  {
    desc: '.connect: proxies on several nodes, the critical one dropped', qname: 'web.connect.consul.', qtype: 'SRV',
    answer: [`web.connect.consul. 5 IN SRV 1 1 21000 ${ALPHA}`, `web.connect.consul. 5 IN SRV 1 1 21000 ${BETA}`], additional: [ALPHA_A(5), BETA_A(5)],
  },
  {
    desc: '.connect ignores labels left of the service', qname: 'extra.web.connect.consul.', qtype: 'SRV',
    answer: [`extra.web.connect.consul. 5 IN SRV 1 1 21000 ${ALPHA}`, `extra.web.connect.consul. 5 IN SRV 1 1 21000 ${BETA}`], additional: [ALPHA_A(5), BETA_A(5)],
  },
  { desc: 'Connect-native on an IPv6 node', qname: 'native.connect.consul.', qtype: 'SRV', answer: [`native.connect.consul. 5 IN SRV 1 1 9090 ${GAMMA}`], additional: [GAMMA_AAAA(5)] },
  { desc: 'Connect-native AAAA', qname: 'native.connect.consul.', qtype: 'AAAA', answer: ['native.connect.consul. 5 IN AAAA 2001:db8::10'] },
  { desc: 'a plain instance is never a Connect endpoint', qname: 'api.connect.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [RSOA] },
  {
    desc: 'proxies by their own name', qname: 'web-proxy.service.consul.', qtype: 'SRV',
    answer: [`web-proxy.service.consul. 5 IN SRV 1 1 21000 ${ALPHA}`, `web-proxy.service.consul. 5 IN SRV 1 1 21000 ${BETA}`], additional: [ALPHA_A(5), BETA_A(5)],
  },
  // service addresses
  {
    desc: 'IPv4 service address: .addr target', qname: 'api.service.consul.', qtype: 'SRV',
    answer: ['api.service.consul. 5 IN SRV 1 1 8080 0a000014.addr.lab1.consul.'], additional: ['0a000014.addr.lab1.consul. 5 IN A 10.0.0.20'],
  },
  { desc: 'service address wins over the node address', qname: 'api.service.consul.', qtype: 'A', answer: ['api.service.consul. 5 IN A 10.0.0.20'] },
  { desc: 'IPv4 service, AAAA: NODATA + SOA', qname: 'api.service.consul.', qtype: 'AAAA', authority: [RSOA] },
  {
    desc: 'IPv6 service address: 32-hex .addr target', qname: 'api6.service.consul.', qtype: 'SRV',
    answer: [`api6.service.consul. 5 IN SRV 1 1 8080 ${HEX6_20}.addr.lab1.consul.`], additional: [`${HEX6_20}.addr.lab1.consul. 5 IN AAAA 2001:db8::20`],
  },
  { desc: 'IPv6 service address AAAA', qname: 'api6.service.consul.', qtype: 'AAAA', answer: ['api6.service.consul. 5 IN AAAA 2001:db8::20'] },
  { desc: 'hostname service address outside the zone: SRV target is the hostname', qname: 'extsvc.service.consul.', qtype: 'SRV', answer: ['extsvc.service.consul. 5 IN SRV 1 1 443 ext.example.com.'] },
  { desc: 'hostname service address, A: CNAME only (no recursors)', qname: 'extsvc.service.consul.', qtype: 'A', answer: ['extsvc.service.consul. 5 IN CNAME ext.example.com.'] },
  {
    desc: 'in-zone hostname: CNAME plus its addresses of the asked family', qname: 'alias.service.consul.', qtype: 'A',
    answer: ['alias.service.consul. 5 IN CNAME web.service.consul.', 'web.service.consul. 5 IN A 10.0.0.1', 'web.service.consul. 5 IN A 10.0.0.2'],
  },
  {
    desc: 'in-zone hostname, AAAA', qname: 'alias.service.consul.', qtype: 'AAAA',
    answer: ['alias.service.consul. 5 IN CNAME web.service.consul.', 'web.service.consul. 5 IN AAAA 2001:db8::10'],
  },
  {
    desc: 'in-zone hostname as SRV target, its addresses in Additional', qname: 'alias.service.consul.', qtype: 'SRV',
    answer: ['alias.service.consul. 5 IN SRV 1 1 80 web.service.consul.'],
    additional: ['web.service.consul. 5 IN A 10.0.0.1', 'web.service.consul. 5 IN A 10.0.0.2', 'web.service.consul. 5 IN AAAA 2001:db8::10'],
  },
  {
    desc: 'asked in the alt domain, the consul. target still resolves', qname: 'alias.service.alt.example.', qtype: 'A',
    answer: ['alias.service.alt.example. 5 IN CNAME web.service.consul.', 'web.service.consul. 5 IN A 10.0.0.1', 'web.service.consul. 5 IN A 10.0.0.2'],
  },
  { desc: 'loop guard: a service addressed by the name asked answers with its node', qname: 'loop.service.consul.', qtype: 'A', answer: ['loop.service.consul. 5 IN A 10.0.0.2'] },
  {
    desc: 'self-named SRV target resolves once', qname: 'loop.service.consul.', qtype: 'SRV',
    answer: ['loop.service.consul. 5 IN SRV 1 1 80 loop.service.consul.'], additional: ['loop.service.consul. 5 IN A 10.0.0.2'],
  },
  { desc: 'a CNAME cycle (ping → pong → ping) ends with just the CNAME', qname: 'ping.service.consul.', qtype: 'A', answer: ['ping.service.consul. 5 IN CNAME pong.service.consul.'] },
  { desc: 'hostname node address: SRV target is the hostname', qname: 'legacy.service.consul.', qtype: 'SRV', answer: ['legacy.service.consul. 5 IN SRV 1 1 25 host.example.org.'] },
  { desc: 'hostname node address, A: CNAME', qname: 'legacy.service.consul.', qtype: 'A', answer: ['legacy.service.consul. 5 IN CNAME host.example.org.'] },
  {
    desc: 'node name with dots in the target', qname: 'ondots.service.consul.', qtype: 'SRV',
    answer: ['ondots.service.consul. 5 IN SRV 1 1 1234 node.with.dots.node.lab1.consul.'], additional: ['node.with.dots.node.lab1.consul. 5 IN A 10.0.0.5'],
  },
  // node meta TXT
  {
    desc: 'node meta TXT (RFC 1464; rfc1035- key raw) in Additional, owned by the node target', qname: 'metrics.service.consul.', qtype: 'SRV',
    answer: ['metrics.service.consul. 5 IN SRV 1 1 9100 meta-node.node.lab1.consul.'],
    additional: ['meta-node.node.lab1.consul. 5 IN A 10.0.0.6', ...META_TXT('meta-node.node.lab1.consul.', 5)],
  },
  {
    desc: 'A: node meta TXT in Additional', qname: 'metrics.service.consul.', qtype: 'A',
    answer: ['metrics.service.consul. 5 IN A 10.0.0.6'], additional: META_TXT('metrics.service.consul.', 5),
  },
  { desc: 'ANY: node meta TXT in Answer', qname: 'metrics.service.consul.', qtype: 'ANY', answer: ['metrics.service.consul. 5 IN A 10.0.0.6', ...META_TXT('metrics.service.consul.', 5)] },
  { desc: 'TXT: node meta', qname: 'metrics.service.consul.', qtype: 'TXT', answer: META_TXT('metrics.service.consul.', 5) },
  { desc: 'AAAA on IPv4: NODATA + SOA, meta TXT still in Additional', qname: 'metrics.service.consul.', qtype: 'AAAA', authority: [RSOA], additional: META_TXT('metrics.service.consul.', 5) },
  // .node
  { desc: 'node A, node_ttl', qname: 'alpha.node.consul.', qtype: 'A', answer: ['alpha.node.consul. 7 IN A 10.0.0.1'] },
  { desc: 'node, mixed case with datacenter', qname: 'Alpha.Node.LAB1.Consul.', qtype: 'A', answer: ['Alpha.Node.LAB1.Consul. 7 IN A 10.0.0.1'] },
  { desc: 'node in the alt domain', qname: 'alpha.node.alt.example.', qtype: 'A', answer: ['alpha.node.alt.example. 7 IN A 10.0.0.1'] },
  { desc: 'node without an RR of that family: NOERROR, no SOA', qname: 'alpha.node.consul.', qtype: 'AAAA' },
  { desc: 'node lookup, unsupported qtype: NOERROR, no SOA', qname: 'alpha.node.consul.', qtype: 'SRV' },
  { desc: 'IPv6 node', qname: 'gamma.node.consul.', qtype: 'AAAA', answer: ['gamma.node.consul. 7 IN AAAA 2001:db8::10'] },
  { desc: 'IPv6 node, ANY', qname: 'gamma.node.consul.', qtype: 'ANY', answer: ['gamma.node.consul. 7 IN AAAA 2001:db8::10'] },
  { desc: 'node name with dots', qname: 'node.with.dots.node.consul.', qtype: 'A', answer: ['node.with.dots.node.consul. 7 IN A 10.0.0.5'] },
  { desc: 'hostname node address: CNAME', qname: 'ext-node.node.consul.', qtype: 'A', answer: ['ext-node.node.consul. 7 IN CNAME host.example.org.'] },
  { desc: 'node meta A: TXT in Additional', qname: 'meta-node.node.consul.', qtype: 'A', answer: ['meta-node.node.consul. 7 IN A 10.0.0.6'], additional: META_TXT('meta-node.node.consul.', 7) },
  { desc: 'node meta TXT', qname: 'meta-node.node.consul.', qtype: 'TXT', answer: META_TXT('meta-node.node.consul.', 7) },
  { desc: 'node meta, AAAA on IPv4: no SOA, TXT in Additional', qname: 'meta-node.node.consul.', qtype: 'AAAA', additional: META_TXT('meta-node.node.consul.', 7) },
  { desc: 'the local node carries its configured node_meta', qname: 'rich-server.node.consul.', qtype: 'TXT', answer: ['rich-server.node.consul. 7 IN TXT "role=dns"'] },
  { desc: 'one of 100 nodes', qname: 'big-42.node.consul.', qtype: 'A', answer: ['big-42.node.consul. 7 IN A 10.1.0.42'] },
  { desc: 'unknown node', qname: 'nosuch.node.consul.', qtype: 'A', rcode: 'NXDOMAIN', authority: [RSOA] },
  // .addr
  { desc: '.addr IPv4, owner lower-cased, node_ttl', qname: '0a000001.addr.consul.', qtype: 'A', answer: ['0a000001.addr.consul. 7 IN A 10.0.0.1'] },
  { desc: '.addr mixed case: owner is the lower-cased name', qname: '0A000001.ADDR.Consul.', qtype: 'A', answer: ['0a000001.addr.consul. 7 IN A 10.0.0.1'] },
  { desc: '.addr ANY with datacenter', qname: '0a000014.addr.lab1.consul.', qtype: 'ANY', answer: ['0a000014.addr.lab1.consul. 7 IN A 10.0.0.20'] },
  { desc: '.addr IPv6', qname: `${HEX6_20}.addr.lab1.consul.`, qtype: 'AAAA', answer: [`${HEX6_20}.addr.lab1.consul. 7 IN AAAA 2001:db8::20`] },
  { desc: '.addr other qtype: NODATA + SOA, the A in Additional', qname: '0a000001.addr.consul.', qtype: 'SRV', authority: [RSOA], additional: ['0a000001.addr.consul. 7 IN A 10.0.0.1'] },
  { desc: '.addr IPv4 asked AAAA: the A in Additional', qname: '0a000001.addr.consul.', qtype: 'AAAA', authority: [RSOA], additional: ['0a000001.addr.consul. 7 IN A 10.0.0.1'] },
  { desc: '.addr IPv6 asked A: the AAAA in Additional', qname: `${HEX6_20}.addr.consul.`, qtype: 'A', authority: [RSOA], additional: [`${HEX6_20}.addr.consul. 7 IN AAAA 2001:db8::20`] },
  { desc: '.addr wrong length: NOERROR, nothing, no SOA', qname: '0a0001.addr.consul.', qtype: 'A' },
  { desc: '.addr not hex', qname: '0a00000g.addr.consul.', qtype: 'A', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: '.addr takes one label', qname: 'x.y.addr.consul.', qtype: 'A', rcode: 'NXDOMAIN', authority: [RSOA] },
  // PTR
  { desc: 'PTR of a node (TTL 0)', qname: '1.0.0.10.in-addr.arpa.', qtype: 'PTR', aa: true, answer: [`1.0.0.10.in-addr.arpa. 0 IN PTR ${ALPHA}`] },
  { desc: 'PTR, mixed case', qname: '1.0.0.10.IN-ADDR.ARPA.', qtype: 'PTR', answer: [`1.0.0.10.IN-ADDR.ARPA. 0 IN PTR ${ALPHA}`] },
  { desc: 'PTR of a service address', qname: '20.0.0.10.in-addr.arpa.', qtype: 'PTR', answer: ['20.0.0.10.in-addr.arpa. 0 IN PTR api.service.lab1.consul.'] },
  { desc: 'PTR of an IPv6 node', qname: V6_10, qtype: 'PTR', answer: [`${V6_10} 0 IN PTR ${GAMMA}`] },
  { desc: 'PTR of an IPv6 service address', qname: V6_20, qtype: 'PTR', answer: [`${V6_20} 0 IN PTR api6.service.lab1.consul.`] },
  { desc: 'PTR of the local node', qname: '1.0.0.127.in-addr.arpa.', qtype: 'PTR', answer: ['1.0.0.127.in-addr.arpa. 0 IN PTR rich-server.node.lab1.consul.'] },
  { desc: 'PTR of one of 100 nodes', qname: '42.0.1.10.in-addr.arpa.', qtype: 'PTR', answer: ['42.0.1.10.in-addr.arpa. 0 IN PTR big-42.node.lab1.consul.'] },
  { desc: 'PTR of a node with dots', qname: '5.0.0.10.in-addr.arpa.', qtype: 'PTR', answer: ['5.0.0.10.in-addr.arpa. 0 IN PTR node.with.dots.node.lab1.consul.'] },
  { desc: 'PTR miss without recursors: NXDOMAIN + SOA of the domain', qname: '9.9.9.10.in-addr.arpa.', qtype: 'PTR', rcode: 'NXDOMAIN', authority: [RSOA] },
  // apex, invalid names, out of zone
  { desc: 'zone SOA: NS set in Authority, glue in Additional', qname: 'consul.', qtype: 'SOA', answer: [RSOA], authority: [NS], additional: [GLUE] },
  { desc: 'zone NS', qname: 'consul.', qtype: 'NS', answer: [NS], additional: [GLUE] },
  { desc: 'SOA at a deep name', qname: 'deep.name.web.service.consul.', qtype: 'SOA', answer: [RSOA], authority: [NS], additional: [GLUE] },
  { desc: 'alt domain SOA', qname: 'alt.example.', qtype: 'SOA', answer: [ALT_SOA], authority: [ALT_NS], additional: [ALT_GLUE] },
  { desc: 'NS at a deep name in the alt domain', qname: 'something.node.alt.example.', qtype: 'NS', answer: [ALT_NS], additional: [ALT_GLUE] },
  { desc: 'zone apex, other qtype: invalid', qname: 'consul.', qtype: 'A', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'bare .service', qname: 'service.consul.', qtype: 'A', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'bare .node', qname: 'node.consul.', qtype: 'A', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'bare .query', qname: 'query.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'two labels between keyword and domain', qname: 'foo.node.lab1.extra.consul.', qtype: 'A', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'prepared queries are not served: query not found', qname: 'anything.query.consul.', qtype: 'SRV', rcode: 'NXDOMAIN', authority: [RSOA] },
  { desc: 'outside every zone, no recursors: REFUSED', qname: 'example.com.', qtype: 'A', rcode: 'REFUSED', aa: false },
];

/** Against richCatalog() with richContext({ onlyPassing: true }) (dns_config.only_passing = true). */
export const richOnlyPassingCases: readonly DnsCase[] = [
  {
    desc: 'only_passing drops the warning instance', qname: 'web.service.consul.', qtype: 'SRV',
    answer: [`web.service.consul. 5 IN SRV 1 1 80 ${ALPHA}`, `web.service.consul. 5 IN SRV 1 1 80 ${GAMMA}`], additional: [ALPHA_A(5), GAMMA_AAAA(5)],
  },
  { desc: 'only_passing, A', qname: 'web.service.consul.', qtype: 'A', answer: ['web.service.consul. 5 IN A 10.0.0.1'] },
  { desc: 'only_passing, weights', qname: 'db.service.consul.', qtype: 'SRV', answer: [`db.service.consul. 10 IN SRV 1 10 5432 ${ALPHA}`], additional: [ALPHA_A(10)] },
];
