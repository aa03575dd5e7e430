/**
 * The SSRF gate: decides whether the crawler may fetch a URL, before every request and again
 * for every redirect hop. Fails closed — anything it cannot prove public is refused.
 *
 * Workers' fetch resolves the hostname again itself, so this check cannot pin the address it
 * judged: a DNS answer that changes between our lookup and fetch's (rebinding) is not caught
 * here. What it does guarantee is that no URL whose name, literal or current DNS answer points
 * at a non-public range is requested, and that IP literals (which production Workers cannot
 * fetch anyway) never are.
 */
import type { Resolve } from './dns';
import { classifyAddress, describeClass, endsInNumber } from './ip';
import type { CrawlPolicy, Refusal, TargetRefusalReason } from './policy';

export type TargetCheck = { ok: true; url: URL } | Refusal<TargetRefusalReason>;

const STANDARD_PORTS = new Set([80, 443]);
/** Well-known names of cloud metadata services (most also resolve only inside the cloud). */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data']);
/** Suffixes of names that only mean something on a private network; refused without a lookup. */
const PRIVATE_SUFFIXES = ['.internal', '.local', '.localdomain', '.home.arpa', '.intranet', '.corp', '.lan'];

const refuse = (reason: TargetRefusalReason, message: string): Refusal<TargetRefusalReason> => ({
  ok: false,
  reason,
  message,
});

/** How a hostname is treated before any lookup: loopback, private (refused) or needing DNS. */
export function hostnameKind(hostname: string): 'loopback' | 'metadata' | 'private' | 'dns' {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  if (METADATA_NAMES.has(name)) return 'metadata';
  // A single-label name can only be resolved by a local search domain.
  if (!name.includes('.') || PRIVATE_SUFFIXES.some((s) => name.endsWith(s))) return 'private';
  return 'dns';
}

/**
 * Checks one URL against the policy: http(s) only, no credentials, ports 80/443 (any port for
 * loopback when the policy allows loopback), no IP literals (except loopback under that
 * policy), and every A/AAAA address of the hostname public. Returns the parsed URL, with its
 * fragment removed, when it may be fetched.
 */
export async function checkTarget(
  input: string | URL,
  policy: CrawlPolicy,
  resolve: Resolve,
  signal?: AbortSignal,
): Promise<TargetCheck> {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return refuse('invalid_url', `Not a valid URL: ${String(input).slice(0, 200)}`);
  }
  url.hash = '';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse('blocked_scheme', `Only http and https URLs can be crawled, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    return refuse('credentials', 'URLs with a user name or password cannot be crawled');
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const host = url.hostname.replace(/\.$/, '');
  const standardPort = STANDARD_PORTS.has(port);
  const portRefusal = refuse('blocked_port', `Only ports 80 and 443 can be crawled, not ${port}`);

  // IP literals. The URL parser has already turned decimal, hex, octal and short IPv4 forms into
  // dotted quads and IPv6 into its compressed form; endsInNumber catches anything it let through.
  if (host.startsWith('[') || endsInNumber(host)) {
    const cls = classifyAddress(host);
    if (cls === 'loopback' && policy.allowLoopback) return { ok: true, url };
    const what = cls === null ? 'an unparseable address' : `${describeClass(cls)} address`;
    return refuse('ip_literal', `IP addresses cannot be crawled, only hostnames (${host} is ${what})`);
  }

  // Without loopback allowed, a non-standard port can never pass: refuse before any lookup.
  if (!standardPort && !policy.allowLoopback) return portRefusal;

  const kind = hostnameKind(host);
  if (kind === 'loopback') {
    return policy.allowLoopback ? { ok: true, url } : refuse('blocked_address', `${host} is a loopback name`);
  }
  if (kind === 'metadata') return refuse('blocked_address', `${host} is a cloud metadata service`);
  if (kind === 'private') return refuse('blocked_address', `${host} is a private-network name`);

  const dns = await resolve(host, signal);
  if (!dns.ok) return refuse('dns_failed', dns.message);
  for (const alias of dns.aliases) {
    if (hostnameKind(alias) !== 'dns') return refuse('blocked_address', `${host} is an alias of ${alias}`);
  }
  if (dns.addresses.length === 0) return refuse('dns_failed', `${host} does not resolve (no A or AAAA records)`);
  let allLoopback = true;
  for (const address of dns.addresses) {
    const cls = classifyAddress(address);
    if (cls === null) return refuse('dns_failed', `${host} resolved to an unreadable address (${address})`);
    if (cls === 'loopback' && policy.allowLoopback) continue;
    allLoopback = false;
    if (cls !== 'public') {
      return refuse('blocked_address', `${host} resolves to ${address}, a ${describeClass(cls)} address`);
    }
  }
  if (!standardPort && !allLoopback) return portRefusal;
  return { ok: true, url };
}
