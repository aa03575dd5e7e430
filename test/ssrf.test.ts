/**
 * The crawler's SSRF gate (src/crawl/ssrf.ts) and fetchSafely (src/crawl/fetch.ts): a table of
 * refused targets with their reasons, the loopback policy per environment, and real fetches of
 * a loopback test site (test/fakes/crawl-site.ts) with names resolved by a fake DoH server
 * (test/fakes/doh.ts).
 */
import { describe, expect, inject, it } from 'vitest';
import { dohResolver } from '../src/crawl/dns';
import { fetchSafely, type FetchSafelyOptions } from '../src/crawl/fetch';
import { crawlPolicy, type CrawlPolicy, type TargetRefusalReason } from '../src/crawl/policy';
import { checkTarget } from '../src/crawl/ssrf';

const dohUrl = inject('dohUrl');
const site = `http://127.0.0.1:${inject('crawlSitePort')}`;
const resolve = dohResolver(dohUrl);
const production = crawlPolicy('production', true); // the setting is ignored outside development
const development = crawlPolicy('development');

async function check(url: string, policy: CrawlPolicy) {
  return checkTarget(url, policy, resolve);
}

/** URL → the reason it is refused under the production policy. */
const REFUSED: ReadonlyArray<readonly [string, TargetRefusalReason]> = [
  // Loopback and its encodings (the URL parser canonicalises them; all are IP literals).
  ['http://127.0.0.1/', 'ip_literal'],
  ['http://127.0.0.1:8080/', 'ip_literal'],
  ['http://127.1/', 'ip_literal'],
  ['http://2130706433/', 'ip_literal'],
  ['http://0x7f000001/', 'ip_literal'],
  ['http://0177.0.0.1/', 'ip_literal'],
  ['http://0x7f.0.0.1/', 'ip_literal'],
  ['http://0177.0x0.1/', 'ip_literal'],
  ['http://127.000.000.001/', 'ip_literal'],
  ['http://[::1]/', 'ip_literal'],
  ['http://[::ffff:127.0.0.1]/', 'ip_literal'],
  ['http://[0:0:0:0:0:0:0:1]/', 'ip_literal'],
  // Private, link-local, metadata and special IPv4/IPv6 literals.
  ['http://10.0.0.1/', 'ip_literal'],
  ['http://172.16.0.1/', 'ip_literal'],
  ['http://172.31.255.255/', 'ip_literal'],
  ['http://192.168.1.1/', 'ip_literal'],
  ['http://169.254.169.254/latest/meta-data/', 'ip_literal'],
  ['http://0.0.0.0/', 'ip_literal'],
  ['http://[fd00:ec2::254]/', 'ip_literal'],
  ['http://[fe80::1]/', 'ip_literal'],
  ['http://[::]/', 'ip_literal'],
  ['http://93.184.216.34/', 'ip_literal'], // even public: production Workers cannot fetch IP literals
  // Names that are local without a lookup.
  ['http://localhost/', 'blocked_address'],
  ['http://LOCALHOST./', 'blocked_address'],
  ['http://app.localhost/', 'blocked_address'],
  ['http://metadata.google.internal/computeMetadata/v1/', 'blocked_address'],
  ['http://db.internal/', 'blocked_address'],
  ['http://printer.local/', 'blocked_address'],
  ['http://intranet/', 'blocked_address'],
  // DNS names resolving to non-public addresses.
  ['http://private.test/', 'blocked_address'],
  ['http://private172.test/', 'blocked_address'],
  ['http://private192.test/', 'blocked_address'],
  ['http://meta.test/', 'blocked_address'],
  ['http://meta6.test/', 'blocked_address'],
  ['http://v6private.test/', 'blocked_address'],
  ['http://linklocal6.test/', 'blocked_address'],
  ['http://loop.test/', 'blocked_address'],
  ['http://cgnat.test/', 'blocked_address'],
  ['http://zero.test/', 'blocked_address'],
  ['http://mapped.test/', 'blocked_address'],
  ['http://nat64.test/', 'blocked_address'],
  ['http://sixtofour.test/', 'blocked_address'],
  ['http://mixed.test/', 'blocked_address'], // one public and one private address
  ['http://alias.test/', 'blocked_address'], // CNAME to a private name
  ['http://alias-internal.test/', 'blocked_address'], // CNAME to metadata.google.internal
  ['http://nxdomain.test/', 'dns_failed'],
  ['http://servfail.test/', 'dns_failed'],
  // Schemes other than http(s).
  ['file:///etc/passwd', 'blocked_scheme'],
  ['ftp://public.test/', 'blocked_scheme'],
  ['gopher://public.test:70/_GET', 'blocked_scheme'],
  ['data:text/html,<script>1</script>', 'blocked_scheme'],
  ['javascript:alert(1)', 'blocked_scheme'],
  // Ports other than 80/443.
  ['http://public.test:22/', 'blocked_port'],
  ['http://public.test:8080/', 'blocked_port'],
  ['https://public.test:8443/', 'blocked_port'],
  // Credentials, and input that is not a URL.
  ['http://user:secret@public.test/', 'credentials'],
  ['https://user@public.test/', 'credentials'],
  ['not a url', 'invalid_url'],
  ['http://1.2.3.4.5/', 'invalid_url'],
];

