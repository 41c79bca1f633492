// Whether a name built from catalog data (node and service names) can be written on the wire as it reads.
/** Octets a name takes on the wire, root label included (RFC 1035 §2.3.4 caps it at 255). */
const MAX_NAME_OCTETS = 255;
const LABEL = /^[\x21-\x2d\x2f-\x7e]{1,63}$/;

/**
 * True when `fqdn` (trailing dot optional) splits into labels of 1–63 printable ASCII characters
 * (0x21–0x7e) and fits in 255 octets: the names the encoder accepts. Catalog names with spaces,
 * non-ASCII letters or over-long labels fail, and such a node is "not discoverable via DNS", as in
 * Consul; checking here keeps one bad name from costing the whole reply.
 */
export function isDnsName(fqdn: string): boolean {
  const bare = fqdn.endsWith('.') ? fqdn.slice(0, -1) : fqdn;
  if (bare === '') return true;
  let octets = 1;
  for (const label of bare.split('.')) {
    if (!LABEL.test(label)) return false;
    octets += label.length + 1;
  }
  return octets <= MAX_NAME_OCTETS;
}
