/**
 * robots.txt parsing (src/crawl/robots.ts) per RFC 9309, and how a robots.txt fetch outcome
 * becomes rules — including a real fetch from the loopback test site — and what a crawl's
 * owner sees of the links robots.txt disallows.
 */
import { describe, expect, inject, it } from 'vitest';
import { fetchSafely, type FetchResult } from '../src/crawl/fetch';
import { crawlPolicy } from '../src/crawl/policy';
import { parseRobots, robotsFromFetch, robotsUrl, ROBOTS_CONTENT_TYPES, ROBOTS_MAX_BYTES } from '../src/crawl/robots';
import { call } from './support/http';
import { forkSite, siteHits } from './support/site';
import { addSource, documents, settled, type DocumentView } from './support/sources';
import { auth, createTenant } from './support/tenants';

// The example of RFC 9309 §5.1, plus a ParleyBot-free file so we fall back to "*".
const RFC_EXAMPLE = `User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
`;

describe('parseRobots', () => {
  it('falls back to the * group when no group names ParleyBot (RFC 9309 example)', () => {
    const robots = parseRobots(RFC_EXAMPLE);
    expect(robots.isAllowed('/publications/2024.html')).toBe(true);
    expect(robots.isAllowed('/example/page.html')).toBe(false);
    expect(robots.isAllowed('/images/logo.gif')).toBe(false);
    expect(robots.isAllowed('/images/logo.gif?v=2')).toBe(true); // `$` anchors the end
    expect(robots.isAllowed('/')).toBe(true);
  });

  it('applies the group of a named agent, shared groups, and an empty group', () => {
    expect(parseRobots(RFC_EXAMPLE, 'foobot').isAllowed('/example/page.html')).toBe(true);
    expect(parseRobots(RFC_EXAMPLE, 'foobot').isAllowed('/other')).toBe(false);
    expect(parseRobots(RFC_EXAMPLE, 'bazbot').isAllowed('/example/page.html')).toBe(false);
    expect(parseRobots(RFC_EXAMPLE, 'barbot').isAllowed('/images/logo.gif')).toBe(true); // "*" not merged in
    expect(parseRobots(RFC_EXAMPLE, 'quxbot').isAllowed('/example/page.html')).toBe(true);
  });

  it('matches our agent case-insensitively by product token and ignores the * group then', () => {
    const robots = parseRobots('User-agent: *\nDisallow: /\n\nuser-agent: PARLEYBOT/2.0 (+info)\nDisallow: /admin\n');
    expect(robots.isAllowed('/docs')).toBe(true);
    expect(robots.isAllowed('/admin/users')).toBe(false);
  });

  it('combines several groups for the same agent', () => {
    const robots = parseRobots(
      'User-agent: ParleyBot\nDisallow: /a\n\nUser-agent: other\nDisallow: /\n\nUser-agent: parleybot\nDisallow: /b\n',
    );
    expect([robots.isAllowed('/a'), robots.isAllowed('/b'), robots.isAllowed('/c')]).toEqual([false, false, true]);
  });

  it('uses the longest matching rule, and Allow on a tie', () => {
    const robots = parseRobots(
      'User-agent: *\nDisallow: /\nAllow: /docs\nDisallow: /docs/private/\nAllow: /docs/private/ok\nAllow: /same\nDisallow: /same\n',
    );
    expect(robots.isAllowed('/pricing')).toBe(false);
    expect(robots.isAllowed('/docs/intro')).toBe(true);
    expect(robots.isAllowed('/docs/private/keys')).toBe(false);
    expect(robots.isAllowed('/docs/private/ok.html')).toBe(true);
    expect(robots.isAllowed('/same')).toBe(true);
  });

  it('supports * anywhere and $ at the end', () => {
    const robots = parseRobots('User-agent: *\nDisallow: /*.php$\nDisallow: /private*/secret\nDisallow: /*?session=\n');
    expect(robots.isAllowed('/index.php')).toBe(false);
    expect(robots.isAllowed('/index.php?x=1')).toBe(true);
    expect(robots.isAllowed('/index.phpx')).toBe(true);
    expect(robots.isAllowed('/private-area/x/secret')).toBe(false);
    expect(robots.isAllowed('/cart?session=abc')).toBe(false);
    expect(robots.isAllowed('/cart?page=2')).toBe(true);
  });

  it('compares paths in one percent-encoding (RFC 9309 §2.2.2)', () => {
    const robots = parseRobots(
      'User-agent: *\nDisallow: /foo/bar/ツ\nDisallow: /foo/bar/%62%61%7A\nDisallow: /a%2fb\n',
    );
    expect(robots.isAllowed('/foo/bar/%E3%83%84')).toBe(false);
    expect(robots.isAllowed('/foo/bar/%e3%83%84')).toBe(false);
    expect(robots.isAllowed('/foo/bar/baz')).toBe(false);
    expect(robots.isAllowed('/a%2Fb')).toBe(false);
    expect(robots.isAllowed('/a/b')).toBe(true); // an encoded slash is not a slash
  });

  it('always allows /robots.txt; an empty Disallow allows everything', () => {
    expect(parseRobots('User-agent: *\nDisallow: /\n').isAllowed('/robots.txt')).toBe(true);
    expect(parseRobots('User-agent: *\nDisallow:\n').isAllowed('/anything')).toBe(true);
  });

  it('reads Crawl-delay of our group, Sitemap lines anywhere, and tolerates comments, BOM and CRLF', () => {
    const text =
      '\uFEFFSitemap: https://example.com/a.xml\r\n# comment\r\nDisallow: /ignored-before-any-group\r\n' +
      'User-agent: *\r\nCrawl-delay: 7\r\n\r\nUser-agent: ParleyBot # us\r\nCrawl-delay: 2.5\r\nDisallow: /tmp # no\r\n' +
      'Sitemap: https://example.com/b.xml\r\nSitemap: https://example.com/a.xml\r\nSitemap: not a url\r\n';
    const robots = parseRobots(text);
    expect(robots.crawlDelaySeconds).toBe(2.5);
    expect(robots.sitemaps).toEqual(['https://example.com/a.xml', 'https://example.com/b.xml']);
    expect(robots.isAllowed('/tmp/x')).toBe(false);
    expect(robots.isAllowed('/ignored-before-any-group')).toBe(true);
    expect(parseRobots('User-agent: *\nDisallow: /x\n').crawlDelaySeconds).toBeUndefined();
  });

  it('allows everything for an empty or unparseable file', () => {
    expect(parseRobots('').isAllowed('/x')).toBe(true);
    expect(parseRobots('<html><body>Not found</body></html>').isAllowed('/x')).toBe(true);
  });
});

