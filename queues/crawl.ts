/** The crawl queue's work: starting runs and fetching pages (see src/crawl/worker.ts). */
import { loadConfig } from '../src/config';
import { crawlPage, pageFailed, runOf, startCrawl, type CrawlDeps } from '../src/crawl/worker';
import { ingestionEmbedder } from '../src/ingest/embedding';
import { refreshSourceStatus } from '../src/ingest/status';
import type { CrawlMessage } from '../src/jobs/messages';
import type { JobContext } from './consume';

function deps(ctx: JobContext): CrawlDeps {
  const config = loadConfig(ctx.env);
  if (!config.ok) throw new Error(`configuration invalid: ${config.problems.map((p) => p.name).join(', ')}`);
  const { embed, preferredModel } = ingestionEmbedder(config.config);
  return {
    sql: ctx.sql,
    bucket: ctx.env.UPLOADS,
    embed,
    preferredModel,
    config: config.config,
    runs: ctx.env.CRAWL_RUN,
    queue: ctx.env.CRAWL_QUEUE,
  };
}

export async function crawl(message: CrawlMessage, ctx: JobContext): Promise<void> {
  if (message.type === 'crawl.start') return startCrawl(deps(ctx), message);
  return crawlPage(deps(ctx), message);
}

/** After the last retry: the page counts as failed (so the run can finish), or the crawl fails. */
export async function crawlDeadLettered(message: CrawlMessage, ctx: JobContext, lastError: string): Promise<void> {
  const d = deps(ctx);
  if (message.type === 'crawl.page') {
    return pageFailed(d, message, runOf(d, message), `gave up after repeated failures: ${lastError}`);
  }
  await ctx.sql`
    update sources set crawl_running = false, error = ${`The crawl could not start: ${lastError}`.slice(0, 1000)}, updated_at = now()
    where id = ${message.source_id} and project_id = ${message.project_id} and generation = ${message.generation}`;
  await refreshSourceStatus(ctx.sql, message.source_id);
}
