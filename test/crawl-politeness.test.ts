/**
 * Politeness without losing pages: waiting for a host's slot (crawl-delay, 1 request/s) or
 * backing off after 429/503 sends the page again as a fresh message instead of retrying it, so
 * waits never spend the delivery attempts that send failures to the dead-letter queue; a page
 * that stays rate-limited fails with the real HTTP reason.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { crawlPage, MAX_RATE_LIMIT_RETRIES, type CrawlDeps } from '../src/crawl/worker';
import { ingestionEmbedder } from '../src/ingest/embedding';
import worker from '../src/index';
import { testSql } from './support/http';
import { forkSite, siteHits, siteLog } from './support/site';
import { addSource, documents, settled } from './support/sources';
import { createTenant } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

interface Sent {
  body: { url?: string };
  delaySeconds?: number;
}

/** A crawl queue that keeps what is sent to it. */
function recordingQueue(sent: Sent[]): Queue {
  return {
    send: async (body: Sent['body'], opts?: { delaySeconds?: number }) => {
      sent.push({ body, delaySeconds: opts?.delaySeconds });
    },
    sendBatch: async (messages: Iterable<{ body: Sent['body']; delaySeconds?: number }>) => {
      for (const m of messages) sent.push({ body: m.body, delaySeconds: m.delaySeconds });
    },
  } as unknown as Queue;
}

/**
 * A website source whose crawl run (generation 5) the test drives message by message. The
 * source's own crawl (generation 1, of a path the site does not have) is superseded at once.
 */
async function manualRun(origin: string, hostDelayMs: number) {
  const tenant = await createTenant();
  const id = await addSource(tenant, { type: 'website', url: `${origin}/manual/`, max_depth: 1 });
  const generation = 5;
  await sql`update sources set generation = ${generation}, crawl_running = true, status = 'processing' where id = ${id}`;
  const run = env.CRAWL_RUN.get(env.CRAWL_RUN.idFromName(`${id}:${generation}`));
  await run.start({ maxPages: 20, maxDepth: 1, hostDelayMs });
  const page = (url: string) => ({
    type: 'crawl.page' as const,
    job_id: `crawl:${id}:${generation}:${url}`.slice(0, 100),
    project_id: tenant.projectId,
    source_id: id,
    generation,
    url,
    depth: 1,
    kind: 'page' as const,
  });
  return { tenant, id, run, page };
}

describe('waiting for a host slot', () => {
  it('sends the page again with a delay and acknowledges the original: no retry is used', async () => {
    const origin = await forkSite();
    const { run, page } = await manualRun(origin, 5000);
    const [a, b] = await run.admit([
      { url: `${origin}/mixed/a`, depth: 1, kind: 'page' },
      { url: `${origin}/mixed/b`, depth: 1, kind: 'page' },
    ]);
    expect(b?.delaySeconds).toBe(5);
    const sent: Sent[] = [];
    const deliver = async (body: unknown) => {
      const batch = createMessageBatch('parley-crawl', [
        { id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body },
      ]);
      await worker.queue(batch, { ...env, CRAWL_QUEUE: recordingQueue(sent) });
      return getQueueResult(batch, createExecutionContext());
    };

    const first = await deliver(page(a!.url)); // its slot is now: fetched
    expect(first.explicitAcks).toHaveLength(1);
    const second = await deliver(page(b!.url)); // 5 s after the first: too long to wait inline
    expect(second.explicitAcks).toHaveLength(1);
    expect(second.retryMessages).toEqual([]);
    const again = sent.filter((m) => m.body.url === b!.url);
    expect(again).toHaveLength(1);
    expect(again[0]?.delaySeconds).toBeGreaterThanOrEqual(3);
    expect(again[0]?.delaySeconds).toBeLessThanOrEqual(5);
    expect((await siteHits(origin))['/mixed/b']).toBeUndefined();
  });

  it("keeps robots.txt's crawl-delay between page fetches and still ingests every page", async () => {
    const origin = await forkSite({ crawlDelay: 3, docs: 3 });
    const tenant = await createTenant();
    const id = await addSource(tenant, {
      type: 'website',
      url: `${origin}/docs/`,
      max_depth: 1,
      include: ['/docs/**'],
    });
    const { source } = await settled(tenant, id, 90_000);
    expect(source.status).toBe('ready');
    const docs = await documents(tenant, id);
    expect(docs.map((d) => d.url?.replace(origin, '')).sort()).toEqual(['/docs/', '/docs/1', '/docs/2', '/docs/3']);
    expect(docs.every((d) => d.status === 'ready')).toBe(true);

    const fetches = (await siteLog(origin)).filter((r) => r.path.startsWith('/docs/'));
    expect(fetches).toHaveLength(4);
    const gaps = fetches.slice(1).map((r, i) => r.at - (fetches[i]?.at ?? 0));
    // 3 s apart, less a little for the moment between the slot's claim and the request arriving.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(2900);
    const failures = await sql`select job_id from job_failures where body->>'source_id' = ${id}`;
    expect(failures).toEqual([]);
  }, 120_000);
});

describe('429 and 503 answers', () => {
  it('back off as fresh messages, honouring Retry-After, then ingest the page', async () => {
    const origin = await forkSite();
    const tenant = await createTenant();
    const id = await addSource(tenant, { type: 'website', url: `${origin}/busy-twice`, max_depth: 0 });
    const { source } = await settled(tenant, id, 60_000);
    expect(source.status).toBe('ready');
    expect((await documents(tenant, id))[0]).toMatchObject({ status: 'ready', title: 'Patience' });
    const tries = (await siteLog(origin)).filter((r) => r.path === '/busy-twice');
    expect(tries).toHaveLength(3);
    expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).toBeGreaterThanOrEqual(950); // Retry-After: 1
    expect(await sql`select job_id from job_failures where body->>'source_id' = ${id}`).toEqual([]);
  }, 90_000);

  it('a page that stays rate-limited fails with the HTTP status, after a bounded number of tries', async () => {
    const origin = await forkSite();
    const { tenant, id, run, page } = await manualRun(origin, 1000);
    await run.admit([{ url: `${origin}/busy`, depth: 1, kind: 'page' }]);
    const config = loadConfig(env);
    if (!config.ok) throw new Error('test configuration invalid');
    const sent: Sent[] = [];
    const deps: CrawlDeps = {
      sql,
      bucket: env.UPLOADS,
      ...ingestionEmbedder(config.config),
      config: config.config,
      runs: env.CRAWL_RUN,
      queue: recordingQueue(sent),
      random: () => 0, // no jitter: each backoff is what the server asked for (nothing), so no waiting here
    };
    for (let i = 0; i <= MAX_RATE_LIMIT_RETRIES + 2; i++) await crawlPage(deps, page(`${origin}/busy`));

    expect(sent.filter((m) => m.body.url === `${origin}/busy`)).toHaveLength(MAX_RATE_LIMIT_RETRIES);
    expect((await siteHits(origin))['/busy']).toBe(MAX_RATE_LIMIT_RETRIES + 1);
    const busy = (await documents(tenant, id)).find((d) => d.url === `${origin}/busy`);
    expect(busy).toMatchObject({ status: 'failed' });
    expect(busy?.error).toMatch(
      /^http_error \(HTTP 429\): .*\/busy answered HTTP 429 \(still refused after 5 tries\)$/,
    );
  });
});
