/**
 * Document and source status. A source is `processing` while any document is queued or being
 * processed (or its crawl is still running), `ready` once at least one document is ready, and
 * `failed` — with the first readable reason — when nothing could be ingested. Skipped documents
 * (pages a crawl found but did not fetch) count neither way.
 */
import type { Sql, TransactionSql } from 'postgres';

type Db = Sql | TransactionSql;

export async function markDocument(
  sql: Db,
  documentId: string,
  status: 'processing' | 'ready' | 'failed',
  error?: string,
): Promise<void> {
  await sql`update documents set status = ${status}, error = ${error?.slice(0, 1000) ?? null}, updated_at = now() where id = ${documentId}`;
}

export async function refreshSourceStatus(sql: Db, sourceId: string): Promise<void> {
  await sql`
    with counts as (
      select
        count(*) filter (where d.status in ('queued', 'processing')) as pending,
        count(*) filter (where d.status = 'ready') as ready,
        min(d.error) filter (where d.status = 'failed') as first_error,
        min(d.error) filter (where d.status = 'skipped') as first_skip
      from documents d where d.source_id = ${sourceId}
    )
    update sources s set
      status = case
        when c.pending > 0 or s.crawl_running then 'processing'
        when c.ready > 0 then 'ready'
        else 'failed' end,
      error = case
        when c.pending = 0 and not s.crawl_running and c.ready = 0
          then coalesce(s.error, 'Nothing could be ingested: ' || coalesce(c.first_error, c.first_skip, 'no documents were found'))
        else null end,
      last_synced_at = case when c.pending = 0 and not s.crawl_running then now() else s.last_synced_at end,
      updated_at = now()
    from counts c
    where s.id = ${sourceId}`;
}

export async function bumpKnowledgeVersion(sql: Db, projectId: string): Promise<void> {
  await sql`update projects set knowledge_version = knowledge_version + 1 where id = ${projectId}`;
}
