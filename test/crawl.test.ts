/**
 * Crawls of the loopback test website through the API and the real queues. Each test crawls
 * its own fork of the site (test/support/site.ts), so request counts and site changes are its own.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { call, testSql } from './support/http';
import { forkSite, siteHits } from './support/site';
import { addSource, documents, getSource, settled } from './support/sources';
import { createTenant, postJson } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

describe('website crawl of a loopback site', () => {
  it('crawls politely within scope, dedupes, obeys robots.txt, and reports progress and failures', async () => {
    const tenant = await createTenant();
    const origin = await forkSite();
    const site = () => origin;
    const id = await addSource(tenant, {
      type: 'website',
      url: `${site()}/shop/`,
      max_pages: 20,
      max_depth: 2,
      exclude: ['/docs/**'],
    });
    let sawProgress = false;
    for (let i = 0; i < 400; i++) {
      const source = await getSource(tenant, id);
      if (source.status === 'processing' && source.stats.pages_fetched > 0) sawProgress = true;
      if (source.status === 'ready' || source.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { source } = await settled(tenant, id, 60_000);
    expect(sawProgress).toBe(true);
    expect(source.status).toBe('ready');
    const docs = await documents(tenant, id);
    const byUrl = Object.fromEntries(docs.map((d) => [d.url?.replace(site(), ''), d]));
    expect(byUrl['/shop/']?.status).toBe('ready');
    expect(byUrl['/shop/refunds']?.status).toBe('ready');
    expect(byUrl['/shop/shipping']?.status).toBe('ready');
    // The redirect, the tracking-parameter duplicate and the canonical copy are not extra documents.
    expect(docs.filter((d) => d.url?.includes('shipping'))).toHaveLength(1);
    expect(docs.filter((d) => d.url?.includes('refunds'))).toHaveLength(1);
    expect(byUrl['/shop/missing']).toMatchObject({ status: 'failed' });
    expect(byUrl['/shop/missing']?.error).toContain('404');
    expect(byUrl['/shop/broken']?.error).toContain('500');
    expect(byUrl['/shop/report.pdf']?.error).toContain('bad_content_type');
    expect(source.stats.pages_failed).toBeGreaterThanOrEqual(3);
    expect(source.stats.pages_fetched).toBeGreaterThanOrEqual(3);

    const hits = await siteHits(origin);
    expect(hits['/shop/private/notes']).toBeUndefined(); // robots.txt
    expect(hits['/shop/refunds']).toBe(1); // fetched once despite two links
    expect(hits['/docs/1']).toBeUndefined(); // excluded

    const chunks = await sql<{ url: string; title: string }[]>`select url, title from chunks where source_id = ${id}`;
    expect(chunks.find((c) => c.url.endsWith('/shop/refunds'))?.title).toBe('Refunds');
  }, 90_000);

  it('a start URL disallowed by robots.txt fails the source with the reason', async () => {
    const tenant = await createTenant();
    const origin = await forkSite();
    const id = await addSource(tenant, { type: 'website', url: `${origin}/shop/private/notes` });
    const { source } = await settled(tenant, id, 30_000);
    expect(source.status).toBe('failed');
    expect(source.error).toContain('robots.txt');
    expect((await siteHits(origin))['/shop/private/notes']).toBeUndefined();
  });

  it('a private-network start URL is refused, never fetched', async () => {
    const tenant = await createTenant();
    const id = await addSource(tenant, { type: 'website', url: 'http://10.0.0.5/' });
    const { source } = await settled(tenant, id, 30_000);
    expect(source.status).toBe('failed');
    expect(source.error).toMatch(/^The start URL http:\/\/10\.0\.0\.5\/ cannot be crawled/);
    const docs = await documents(tenant, id);
    expect(docs.every((d) => d.status === 'failed')).toBe(true);
  });

  it('a sitemap index is followed to its pages; a re-sync embeds nothing new; a removed page loses its chunks', async () => {
    const tenant = await createTenant();
    const origin = await forkSite();
    const site = () => origin;
    const id = await addSource(tenant, { type: 'sitemap', url: `${site()}/sitemap.xml` });
    const first = await settled(tenant, id, 60_000);
    expect(first.source.status).toBe('ready');
    const urls = (await documents(tenant, id)).map((d) => d.url?.replace(site(), '')).sort();
    expect(urls).toEqual(['/shop/', '/shop/refunds', '/shop/shipping']);
    const chunkIds = (await sql<{ id: string }[]>`select id from chunks where source_id = ${id} order by id`).map(
      (r) => r.id,
    );

    expect(
      (await call(`/api/v1/projects/${tenant.projectId}/sources/${id}/sync`, postJson(tenant.secretKey, {}))).status,
    ).toBe(202);
    const second = await settled(tenant, id, 60_000);
    expect(second.source.status).toBe('ready');
    expect(
      (await sql<{ id: string }[]>`select id from chunks where source_id = ${id} order by id`).map((r) => r.id),
    ).toEqual(chunkIds);

    // The shipping page disappears (404): after the next sync it no longer has chunks.
    await fetch(`${site()}/__remove`, { method: 'POST' });
    await call(`/api/v1/projects/${tenant.projectId}/sources/${id}/sync`, postJson(tenant.secretKey, {}));
    const third = await settled(tenant, id, 60_000);
    expect(third.source.status).toBe('ready');
    const shipping = (await documents(tenant, id)).find((d) => d.url?.endsWith('/shop/shipping'));
    expect(shipping).toMatchObject({ status: 'failed', chunk_count: 0 });
    const left = await sql<{ url: string }[]>`select distinct url from chunks where source_id = ${id}`;
    expect(left.map((r) => r.url.replace(site(), '')).sort()).toEqual(['/shop/', '/shop/refunds']);
  }, 120_000);
});
