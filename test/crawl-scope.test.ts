/**
 * What a crawl ingests as documents of its source: redirects stay on the site and within
 * robots.txt (a hop elsewhere is refused before it is fetched, with a readable per-page reason),
 * and one bad page among good ones fails alone.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { fetchSafely } from '../src/crawl/fetch';
import { crawlPolicy } from '../src/crawl/policy';
import { testSql } from './support/http';
import { forkSite, siteHits, siteLog } from './support/site';
import { addSource, documents, settled } from './support/sources';
import { createTenant } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

const byPath = (origin: string, docs: { url: string | null }[]) =>
  Object.fromEntries(docs.map((d) => [d.url?.replace(origin, ''), d]));

describe('fetchSafely: a redirect rule of the caller', () => {
  const site = `http://127.0.0.1:${inject('crawlSitePort')}`;
  const opts = {
    policy: crawlPolicy('development'),
    resolverUrl: inject('dohUrl'),
    allowedContentTypes: ['text/html'],
    maxBytes: 100_000,
    timeoutMs: 5_000,
  };

  it('is asked before every hop; a reason refuses the hop, with both addresses in the message', async () => {
    const asked: string[] = [];
    const allowAll = await fetchSafely(`${site}/redirect/2`, {
      ...opts,
      checkRedirect: (next) => void asked.push(next.pathname),
    });
    expect(allowAll).toMatchObject({ ok: true, url: `${site}/page` });
    expect(asked).toEqual(['/redirect/1', '/page']);

    const refused = await fetchSafely(`${site}/redirect/2`, {
      ...opts,
      checkRedirect: (next) => (next.pathname === '/page' ? 'which is off limits' : undefined),
    });
    expect(refused).toEqual({
      ok: false,
      reason: 'redirect_refused',
      message: `${site}/redirect/1 redirected to ${site}/page, which is off limits`,
    });
  });
});

describe('redirects during a crawl', () => {
  it('follows a same-site redirect, and refuses redirects off the site or into robots-disallowed paths', async () => {
    const tenant = await createTenant();
    const origin = await forkSite();
    const id = await addSource(tenant, {
      type: 'website',
      url: `${origin}/moves/`,
      max_depth: 1,
      include: ['/moves/**'],
    });
    const { source } = await settled(tenant, id, 60_000);
    expect(source.status).toBe('ready');

    const docs = byPath(origin, await documents(tenant, id));
    expect(docs['/moves/']).toMatchObject({ status: 'ready' });
    // /moves/ok → /moves/landing: the page is ingested under the address it landed on.
    expect(docs['/moves/landing']).toMatchObject({ status: 'ready' });
    expect(docs['/moves/to-private']).toMatchObject({ status: 'failed', chunk_count: 0 });
    expect(docs['/moves/to-private']?.error).toMatch(
      /^redirect_refused: .*\/shop\/private\/notes, which the site's robots\.txt disallows/,
    );
    expect(docs['/moves/off-site']).toMatchObject({ status: 'failed', chunk_count: 0 });
    expect(docs['/moves/off-site']?.error).toMatch(
      /redirected to http:\/\/localhost:\d+\/moves\/landing, which is outside the site/,
    );
    expect(Object.keys(docs).some((url) => url?.includes('private') && docs[url]?.status === 'ready')).toBe(false);

    // Refused hops are never requested: not the disallowed path, not the other host.
    expect((await siteHits(origin))['/shop/private/notes']).toBeUndefined();
    expect((await siteLog(origin)).filter((r) => !r.host.startsWith('127.0.0.1'))).toEqual([]);
    const chunks = await sql<{ url: string }[]>`select distinct url from chunks where source_id = ${id}`;
    expect(chunks.map((c) => c.url.replace(origin, '')).sort()).toEqual(['/moves/', '/moves/landing']);
  }, 90_000);
});

describe('a source with good and bad pages', () => {
  it('ends ready: the good pages have chunks, each bad one fails alone with a readable reason', async () => {
    const tenant = await createTenant();
    const origin = await forkSite();
    const id = await addSource(tenant, {
      type: 'website',
      url: `${origin}/mixed/`,
      max_depth: 1,
      include: ['/mixed/**'],
    });
    const { source } = await settled(tenant, id, 60_000);
    expect(source).toMatchObject({ status: 'ready', error: null });
    expect(source.stats).toMatchObject({ documents: 5, documents_failed: 2, pages_failed: 2, pages_fetched: 3 });

    const docs = byPath(origin, await documents(tenant, id));
    for (const path of ['/mixed/', '/mixed/a', '/mixed/b']) {
      expect(docs[path]).toMatchObject({ status: 'ready', error: null });
      expect(docs[path]?.chunk_count).toBeGreaterThan(0);
    }
    // Labelled HTML, really a PDF: the reason names the mismatch.
    expect(docs['/mixed/garbage']).toMatchObject({ status: 'failed', chunk_count: 0 });
    expect(docs['/mixed/garbage']?.error).toMatch(/^type_mismatch: .*PDF/);
    expect(docs['/mixed/gone']?.error).toMatch(/HTTP 404/);
  }, 90_000);
});
