/**
 * `fetchSafely`: the crawler's only way to fetch a page. Every hop — the first URL and each
 * redirect — goes through the SSRF gate (ssrf.ts), and each redirect also through the caller's
 * own rules (`checkRedirect`: robots.txt, the crawl's scope); redirects are followed by hand; the body is
 * read with a byte cap; the content type must be on the caller's list; one deadline covers DNS,
 * redirects and the body. Failures are returned as values, never thrown.
 */
import { dohResolver, type Resolve } from './dns';
import { parseRetryAfter } from './politeness';
import type { CrawlPolicy, FetchFailureReason, Refusal } from './policy';
import { checkTarget } from './ssrf';

export const DEFAULT_MAX_REDIRECTS = 5;
export const DEFAULT_USER_AGENT = 'ParleyBot/1.0';

export type FetchResult =
  | { ok: true; url: string; status: number; contentType: string; bytes: Uint8Array; headers: Headers }
  | (Refusal<FetchFailureReason> & { status?: number; retryAfterSeconds?: number });

export interface FetchSafelyOptions {
  policy: CrawlPolicy;
  /** DoH JSON endpoint, e.g. https://cloudflare-dns.com/dns-query (config DNS_RESOLVER_URL). */
  resolverUrl: string;
  /**
   * Media types accepted, compared without parameters and case-insensitively; `type/*` accepts
   * a whole family (e.g. `['text/html', 'application/xhtml+xml']`).
   */
  allowedContentTypes: readonly string[];
  /** Largest body accepted, bytes; a larger one is abandoned mid-stream. */
  maxBytes: number;
  /** Deadline for the whole fetch: DNS, every hop and the body. */
  timeoutMs: number;
  /** Redirects followed before giving up (default 5). */
  maxRedirects?: number;
  /** Extra request headers; `user-agent` defaults to ParleyBot/1.0. */
  headers?: Record<string, string>;
  /** The fetch to use (default the global one); also used for DoH unless `resolve` is given. */
  fetcher?: typeof fetch;
  resolve?: Resolve;
  /**
   * Asked before each redirect is followed: a readable reason refuses the hop (the result is
   * `redirect_refused`), undefined lets it through. The SSRF gate still checks the hop after.
   */
  checkRedirect?: (next: URL) => Promise<string | undefined> | string | undefined;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

type Failure = Extract<FetchResult, { ok: false }>;
const fail = (reason: FetchFailureReason, message: string, extra: Partial<Failure> = {}): Failure => ({
  ok: false,
  reason,
  message,
  ...extra,
});

/** Fetches `url` under `opts.policy`; see the module comment. */
export async function fetchSafely(url: string, opts: FetchSafelyOptions): Promise<FetchResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
  const timedOut = () => fail('timeout', `No complete answer from ${url} within ${opts.timeoutMs} ms`);
  try {
    const result = await fetchHops(url, opts, controller.signal);
    // An abort surfaces in many shapes (a failed DoH query, a stream error): the deadline names it.
    return !result.ok && controller.signal.aborted ? timedOut() : result;
  } catch (err) {
    if (controller.signal.aborted) return timedOut();
    return fail('network', `Could not fetch ${url}: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

async function fetchHops(start: string, opts: FetchSafelyOptions, signal: AbortSignal): Promise<FetchResult> {
  const fetcher = opts.fetcher ?? fetch;
  const resolve = opts.resolve ?? dohResolver(opts.resolverUrl, fetcher);
  const maxRedirects = opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const headers = { 'user-agent': DEFAULT_USER_AGENT, ...opts.headers };
  const visited = new Set<string>();
  let current: string = start;

  for (let redirects = 0; ; redirects++) {
    const target = await checkTarget(current, opts.policy, resolve, signal);
    if (!target.ok) return target;
    visited.add(target.url.href);

    const res = await fetcher(target.url.href, { method: 'GET', redirect: 'manual', headers, signal });
    if (REDIRECT_STATUSES.has(res.status)) {
      await res.body?.cancel();
      const location = res.headers.get('location');
      if (!location) {
        return fail('http_error', `${target.url.href} redirected without a Location`, { status: res.status });
      }
      let next: URL;
      try {
        next = new URL(location, target.url);
      } catch {
        return fail('invalid_url', `${target.url.href} redirected to an invalid URL`, { status: res.status });
      }
      next.hash = '';
      if (visited.has(next.href)) return fail('redirect_loop', `Redirect loop: ${next.href} was already visited`);
      if (redirects >= maxRedirects) {
        return fail('too_many_redirects', `More than ${maxRedirects} redirects starting at ${start}`);
      }
      const refused = await opts.checkRedirect?.(next);
      if (refused !== undefined) {
        return fail('redirect_refused', `${target.url.href} redirected to ${next.href}, ${refused}`);
      }
      current = next.href;
      continue;
    }
    return readResponse(target.url.href, res, opts);
  }
}

async function readResponse(url: string, res: Response, opts: FetchSafelyOptions): Promise<FetchResult> {
  if (res.status < 200 || res.status > 299) {
    await res.body?.cancel();
    const retryAfterSeconds = parseRetryAfter(res.headers.get('retry-after'));
    return fail('http_error', `${url} answered HTTP ${res.status}`, {
      status: res.status,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  const contentType = (res.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!contentTypeAllowed(contentType, opts.allowedContentTypes)) {
    await res.body?.cancel();
    return fail('bad_content_type', `${url} is ${contentType || 'of unknown type'}, not one of the accepted types`, {
      status: res.status,
    });
  }
  const tooLarge = () => fail('too_large', `${url} is larger than ${opts.maxBytes} bytes`, { status: res.status });
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > opts.maxBytes) {
    await res.body?.cancel();
    return tooLarge();
  }
  const bytes = await readCapped(res, opts.maxBytes);
  if (!bytes) return tooLarge();
  return { ok: true, url, status: res.status, contentType, bytes, headers: res.headers };
}

/** Reads the body, cancelling the stream as soon as it exceeds `maxBytes` (then returns null). */
async function readCapped(res: Response, maxBytes: number): Promise<Uint8Array | null> {
  if (!res.body) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function contentTypeAllowed(mediaType: string, allowed: readonly string[]): boolean {
  if (!mediaType) return false;
  return allowed.some((entry) => {
    const want = entry.trim().toLowerCase();
    return want.endsWith('/*') ? mediaType.startsWith(want.slice(0, -1)) : mediaType === want;
  });
}