describe('SSRF gate, production policy', () => {
  it('has a table of at least 30 refusals', () => {
    expect(REFUSED.length).toBeGreaterThanOrEqual(30);
  });

  it.each(REFUSED)('%s is refused: %s', async (url, reason) => {
    const result = await check(url, production);
    expect(result).toMatchObject({ ok: false, reason });
    if (!result.ok) expect(result.message).toMatch(/\w{3,}/);
  });

  it.each([
    'http://public.test/',
    'https://public6.test/docs?a=1',
    'http://public.test:443/',
    'https://PUBLIC.test./',
    'http://public.test\\@10.0.0.1/', // the backslash ends the host: the host is public.test
    'http://public.test#@10.0.0.1',
  ])('%s is allowed', async (url) => {
    expect(await check(url, production)).toMatchObject({ ok: true });
  });

  it('says which address a name resolved to', async () => {
    const result = await check('http://private.test/', production);
    expect(!result.ok && result.message).toContain('10.0.0.5');
  });
});

describe('crawl policy', () => {
  it('allows loopback only in development', () => {
    expect(crawlPolicy('development')).toEqual({ allowLoopback: true });
    expect(crawlPolicy('development', false)).toEqual({ allowLoopback: false });
    expect(crawlPolicy('staging', true)).toEqual({ allowLoopback: false });
    expect(crawlPolicy('production', true)).toEqual({ allowLoopback: false });
  });

  it.each(['http://127.0.0.1:8080/', 'http://localhost:3000/', 'http://[::1]:9000/', 'http://loop.test:5173/'])(
    'development allows loopback %s on any port; staging and production do not',
    async (url) => {
      expect(await check(url, development)).toMatchObject({ ok: true });
      expect(await check(url, crawlPolicy('staging', true))).toMatchObject({ ok: false });
      expect(await check(url, crawlPolicy('production', true))).toMatchObject({ ok: false });
      expect(await check(url, crawlPolicy('development', false))).toMatchObject({ ok: false });
    },
  );

  it.each([
    ['http://10.0.0.1/', 'ip_literal'],
    ['http://169.254.169.254/', 'ip_literal'],
    ['http://[::ffff:127.0.0.1]/', 'ip_literal'],
    ['http://private.test/', 'blocked_address'],
    ['http://meta.test/', 'blocked_address'],
    ['http://metadata.google.internal/', 'blocked_address'],
    ['http://public.test:8080/', 'blocked_port'],
  ] as const)('development still refuses %s (%s)', async (url, reason) => {
    expect(await check(url, development)).toMatchObject({ ok: false, reason });
  });
});

describe('DoH resolution', () => {
  it('caches answers per isolate for at most 60 s', async () => {
    let clock = 1_000_000;
    const key = `${dohUrl}?cache=${crypto.randomUUID()}`; // a fresh cache key for this test
    const resolveAt = dohResolver(key, fetch, () => clock);
    const count = async () => {
      const res = await fetch(`${new URL(dohUrl).origin}/__count?name=public.test`);
      return ((await res.json()) as { count: number }).count;
    };
    const before = await count();
    expect(await resolveAt('public.test')).toEqual({ ok: true, addresses: ['93.184.216.34'], aliases: [] });
    await resolveAt('public.test');
    expect(await count()).toBe(before + 2); // one A and one AAAA query, then cache hits
    clock += 61_000; // the record's TTL is 300 s, capped to 60 s
    await resolveAt('public.test');
    expect(await count()).toBe(before + 4);
  });

  it('fails closed when the resolver is unreachable', async () => {
    const down = dohResolver(`http://127.0.0.1:${inject('blackHolePort')}/dns-query`);
    const result = await checkTarget('http://public.test/', production, down, AbortSignal.timeout(300));
    expect(result).toMatchObject({ ok: false, reason: 'dns_failed' });
  });
});

