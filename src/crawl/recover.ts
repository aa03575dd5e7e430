/**
 * Recovering crawl runs that stopped moving. Queue messages can be lost (a consumer killed
 * mid-page, a message that expired in the dead-letter queue), and a run only finishes when
 * every URL it admitted has settled — so without this a source could stay `processing` forever.
 *
 * The cron (src/sources/schedule.ts) sends `crawl.start` again for crawls whose source has not
 * moved for a while; the run's Durable Object decides (`CrawlRun.recover`): a run still moving,
 * or waiting for a host's slot, is left alone; a stalled one has its open pages sent again; one
 * that stalls again and again without progress gives those pages up as failed, with a readable
 * reason, and finishes with what it has.
 */
import { log } from '../http/logger';
import { refreshSourceStatus } from '../ingest/status';
import {
  dispatch,
  finishCrawl,
  recordFailedPage,
  reportProgress,
  type CrawlDeps,
  type RunRef,
  type RunStub,
  type SourceRow,
} from './run';

/** A run that has not moved for this long (and has no host slot ahead) is stalled. */
export const CRAWL_STALL_MS = 10 * 60_000;
/** Re-dispatches of a stalled run, without progress in between, before its open pages are given up. */
export const MAX_CRAWL_RECOVERIES = 2;
export const STALLED_REASON = 'The crawl stalled: this page was sent for fetching several times without an answer';

/**
 * Checks on a run that already started; false when it has not (the caller starts it). Safe to
 * call at any time and any number of times: a run that is moving is not touched.
 */
export async function resumeCrawl(deps: CrawlDeps, ref: RunRef, source: SourceRow, run: RunStub): Promise<boolean> {
  const recovery = await run.recover({
    stallMs: CRAWL_STALL_MS,
    maxRecoveries: MAX_CRAWL_RECOVERIES,
    reason: STALLED_REASON,
  });
  switch (recovery.state) {
    case 'not_started':
      return false;
    case 'busy':
      return true;
    case 'redispatched':
      log('warn', 'crawl stalled; pages sent again', { source_id: ref.source_id, pages: recovery.admitted.length });
      await dispatch(deps, ref, recovery.admitted);
      return true;
    case 'idle':
      // Everything settled, but the finish may not have landed (the consumer died after the last page).
      if (source.crawl_running || source.status === 'processing' || source.status === 'queued') {
        await failUnfinishedDocuments(deps, ref);
        await reportProgress(deps, ref, recovery.status);
      }
      return true;
    case 'abandoned':
      log('warn', 'crawl stalled repeatedly; open pages given up', {
        source_id: ref.source_id,
        pages: recovery.abandoned.length,
      });
      for (const c of recovery.abandoned) {
        if (c.kind === 'page') await recordFailedPage(deps, ref, c.url, STALLED_REASON);
      }
      await failUnfinishedDocuments(deps, ref);
      await reportCounters(deps, ref, recovery.status.progress);
      // Pages not seen this time may still exist: a given-up run removes nothing.
      await finishCrawl(deps, ref, { prune: false });
      return true;
  }
}

/** Documents this run left half-ingested (the page was stored, its chunks never landed). */
async function failUnfinishedDocuments(deps: CrawlDeps, ref: RunRef): Promise<void> {
  const failed = await deps.sql`
    update documents set status = 'failed', error = ${STALLED_REASON}, updated_at = now()
    where source_id = ${ref.source_id} and project_id = ${ref.project_id} and status in ('queued', 'processing')
    returning id`;
  if (failed.length > 0) await refreshSourceStatus(deps.sql, ref.source_id);
}

async function reportCounters(
  deps: CrawlDeps,
  ref: RunRef,
  progress: { discovered: number; fetched: number; failed: number },
): Promise<void> {
  await deps.sql`
    update sources set pages_discovered = ${progress.discovered}, pages_fetched = ${progress.fetched},
      pages_failed = ${progress.failed}, updated_at = now()
    where id = ${ref.source_id} and generation = ${ref.generation}`;
}
