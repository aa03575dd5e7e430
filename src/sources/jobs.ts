/** The jobs dashboard: what is queued, processing, failed and dead-lettered, with the last errors. */
import type { Sql } from 'postgres';

export async function jobsOverview(sql: Sql, projectId: string) {
  const [documents] = await sql<{ queued: number; processing: number; ready: number; failed: number }[]>`
    select
      count(*) filter (where status = 'queued')::int as queued,
      count(*) filter (where status = 'processing')::int as processing,
      count(*) filter (where status = 'ready')::int as ready,
      count(*) filter (where status = 'failed')::int as failed
    from documents where project_id = ${projectId}`;
  const crawls = await sql`
    select id as source_id, title, generation, pages_discovered, pages_fetched, pages_failed, updated_at
    from sources where project_id = ${projectId} and crawl_running
    order by updated_at desc limit 20`;
  const failures = await sql`
    select kind, job_id, attempts, last_error, dead_lettered_at, recovered_at, first_failed_at, last_failed_at,
      body->>'source_id' as source_id, body->>'document_id' as document_id, body->>'url' as url
    from job_failures where project_id = ${projectId}
    order by last_failed_at desc limit 50`;
  const failedDocuments = await sql`
    select d.id, d.source_id, d.key, d.url, d.error, d.updated_at
    from documents d where d.project_id = ${projectId} and d.status = 'failed'
    order by d.updated_at desc limit 50`;
  const [dead] = await sql<{ count: number }[]>`
    select count(*)::int as count from job_failures where project_id = ${projectId} and dead_lettered_at is not null`;
  return {
    documents,
    crawls_running: crawls,
    dead_lettered: dead?.count ?? 0,
    recent_failures: failures,
    failed_documents: failedDocuments,
  };
}