describe('robotsFromFetch', () => {
  const failure = (reason: Extract<FetchResult, { ok: false }>['reason'], status?: number): FetchResult => ({
    ok: false,
    reason,
    message: 'test',
    ...(status === undefined ? {} : { status }),
  });

  it.each([
    ['404', failure('http_error', 404), true],
    ['403', failure('http_error', 403), true],
    ['429', failure('http_error', 429), false],
    ['500', failure('http_error', 500), false],
    ['503', failure('http_error', 503), false],
    ['timeout', failure('timeout'), false],
    ['network error', failure('network'), false],
    ['DNS failure', failure('dns_failed'), false],
    ['more than five redirects', failure('too_many_redirects'), true],
  ] as const)('%s → allow all: %s', (_name, result, allowed) => {
    const robots = robotsFromFetch(result);
    expect(robots.isAllowed('/any/page')).toBe(allowed);
    expect(robots.isAllowed('/robots.txt')).toBe(true);
  });

  it('parses a robots.txt fetched from a site', async () => {
    const site = `http://127.0.0.1:${inject('crawlSitePort')}`;
    const result = await fetchSafely(robotsUrl(`${site}/some/page?x=1`), {
      policy: crawlPolicy('development'),
      resolverUrl: inject('dohUrl'),
      allowedContentTypes: ROBOTS_CONTENT_TYPES,
      maxBytes: ROBOTS_MAX_BYTES,
      timeoutMs: 5_000,
    });
    expect(result).toMatchObject({ ok: true, url: `${site}/robots.txt` });
    const robots = robotsFromFetch(result);
    expect(robots.isAllowed('/private/notes')).toBe(false);
    expect(robots.isAllowed('/public')).toBe(true);
    expect(robots.crawlDelaySeconds).toBe(2);
    expect(robots.sitemaps).toEqual(['http://example.com/sitemap.xml']);
  });
});

describe('a crawl and robots.txt', () => {
  it('lists a disallowed link as skipped with the reason, and never fetches it', async () => {
    const tenant = await createTenant();
    const origin = await forkSite();
    // The start page links to /shop/private/notes, which the site's robots.txt disallows.
    const id = await addSource(tenant, {
      type: 'website',
      url: `${origin}/shop/`,
      max_depth: 1,
      include: ['/shop/', '/shop/private/**'],
    });
    const { source } = await settled(tenant, id, 60_000);
    expect(source).toMatchObject({ status: 'ready', error: null });
    expect(source.stats).toMatchObject({
      documents: 2,
      documents_skipped: 1,
      documents_failed: 0,
      pages_discovered: 2,
    });

    const notes = (await documents(tenant, id)).find((d) => d.url === `${origin}/shop/private/notes`);
    expect(notes).toMatchObject({ status: 'skipped', chunk_count: 0 });
    expect(notes?.error).toContain('robots.txt');
    const res = await call(`/api/v1/projects/${tenant.projectId}/sources/${id}/documents?status=skipped`, {
      headers: auth(tenant.secretKey),
    });
    expect((await res.json<{ data: DocumentView[] }>()).data.map((d) => d.url)).toEqual([
      `${origin}/shop/private/notes`,
    ]);

    const hits = await siteHits(origin);
    expect(hits['/shop/private/notes']).toBeUndefined();
    expect(hits['/shop/']).toBe(1);
  }, 90_000);
});
