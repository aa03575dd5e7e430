/**
 * robots.txt per RFC 9309: user-agent groups (ours is "ParleyBot", falling back to "*"),
 * longest-match Allow/Disallow with `*` and `$`, Allow winning ties; plus the non-standard
 * Crawl-delay (honoured) and Sitemap lines. `robotsFromFetch` maps a fetch outcome to rules
 * (RFC 9309 §2.3.1): 4xx = allow all, 5xx and unreachable = disallow all.
 */
import type { FetchResult } from './fetch';

export const PARLEY_AGENT = 'ParleyBot';
/** Content types to accept when fetching robots.txt (servers often mislabel it). */
export const ROBOTS_CONTENT_TYPES: readonly string[] = ['text/*', 'application/octet-stream'];
/** Fetch cap for robots.txt; only the first ROBOTS_PARSE_LIMIT characters are parsed. */
export const ROBOTS_MAX_BYTES = 1024 * 1024;
/** RFC 9309 §2.5: crawlers must parse at least 500 KiB. */
const ROBOTS_PARSE_LIMIT = 500 * 1024;

export interface Robots {
  /** Whether our agent may fetch this path (path plus optional query, e.g. `/a?b=c`). */
  isAllowed(path: string): boolean;
  /** Crawl-delay of the group that applies to us, seconds (largest if several). */
  crawlDelaySeconds?: number;
  /** Sitemap URLs listed anywhere in the file, in order, without duplicates. */
  sitemaps: string[];
}

interface Rule {
  allow: boolean;
  /** Percent-normalised pattern; its length is the rule's specificity. */
  pattern: string;
  regex: RegExp;
}

interface Group {
  agents: string[];
  rules: Rule[];
  crawlDelay?: number;
}

export const allowAll = (sitemaps: string[] = []): Robots => ({ isAllowed: () => true, sitemaps });
export const disallowAll = (): Robots => ({ isAllowed: (path) => isRobotsTxt(path), sitemaps: [] });

/** Parses robots.txt text for `agent` (default ParleyBot). */
export function parseRobots(text: string, agent: string = PARLEY_AGENT): Robots {
  const groups: Group[] = [];
  const sitemaps: string[] = [];
  let current: Group | undefined;
  let collectingAgents = false;

  for (const raw of text
    .slice(0, ROBOTS_PARSE_LIMIT)
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    const colon = line.indexOf(':');
    if (colon < 1) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'user-agent') {
      // Consecutive user-agent lines share a group; one after rules starts a new group.
      if (!collectingAgents || !current) {
        current = { agents: [], rules: [] };
        groups.push(current);
        collectingAgents = true;
      }
      current.agents.push(productToken(value));
    } else if (key === 'allow' || key === 'disallow') {
      collectingAgents = false;
      if (current && value !== '') current.rules.push(compileRule(key === 'allow', value));
    } else if (key === 'crawl-delay') {
      collectingAgents = false;
      const seconds = Number(value);
      if (current && value !== '' && Number.isFinite(seconds) && seconds >= 0) {
        current.crawlDelay = Math.max(current.crawlDelay ?? 0, seconds);
      }
    } else if (key === 'sitemap') {
      if (URL.canParse(value) && !sitemaps.includes(value)) sitemaps.push(value);
    }
  }

  const ours = productToken(agent);
  let applicable = groups.filter((g) => g.agents.includes(ours));
  if (applicable.length === 0) applicable = groups.filter((g) => g.agents.includes('*'));
  const rules = applicable.flatMap((g) => g.rules);
  const delays = applicable.flatMap((g) => (g.crawlDelay === undefined ? [] : [g.crawlDelay]));
  return {
    isAllowed: (path) => isAllowed(rules, path),
    ...(delays.length > 0 ? { crawlDelaySeconds: Math.max(...delays) } : {}),
    sitemaps,
  };
}

/**
 * Rules from a fetch of /robots.txt (fetched with ROBOTS_CONTENT_TYPES and ROBOTS_MAX_BYTES):
 * - 2xx: parsed;
 * - 4xx except 429, or more than five redirects: "unavailable", allow all (RFC 9309 §2.3.1.2–3);
 * - 5xx, 429, timeouts, network and DNS errors: "unreachable", disallow all (§2.3.1.4). For now
 *   this lasts until the next fetch; the RFC allows treating a long outage as unavailable.
 * - anything else (refused target, odd content type, oversize file): disallow all — fail closed.
 */
export function robotsFromFetch(result: FetchResult, agent: string = PARLEY_AGENT): Robots {
  if (result.ok) return parseRobots(new TextDecoder().decode(result.bytes), agent);
  if (result.reason === 'too_many_redirects') return allowAll();
  const status = result.status ?? 0;
  if (result.reason === 'http_error' && status >= 400 && status < 500 && status !== 429) return allowAll();
  return disallowAll();
}

/** The robots.txt URL for a page's origin. */
export function robotsUrl(pageUrl: string | URL): string {
  return new URL('/robots.txt', pageUrl).href;
}

/** The product token of a user-agent value: `ParleyBot/1.0 (+…)` → `parleybot`. */
function productToken(value: string): string {
  if (value.trim() === '*') return '*';
  return (/^[A-Za-z_-]+/.exec(value.trim())?.[0] ?? '').toLowerCase();
}

function isRobotsTxt(path: string): boolean {
  return path.split('?')[0] === '/robots.txt';
}

function isAllowed(rules: readonly Rule[], rawPath: string): boolean {
  if (isRobotsTxt(rawPath)) return true; // RFC 9309 §2.2.2: always allowed.
  const path = normaliseEncoding(rawPath.startsWith('/') ? rawPath : `/${rawPath}`);
  let best: Rule | undefined;
  for (const rule of rules) {
    if (!rule.regex.test(path)) continue;
    const longer = !best || rule.pattern.length > best.pattern.length;
    const tieAllows = best && rule.pattern.length === best.pattern.length && rule.allow;
    if (longer || tieAllows) best = rule;
  }
  return best?.allow ?? true;
}

function compileRule(allow: boolean, value: string): Rule {
  const pattern = normaliseEncoding(value);
  const anchored = pattern.endsWith('$');
  const body = anchored ? pattern.slice(0, -1) : pattern;
  const source = body
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return { allow, pattern, regex: new RegExp(`^${source}${anchored ? '$' : ''}`) };
}

/**
 * Puts a path or pattern in one percent-encoding (RFC 9309 §2.2.2): non-ASCII and control
 * characters become UTF-8 escapes, escapes of unreserved characters are decoded, others are
 * upper-cased — so `/ツ`, `/%e3%83%84` and `/%E3%83%84` compare equal, as do `/%62az` and `/baz`.
 */
function normaliseEncoding(s: string): string {
  let encoded = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (code > 0x20 && code < 0x7f) encoded += ch;
    else if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff) encoded += '%EF%BF%BD';
    else encoded += encodeURIComponent(ch);
  }
  return encoded.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${hex.toUpperCase()}`;
  });
}
