// TTL of service answers: service_ttl by exact name, then the longest `prefix*` key, then `*`, else 0.
export function serviceTtl(name: string, table: Readonly<Record<string, number>>): number {
  const key = name.toLowerCase();
  const exact = table[key];
  if (exact !== undefined) return exact;
  let best: number | undefined;
  let bestLen = -1;
  for (const [k, ttl] of Object.entries(table)) {
    if (!k.endsWith('*')) continue;
    const prefix = k.slice(0, -1);
    if (prefix.length > bestLen && key.startsWith(prefix)) {
      best = ttl;
      bestLen = prefix.length;
    }
  }
  return best ?? 0;
}
