/**
 * URL rules for the crawl frontier: one normal form per page (dedupe), the same-site scope,
 * and include/exclude globs on the path.
 */

/** Query parameters that only track the visitor, dropped during normalisation. */
const TRACKING_PARAMS = new Set([
  'gclid',
  'gbraid',
  'wbraid',
  'dclid',
  'fbclid',
  'msclkid',
  'yclid',
  'twclid',
  'igshid',
  'mc_cid',
  'mc_eid',
  '_ga',
  '_gl',
]);

/**
 * The normal form of an http(s) URL, or null if `input` is not one. Two URLs with the same
 * normal form are the same page to the crawler.
 *
 * - scheme and host lower-cased (IDNs in punycode), a trailing dot on the host removed, default
 *   ports dropped, fragment removed, `.`/`..` segments resolved (all by the URL parser);
 * - percent-escapes of unreserved characters decoded, other escapes upper-cased (RFC 3986 §6.2.2);
 * - query parameters sorted by name (parameters with the same name keep their order, since it
 *   can matter), empty ones and tracking ones (`utm_*`, gclid, fbclid, …) dropped; an empty
 *   query leaves no `?`;
 * - trailing slash: kept exactly as written — `/docs` and `/docs/` stay different URLs, because
 *   servers may answer them differently and relative links resolve differently against them.
 *   The only rewrite is the empty path, which is always `/`. Repeated slashes are kept too.
 */
export function normalizeUrl(input: string, base?: string | URL): string | null {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  url.hash = '';
  if (url.hostname.endsWith('.')) url.hostname = url.hostname.slice(0, -1);
  url.pathname = normaliseEscapes(url.pathname);

  const params = url.search
    .slice(1)
    .split('&')
    .filter((p) => p !== '')
    .map((p) => ({ raw: normaliseEscapes(p), name: decodeName(p.split('=')[0] ?? '') }))
    .filter(({ name }) => !TRACKING_PARAMS.has(name.toLowerCase()) && !/^utm_/i.test(name));
  params.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  url.search = params.length > 0 ? `?${params.map((p) => p.raw).join('&')}` : '';
  return url.href;
}

/**
 * Whether `url` is in the crawl scope of `startUrl`: its hostname equals the start hostname or is
 * a subdomain of it (start `example.com` covers `docs.example.com`, not `example.org` nor
 * `notexample.com`). A leading `www.` on the start host is ignored, so `www.example.com` also
 * covers `example.com` and its other subdomains. Scheme and port are not compared. This is a
 * simple rule, not the Public Suffix List: starting at a public suffix (e.g. `co.uk`) would
 * cover the whole suffix, so start URLs should name a site.
 */
export function sameSite(url: string | URL, startUrl: string | URL): boolean {
  const host = hostOf(url);
  const start = hostOf(startUrl)?.replace(/^www\./, '');
  if (!host || !start) return false;
  return host === start || host.endsWith(`.${start}`);
}

/**
 * Whether `url`'s path passes the include/exclude globs. Globs match the whole path (as it
 * appears in the URL, percent-encoded): `*` matches within one segment, `**` across segments,
 * and a trailing `/**` also matches the directory itself (`/docs/**` matches `/docs`). A glob
 * without a leading `/` gets one. No include list means everything is included; an exclude
 * match always wins.
 */
export function matchesRules(url: string | URL, include?: readonly string[], exclude?: readonly string[]): boolean {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return false;
  }
  const included = !include || include.length === 0 || include.some((g) => globToRegExp(g).test(path));
  return included && !(exclude ?? []).some((g) => globToRegExp(g).test(path));
}

/** Compiles a path glob (see `matchesRules`). */
export function globToRegExp(glob: string): RegExp {
  const source = glob.startsWith('/') ? glob : `/${glob}`;
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const ch = source[i] ?? '';
    if (source.startsWith('/**', i) && (i + 3 === source.length || source[i + 3] === '/')) {
      out += '(?:/.*)?'; // `/**` — zero or more whole segments
      i += 2;
    } else if (source.startsWith('**', i)) {
      out += '.*';
      i += 1;
    } else if (ch === '*') {
      out += '[^/]*';
    } else {
      out += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

function hostOf(url: string | URL): string | null {
  try {
    return new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return null;
  }
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

function normaliseEscapes(s: string): string {
  return s.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}
