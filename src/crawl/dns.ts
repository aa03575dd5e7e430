/**
 * Hostname resolution over DNS-over-HTTPS (RFC 8484's JSON flavour, as served by
 * cloudflare-dns.com/dns-query): Workers have no DNS API, so the SSRF check asks a DoH resolver
 * for A and AAAA records and judges every address it gets back.
 */

/**
 * The addresses a name resolved to (empty when it has none: NXDOMAIN or no data), and the CNAME
 * targets met on the way.
 */
export type DnsResult = { ok: true; addresses: string[]; aliases: string[] } | { ok: false; message: string };

/** Resolves a hostname (already lowercased, punycoded, without a trailing dot). */
export type Resolve = (hostname: string, signal?: AbortSignal) => Promise<DnsResult>;

const TYPE_A = 1;
const TYPE_CNAME = 5;
const TYPE_AAAA = 28;
/** Answers are cached for their TTL but never longer than this, so a changed record is seen soon. */
const MAX_CACHE_SECONDS = 60;
/** Cache time for NXDOMAIN / no-data when the answer carries no SOA TTL. */
const NEGATIVE_CACHE_SECONDS = 5;
const MAX_CACHE_ENTRIES = 1000;

type TypeAnswer = { kind: 'records'; addresses: string[]; aliases: string[] } | { kind: 'error'; message: string };

// Deliberate per-isolate state: a short DNS cache keyed by resolver, type and name. Entries
// expire by TTL (≤ 60 s) and the map is bounded; an isolate never shares it across accounts.
const cache = new Map<string, { expiresAt: number; answer: TypeAnswer }>();

/**
 * A resolver that queries `resolverUrl` (e.g. https://cloudflare-dns.com/dns-query) with
 * `?name=…&type=A|AAAA` and `accept: application/dns-json`. Fails closed: if either query
 * fails (resolver unreachable, SERVFAIL, unreadable answer), the name counts as unresolved,
 * because the addresses we did not see are ones `fetch` might use. NXDOMAIN and no-data are
 * answers, not failures: they give no addresses for that type (the caller refuses a name with
 * no addresses at all).
 */
export function dohResolver(resolverUrl: string, fetcher: typeof fetch = fetch, now: () => number = Date.now): Resolve {
  return async (hostname, signal) => {
    const [a, aaaa] = await Promise.all([
      lookup(resolverUrl, hostname, TYPE_A, fetcher, now, signal),
      lookup(resolverUrl, hostname, TYPE_AAAA, fetcher, now, signal),
    ]);
    if (a.kind === 'error') return { ok: false, message: a.message };
    if (aaaa.kind === 'error') return { ok: false, message: aaaa.message };
    const addresses = [...a.addresses, ...aaaa.addresses];
    return { ok: true, addresses, aliases: [...new Set([...a.aliases, ...aaaa.aliases])] };
  };
}

async function lookup(
  resolverUrl: string,
  name: string,
  type: number,
  fetcher: typeof fetch,
  now: () => number,
  signal?: AbortSignal,
): Promise<TypeAnswer> {
  const key = `${resolverUrl} ${type} ${name}`;
  const cached = cache.get(key);
  if (cached && cached.expiresAt > now()) return cached.answer;

  const url = new URL(resolverUrl);
  url.searchParams.set('name', name);
  url.searchParams.set('type', type === TYPE_A ? 'A' : 'AAAA');
  let body: unknown;
  try {
    const res = await fetcher(url.href, { headers: { accept: 'application/dns-json' }, signal });
    if (!res.ok) {
      await res.body?.cancel();
      return { kind: 'error', message: `DNS resolver answered HTTP ${res.status} for ${name}` };
    }
    body = await res.json();
  } catch (err) {
    return {
      kind: 'error',
      message: `DNS resolver unreachable for ${name}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const parsed = parseDnsJson(body, type);
  if (!parsed) return { kind: 'error', message: `DNS resolver sent an unreadable answer for ${name}` };
  if (parsed.status !== 0 && parsed.status !== 3) {
    return { kind: 'error', message: `DNS lookup of ${name} failed (RCODE ${parsed.status})` };
  }
  const answer: TypeAnswer = { kind: 'records', addresses: parsed.addresses, aliases: parsed.aliases };
  const ttl = parsed.addresses.length > 0 ? parsed.ttl : (parsed.negativeTtl ?? NEGATIVE_CACHE_SECONDS);
  if (cache.size >= MAX_CACHE_ENTRIES) cache.delete(cache.keys().next().value ?? '');
  cache.set(key, { expiresAt: now() + Math.min(Math.max(ttl, 0), MAX_CACHE_SECONDS) * 1000, answer });
  return answer;
}

interface ParsedAnswer {
  status: number;
  addresses: string[];
  aliases: string[];
  /** Smallest TTL among the records used. */
  ttl: number;
  /** TTL of the SOA in the authority section (negative caching), if any. */
  negativeTtl?: number;
}

/** Reads the dns-json shape: `{ Status, Answer?: [{ name, type, TTL, data }], Authority? }`. */
function parseDnsJson(body: unknown, type: number): ParsedAnswer | null {
  if (typeof body !== 'object' || body === null || !('Status' in body) || typeof body.Status !== 'number') return null;
  const records = (list: unknown): Array<{ type: number; ttl: number; data: string }> =>
    Array.isArray(list)
      ? list.flatMap((r: unknown) =>
          typeof r === 'object' && r !== null && 'type' in r && 'data' in r && typeof r.type === 'number'
            ? [
                {
                  type: r.type,
                  ttl: 'TTL' in r && typeof r.TTL === 'number' ? r.TTL : 0,
                  data: typeof r.data === 'string' ? r.data : '',
                },
              ]
            : [],
        )
      : [];
  const answers = records('Answer' in body ? body.Answer : undefined);
  const used = answers.filter((r) => r.type === type || r.type === TYPE_CNAME);
  const authority = records('Authority' in body ? body.Authority : undefined);
  return {
    status: body.Status,
    addresses: used.filter((r) => r.type === type).map((r) => r.data.trim()),
    aliases: used.filter((r) => r.type === TYPE_CNAME).map((r) => r.data.trim().toLowerCase().replace(/\.$/, '')),
    ttl: used.length > 0 ? Math.min(...used.map((r) => r.ttl)) : 0,
    negativeTtl: authority.length > 0 ? Math.min(...authority.map((r) => r.ttl)) : undefined,
  };
}
