/**
 * The crawl frontier's URL rules (src/crawl/url.ts) — normal form for dedupe, same-site scope,
 * include/exclude globs — and the politeness arithmetic (src/crawl/politeness.ts).
 */
import { describe, expect, it } from 'vitest';
import { backoffSeconds, hostDelayMs, parseRetryAfter } from '../src/crawl/politeness';
import { globToRegExp, matchesRules, normalizeUrl, sameSite } from '../src/crawl/url';

describe('normalizeUrl', () => {
  it.each([
    ['HTTP://Example.COM/Docs', 'http://example.com/Docs'],
    ['http://example.com:80/a', 'http://example.com/a'],
    ['https://example.com:443/a', 'https://example.com/a'],
    ['https://example.com:8443/a', 'https://example.com:8443/a'],
    ['http://example.com', 'http://example.com/'],
    ['http://example.com./a', 'http://example.com/a'],
    ['http://example.com/a#section', 'http://example.com/a'],
    ['http://example.com/a/./b/../c', 'http://example.com/a/c'],
    ['http://example.com/a/%2e%2e/b', 'http://example.com/b'],
    ['http://example.com/%7euser/%c3%a9', 'http://example.com/~user/%C3%A9'],
    ['http://example.com/docs/', 'http://example.com/docs/'], // trailing slash kept
    ['http://example.com/docs', 'http://example.com/docs'],
    ['http://example.com/a?b=2&a=1', 'http://example.com/a?a=1&b=2'],
    ['http://example.com/a?tag=z&tag=a&id=1', 'http://example.com/a?id=1&tag=z&tag=a'], // same-name order kept
    ['http://example.com/a?utm_source=x&UTM_Medium=y&gclid=1&fbclid=2&q=hi', 'http://example.com/a?q=hi'],
    ['http://example.com/a?utm_source=x', 'http://example.com/a'],
    ['http://example.com/a?&&x=1&', 'http://example.com/a?x=1'],
    ['http://bücher.example/', 'http://xn--bcher-kva.example/'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeUrl(input)).toBe(expected);
  });

  it('resolves relative links against a base', () => {
    expect(normalizeUrl('../b?utm_campaign=x#top', 'https://example.com/docs/a/')).toBe('https://example.com/docs/b');
  });

  it('gives null for non-http(s) and invalid input', () => {
    expect(normalizeUrl('mailto:a@example.com')).toBeNull();
    expect(normalizeUrl('javascript:void(0)')).toBeNull();
    expect(normalizeUrl('not a url')).toBeNull();
  });

  it('makes equivalent URLs equal', () => {
    const a = normalizeUrl('HTTPS://Example.com:443/x/../docs?b=1&a=2&utm_medium=mail#intro');
    const b = normalizeUrl('https://example.com/docs?a=2&b=1');
    expect(a).toBe(b);
  });
});

describe('sameSite', () => {
  it.each([
    ['https://example.com/a', 'https://example.com/', true],
    ['http://example.com/a', 'https://example.com/', true], // scheme not compared
    ['https://docs.example.com/a', 'https://example.com/', true],
    ['https://a.b.example.com/', 'https://example.com/', true],
    ['https://example.com/', 'https://www.example.com/', true], // a leading www. is ignored
    ['https://docs.example.com/', 'https://www.example.com/', true],
    ['https://EXAMPLE.com./', 'https://example.com/', true],
    ['https://example.com/', 'https://docs.example.com/', false], // parent is not in scope
    ['https://notexample.com/', 'https://example.com/', false],
    ['https://example.org/', 'https://example.com/', false],
    ['https://example.com.evil.net/', 'https://example.com/', false],
    ['not a url', 'https://example.com/', false],
  ])('%s within %s: %s', (url, start, expected) => {
    expect(sameSite(url, start)).toBe(expected);
  });
});

describe('matchesRules', () => {
  it.each([
    ['/docs/*', '/docs/intro', true],
    ['/docs/*', '/docs/a/b', false], // * stays within a segment
    ['/docs/**', '/docs/a/b', true],
    ['/docs/**', '/docs', true], // a trailing /** also matches the directory
    ['/docs/**', '/docsx', false],
    ['/**/*.pdf', '/a/b/c.pdf', true],
    ['/**/*.pdf', '/c.pdf', true],
    ['/**/*.pdf', '/c.pdfx', false],
    ['/blog/*/comments', '/blog/post-1/comments', true],
    ['blog/**', '/blog/2024/x', true], // a missing leading slash is added
    ['/a.b', '/aXb', false], // regex characters are literal
  ])('glob %s on path %s: %s', (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });

  it('includes everything without an include list, and exclude wins', () => {
    const url = 'https://example.com/docs/internal/page?x=1';
    expect(matchesRules(url)).toBe(true);
    expect(matchesRules(url, [])).toBe(true);
    expect(matchesRules(url, ['/docs/**'])).toBe(true);
    expect(matchesRules(url, ['/blog/**'])).toBe(false);
    expect(matchesRules(url, ['/docs/**'], ['/docs/internal/**'])).toBe(false);
    expect(matchesRules(url, undefined, ['/**/page'])).toBe(false);
    expect(matchesRules('not a url', ['/**'])).toBe(false);
  });
});

describe('politeness', () => {
  const now = Date.parse('2030-01-01T00:00:00Z');

  it('parses Retry-After as seconds or an HTTP-date', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Mon, 31 Dec 2029 23:00:00 GMT', now)).toBe(0); // in the past
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with full jitter, capped', () => {
    const top = { random: () => 0.999999, now };
    expect([1, 2, 3, 4].map((a) => backoffSeconds(a, undefined, top))).toEqual([2, 4, 8, 16]);
    expect(backoffSeconds(3, undefined, { random: () => 0, now })).toBe(0);
    expect(backoffSeconds(3, undefined, { random: () => 0.5, now })).toBe(4);
    expect(backoffSeconds(40, undefined, top)).toBe(3600);
    expect(backoffSeconds(40, undefined, { ...top, capSeconds: 60 })).toBe(60);
  });

  it('never retries sooner than Retry-After asks, within the cap', () => {
    const low = { random: () => 0, now };
    expect(backoffSeconds(1, '30', low)).toBe(30);
    expect(backoffSeconds(1, 'Tue, 01 Jan 2030 00:01:00 GMT', low)).toBe(60);
    expect(backoffSeconds(1, '86400', low)).toBe(3600);
    expect(backoffSeconds(1, 'garbage', low)).toBe(0);
    expect(backoffSeconds(5, '1', { random: () => 0.999999, now })).toBe(32);
  });

  it('spaces requests to a host at ≤ 1/s, slower on request, never faster than Crawl-delay', () => {
    expect(hostDelayMs()).toBe(1000);
    expect(hostDelayMs(undefined, 0.5)).toBe(2000);
    expect(hostDelayMs(undefined, 10)).toBe(1000); // cannot go faster than 1/s
    expect(hostDelayMs(undefined, 0)).toBe(1000);
    expect(hostDelayMs(undefined, Number.NaN)).toBe(1000);
    expect(hostDelayMs(3)).toBe(3000);
    expect(hostDelayMs(3, 10)).toBe(3000);
    expect(hostDelayMs(0.5, 0.25)).toBe(4000);
    expect(hostDelayMs(0.2)).toBe(1000);
  });
});
