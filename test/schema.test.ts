import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { CrawlRun } from '../src/index';
import { testSql } from './support/http';

const sql = testSql();
afterAll(() => sql.end());

describe('database schema', () => {
  it('records applied migrations where `supabase db push` looks for them', async () => {
    const rows = await sql`select version, name from supabase_migrations.schema_migrations order by version`;
    expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(['extensions', 'projects', 'job_failures']));
  });

  it('has row level security enabled on every table in public', async () => {
    const open = await sql`
      select c.relname from pg_class c
      where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and not c.relrowsecurity`;
    expect(open.map((r) => r.relname)).toEqual([]);
  });

  it('has pgvector with working vector distance', async () => {
    const [row] = await sql`select '[1,0,0]'::vector <=> '[0,1,0]'::vector as distance`;
    expect(Number(row?.distance)).toBeCloseTo(1);
  });
});

describe('CrawlRun durable object', () => {
  const run = () => env.CRAWL_RUN.get(env.CRAWL_RUN.idFromName(`run-${crypto.randomUUID()}`));

  it('admits each URL once, within the page budget and depth', async () => {
    expect(CrawlRun).toBeTypeOf('function');
    const stub = run();
    await stub.start({ maxPages: 3, maxDepth: 1, hostDelayMs: 1000 });
    const first = await stub.admit([
      { url: 'https://a.example/', depth: 0, kind: 'page' },
      { url: 'https://a.example/', depth: 0, kind: 'page' },
      { url: 'https://a.example/deep', depth: 2, kind: 'page' },
      { url: 'https://a.example/sitemap.xml', depth: 0, kind: 'sitemap' },
    ]);
    expect(first.map((a) => a.url)).toEqual(['https://a.example/', 'https://a.example/sitemap.xml']);
    const second = await stub.admit(
      ['/1', '/2', '/3', '/4'].map((p) => ({ url: `https://a.example${p}`, depth: 1, kind: 'page' as const })),
    );
    expect(second.map((a) => a.url)).toEqual(['https://a.example/1', 'https://a.example/2']);
    expect((await stub.status()).progress.discovered).toBe(3);
  });

  it('records skipped URLs once, within the page budget, without a fetch slot', async () => {
    const stub = run();
    await stub.start({ maxPages: 3, maxDepth: 1, hostDelayMs: 1000 });
    await stub.admit([{ url: 'https://c.example/', depth: 0, kind: 'page' }]);
    const disallowed = ['/a', '/b', '/a', '/c', '/d'].map((p) => ({
      url: `https://c.example/private${p}`,
      depth: 1,
      kind: 'page' as const,
    }));
    const skipped = await stub.skip(disallowed, 'disallowed');
    // Budget 3: the start page and two skipped ones; the rest are beyond it and not recorded.
    expect(skipped.map((c) => c.url)).toEqual(['https://c.example/private/a', 'https://c.example/private/b']);
    expect(await stub.skip(disallowed, 'disallowed')).toEqual(skipped); // a redelivery sees the same
    expect(await stub.admit([{ url: 'https://c.example/private/a', depth: 1, kind: 'page' }])).toEqual([]);
    expect((await stub.claim('https://c.example/private/a')).pending).toBe(false);
    expect(await stub.status()).toMatchObject({
      progress: { discovered: 3, fetched: 0, failed: 0 },
      done: false,
      budgetReached: true,
    });
    // They took no fetch slot: the next URL of the host waits only for the start page's.
    const [next] = await stub.admit([{ url: 'https://c.example/sitemap.xml', depth: 0, kind: 'sitemap' }]);
    expect(next?.delaySeconds).toBe(1);
  });

  it('spaces fetches from one host and finishes when nothing is open', async () => {
    const stub = run();
    await stub.start({ maxPages: 10, maxDepth: 3, hostDelayMs: 1000 });
    const admitted = await stub.admit(
      ['/a', '/b', '/c'].map((p) => ({ url: `https://b.example${p}`, depth: 0, kind: 'page' as const })),
    );
    expect(admitted.map((a) => a.delaySeconds)).toEqual([0, 1, 2]);
    expect((await stub.claim('https://b.example/a')).waitMs).toBe(0);
    const early = await stub.claim('https://b.example/b');
    expect(early.waitMs).toBeGreaterThan(0);
    expect(early.waitMs).toBeLessThanOrEqual(1000);
    await stub.complete('https://b.example/a', 'fetched');
    await stub.complete('https://b.example/b', 'failed', 'http 500');
    const last = await stub.complete('https://b.example/c', 'fetched');
    expect(last).toEqual({ progress: { discovered: 3, fetched: 2, failed: 1 }, done: true, budgetReached: false });
    expect((await stub.claim('https://b.example/c')).pending).toBe(false);
  });
});

describe('local Postgres under concurrency', () => {
  it('many connections running parameterised queries at once each get their own answers', async () => {
    const clients = Array.from({ length: 8 }, () => testSql());
    try {
      const results = await Promise.all(
        clients.flatMap((client, c) =>
          Array.from({ length: 15 }, async (_, i) => {
            const [row] = await client<
              { n: number; label: string }[]
            >`select ${c * 100 + i}::int as n, ${`c${c}-q${i}`}::text as label`;
            return row?.n === c * 100 + i && row?.label === `c${c}-q${i}`;
          }),
        ),
      );
      expect(results.every(Boolean)).toBe(true);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });
});
