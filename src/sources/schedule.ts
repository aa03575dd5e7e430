/**
 * The cron's ingestion duties, so nothing accepted stays stuck:
 * - re-sync sources whose refresh interval is due;
 * - re-queue documents whose ingest message was lost (queued or processing for more than
 *   STUCK_AFTER without progress);
 * - check on website and sitemap crawls that have not moved for STUCK_AFTER: `crawl.start` is
 *   sent again for their run, and the run decides (src/crawl/recover.ts) — left alone while it
 *   still moves or waits for a host, its open pages sent again when stalled, finished with what
 *   it has (the rest failed with a readable reason) when it stalls again and again. A crawl
 *   whose start message was lost is started.
 */
import type { Sql } from 'postgres';
import { crawlStartMessage, ingestMessage } from '../jobs/messages';
import { enqueueAll, syncSource, type SourceDeps } from './service';

const STUCK_AFTER = '15 minutes';
const BATCH = 50;

export async function runScheduledIngestion(
  deps: SourceDeps,
): Promise<{ resynced: number; requeued: number; crawls_checked: number }> {
  const due = await deps.sql<{ id: string; project_id: string }[]>`
    select id, project_id from sources
    where next_refresh_at is not null and next_refresh_at <= now() and not crawl_running and status in ('ready', 'failed')
    order by next_refresh_at limit ${BATCH}`;
  for (const source of due) await syncSource(deps, source.project_id, source.id);
  return {
    resynced: due.length,
    requeued: await requeueStuck(deps.sql, deps.ingest),
    crawls_checked: await checkQuietCrawls(deps.sql, deps.crawl),
  };
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

/**
 * Crawls whose source has not moved for STUCK_AFTER: running, or queued and never started.
 * Not touched here (a crawl waiting out a long Retry-After stays quiet): the start message is
 * idempotent, and the run itself judges whether it is stalled.
 */
async function checkQuietCrawls(sql: Sql, crawl: Queue): Promise<number> {
  const quiet = await sql<{ id: string; project_id: string; generation: number }[]>`
    select id, project_id, generation from sources
    where type in ('website', 'sitemap') and (crawl_running or status in ('queued', 'processing'))
      and updated_at < now() - ${STUCK_AFTER}::interval
    order by updated_at limit ${BATCH}`;
  await enqueueAll(
    crawl,
    quiet.map((s) => crawlStartMessage(s.project_id, s.id, s.generation)),
  );
  return quiet.length;
}