describe('fetchSafely against a loopback site (development policy)', () => {
  const opts: FetchSafelyOptions = {
    policy: development,
    resolverUrl: dohUrl,
    allowedContentTypes: ['text/html'],
    maxBytes: 100_000,
    timeoutMs: 5_000,
  };
  const to = (target: string) => `${site}/redirect-to?url=${encodeURIComponent(target)}`;

  it('fetches a page', async () => {
    const result = await fetchSafely(`${site}/page#top`, opts);
    expect(result).toMatchObject({ ok: true, url: `${site}/page`, status: 200, contentType: 'text/html' });
    expect(result.ok && new TextDecoder().decode(result.bytes)).toContain('hello');
  });

  it('follows a redirect chain within the limit and reports the final URL', async () => {
    expect(await fetchSafely(`${site}/redirect/3`, opts)).toMatchObject({ ok: true, url: `${site}/page` });
    expect(await fetchSafely(`${site}/redirect/5`, opts)).toMatchObject({ ok: true, url: `${site}/page` });
  });

  it('refuses more than 5 redirects and redirect loops', async () => {
    expect(await fetchSafely(`${site}/redirect/6`, opts)).toMatchObject({ ok: false, reason: 'too_many_redirects' });
    expect(await fetchSafely(`${site}/loop/a`, opts)).toMatchObject({ ok: false, reason: 'redirect_loop' });
  });

  it('follows a redirect to another loopback name', async () => {
    const target = `http://localhost:${inject('crawlSitePort')}/page`;
    expect(await fetchSafely(to(target), opts)).toMatchObject({ ok: true, url: target });
  });

  /** Redirect targets → the reason the hop is refused. */
  const REDIRECTS: ReadonlyArray<readonly [string, TargetRefusalReason]> = [
    ['http://private.test/', 'blocked_address'],
    ['http://meta.test/latest/meta-data/', 'blocked_address'],
    ['http://v6private.test/', 'blocked_address'],
    ['http://169.254.169.254/latest/meta-data/', 'ip_literal'],
    ['http://10.0.0.5/', 'ip_literal'],
    ['http://0x0a000005/', 'ip_literal'],
    ['http://metadata.google.internal/', 'blocked_address'],
    ['file:///etc/passwd', 'blocked_scheme'],
    ['gopher://public.test/', 'blocked_scheme'],
    ['http://public.test:22/', 'blocked_port'],
    ['http://user:pw@public.test/', 'credentials'],
    ['http://nxdomain.test/', 'dns_failed'],
  ];
  it.each(REDIRECTS)('re-checks every hop: a redirect to %s is refused (%s)', async (target, reason) => {
    expect(await fetchSafely(to(target), opts)).toMatchObject({ ok: false, reason });
  });

  it('refuses the loopback site outside development', async () => {
    const result = await fetchSafely(`${site}/page`, { ...opts, policy: crawlPolicy('production', true) });
    expect(result).toMatchObject({ ok: false, reason: 'ip_literal' });
  });

  it('caps the body size, declared or streamed', async () => {
    expect(await fetchSafely(`${site}/big?bytes=200000`, opts)).toMatchObject({ ok: false, reason: 'too_large' });
    expect(await fetchSafely(`${site}/big?bytes=200000&declare=1`, opts)).toMatchObject({
      ok: false,
      reason: 'too_large',
    });
    const small = await fetchSafely(`${site}/big?bytes=100000`, opts);
    expect(small.ok && small.bytes.byteLength).toBe(100_000);
  });

  it('enforces the content-type allowlist', async () => {
    expect(await fetchSafely(`${site}/image`, opts)).toMatchObject({ ok: false, reason: 'bad_content_type' });
    const image = await fetchSafely(`${site}/image`, { ...opts, allowedContentTypes: ['image/*'] });
    expect(image).toMatchObject({ ok: true, contentType: 'image/png' });
  });

  it('reports HTTP errors with their status and Retry-After', async () => {
    expect(await fetchSafely(`${site}/status/503?retry=7`, opts)).toMatchObject({
      ok: false,
      reason: 'http_error',
      status: 503,
      retryAfterSeconds: 7,
    });
    expect(await fetchSafely(`${site}/status/404`, opts)).toMatchObject({
      ok: false,
      reason: 'http_error',
      status: 404,
    });
  });

  it('reports a network failure as a value', async () => {
    const refused: typeof fetch = () => Promise.reject(new TypeError('connection refused'));
    const result = await fetchSafely(`${site}/page`, { ...opts, fetcher: refused });
    expect(result).toMatchObject({ ok: false, reason: 'network' });
    expect(!result.ok && result.message).toContain('connection refused');
  });

  it('times out on a server that never answers, or never finishes the body', async () => {
    const quick = { ...opts, timeoutMs: 300 };
    const hole = `http://127.0.0.1:${inject('blackHolePort')}/`;
    expect(await fetchSafely(hole, quick)).toMatchObject({ ok: false, reason: 'timeout' });
    expect(await fetchSafely(`${site}/slow`, quick)).toMatchObject({ ok: false, reason: 'timeout' });
  });
});
