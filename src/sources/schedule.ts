/**
 * The cron's ingestion duties: re-sync sources whose refresh interval is due, and re-queue
 * documents whose ingest message was lost (queued for more than STUCK_AFTER without progress) —
 * so nothing accepted stays stuck.
 */
import type { Sql } from 'postgres';
import { ingestMessage } from '../jobs/messages';
import { enqueueAll, syncSource, type SourceDeps } from './service';

const STUCK_AFTER = '15 minutes';
const BATCH = 50;

export async function runScheduledIngestion(deps: SourceDeps): Promise<{ resynced: number; requeued: number }> {
  const due = await deps.sql<{ id: string; project_id: string }[]>`
    select id, project_id from sources
    where next_refresh_at is not null and next_refresh_at <= now() and not crawl_running and status in ('ready', 'failed')
    order by next_refresh_at limit ${BATCH}`;
  for (const source of due) await syncSource(deps, source.project_id, source.id);
  return { resynced: due.length, requeued: await requeueStuck(deps.sql, deps.ingest) };
}

async function requeueStuck(sql: Sql, ingest: Queue): Promise<number> {
  const stuck = await sql<{ id: string; project_id: string; source_id: string }[]>`
    update documents d set updated_at = now()
    from sources s
    where d.source_id = s.id and s.type in ('text', 'faq', 'file')
      and d.status in ('queued', 'processing') and d.updated_at < now() - ${STUCK_AFTER}::interval
      and d.id in (select id from documents where status in ('queued', 'processing') order by updated_at limit ${BATCH * 4})
    returning d.id, d.project_id, d.source_id`;
  await enqueueAll(
    ingest,
    stuck.map((d) => ingestMessage(d.project_id, d.source_id, d.id)),
  );
  return stuck.length;
}
