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
  it('keeps progress counters per run', async () => {
    expect(CrawlRun).toBeTypeOf('function');
    const stub = env.CRAWL_RUN.get(env.CRAWL_RUN.idFromName(`run-${crypto.randomUUID()}`));
    expect(await stub.progress()).toEqual({ discovered: 0, fetched: 0, failed: 0 });
    await stub.count({ discovered: 3 });
    expect(await stub.count({ fetched: 1, failed: 1 })).toEqual({ discovered: 3, fetched: 1, failed: 1 });
  });
});
