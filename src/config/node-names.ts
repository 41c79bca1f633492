// Node names DNS cannot carry: Consul registers them anyway, so they load with one warning each.
import type { Config } from './types.js';

/** The longest name on the wire, length octets and the root included (RFC 1035 §3.1). */
const MAX_WIRE_NAME = 255;
const MAX_LABEL = 63;
const PRINTABLE = /^[\x21-\x7e]*$/;

/**
 * Why `<node>.node.<dc>.<domain>` cannot be a DNS name, or undefined when it can. Node names may hold
 * dots (the lookup joins the labels back), so each dotted part is a label of 1–63 printable ASCII octets.
 * `domain` is fully qualified ("consul.").
 */
export function nodeNameProblem(node: string, datacenter: string, domain: string): string | undefined {
  if (!PRINTABLE.test(node)) return 'its name has characters DNS names cannot carry';
  const labels = node.split('.');
  if (labels.some((l) => l.length === 0)) return 'its name has an empty label (a leading, trailing or doubled ".")';
  if (labels.some((l) => l.length > MAX_LABEL)) return `its name has a part longer than ${MAX_LABEL} characters`;
  const suffix = `node.${datacenter}.${domain}`;
  // Text "a.b." is 5 octets on the wire ("\x01a\x01b\x00"): one more than its length.
  const wire = node.length + 1 + suffix.length + 1;
  if (wire > MAX_WIRE_NAME) return `its name is too long: ${node}.${suffix} would be ${wire} octets, more than ${MAX_WIRE_NAME}`;
  return undefined;
}

/** Where the agent's own node name was set, as a "file: key" prefix; none for the host name default. */
export interface NodeNameOrigin { readonly file: string; readonly key: string }

/** One warning per distinct node name that no DNS question can reach, naming where it was first set. */
export function nodeNameWarnings(config: Config, agentOrigin?: NodeNameOrigin): string[] {
  const candidates: { name: string; where?: NodeNameOrigin }[] = [
    { name: config.nodeName, ...(agentOrigin ? { where: agentOrigin } : {}) },
    ...config.nodes.map((n) => ({ name: n.node, where: { file: n.source.file, key: `${n.source.key ?? 'nodes'}.node` } })),
  ];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const { name, where } of candidates) {
    if (seen.has(name)) continue;
    seen.add(name);
    const problem = nodeNameProblem(name, config.datacenter, config.domain);
    if (problem === undefined) continue;
    const prefix = where ? `${where.file}: ${where.key}: ` : '';
    out.push(`${prefix}node ${JSON.stringify(name)} will not be discoverable via DNS: ${problem}`);
  }
  return out;
}
