/**
 * The plumbing a crawl run's steps share (worker.ts, recover.ts): its dependencies, the source
 * row it belongs to, safe-fetch options, robots.txt per host, sending pages to the crawl queue,
 * and how a page's outcome lands — in the run's Durable Object, as progress on the source, as a
 * failed or skipped document with its reason — until the run finishes.
 */
import type { Sql } from 'postgres';
import type { Config } from '../config';
import type { IngestDeps } from '../ingest/pipeline';
import { bumpKnowledgeVersion, refreshSourceStatus } from '../ingest/status';
import type { CrawlMessage } from '../jobs/messages';
import { deletePrefix, documentKey } from '../sources/store';
import type { Admitted, Candidate, CrawlRun, RunStatus } from '../../durable-objects/crawl-run';
import { fetchSafely, type FetchSafelyOptions } from './fetch';
import { hostDelayMs } from './politeness';
import { crawlPolicy } from './policy';
import { parseRobots, robotsFromFetch, robotsUrl, ROBOTS_CONTENT_TYPES, ROBOTS_MAX_BYTES, type Robots } from './robots';

export type PageMessage = Extract<CrawlMessage, { type: 'crawl.page' }>;
/** What identifies a run: the source and its sync generation. */
export type RunRef = Pick<PageMessage, 'project_id' | 'source_id' | 'generation'>;
export type RunStub = DurableObjectStub<CrawlRun>;

export interface CrawlDeps extends IngestDeps {
  config: Config;
  runs: DurableObjectNamespace<CrawlRun>;
  /** The crawl queue: pages are sent here, and sent again when they must wait. */
  queue: Queue;
  /** Random source in [0, 1) for backoff jitter (default Math.random). */
  random?: () => number;
}

export interface SourceRow {
  type: 'website' | 'sitemap';
  generation: number;
  status: string;
  crawl_running: boolean;
  config: { url: string; max_pages: number; max_depth?: number; include?: string[]; exclude?: string[] };
}

/** The reason listed on a page that was found but not fetched because robots.txt disallows it. */
export const ROBOTS_DISALLOWED = "disallowed by the site's robots.txt";
const FETCH_TIMEOUT_MS = 15_000;
/** Queues accept delays up to 12 hours. */
const MAX_DELAY_SECONDS = 43_200;

export const runOf = (deps: CrawlDeps, ref: RunRef): RunStub =>
  deps.runs.get(deps.runs.idFromName(`${ref.source_id}:${ref.generation}`));

/** The source this run crawls, or undefined when it was deleted or a newer sync superseded the run. */
export async function currentSource(sql: Sql, ref: RunRef): Promise<SourceRow | undefined> {
  const [row] = await sql<SourceRow[]>`
    select type, generation, status, crawl_running, config from sources
    where id = ${ref.source_id} and project_id = ${ref.project_id} and type in ('website', 'sitemap')`;
  // A newer sync supersedes this run: its messages are simply dropped.
  return row && row.generation === ref.generation ? row : undefined;
}

export function fetchOptions(
  deps: CrawlDeps,
  allowedContentTypes: readonly string[],
  maxBytes: number,
): FetchSafelyOptions {
  return {
    policy: crawlPolicy(deps.config.ENVIRONMENT, deps.config.CRAWL_ALLOW_LOOPBACK),
    resolverUrl: deps.config.DNS_RESOLVER_URL,
    allowedContentTypes,
    maxBytes,
    timeoutMs: FETCH_TIMEOUT_MS,
  };
}

/** robots.txt of the URL's host, fetched once per run and kept in the run's object. */
export async function robotsFor(deps: CrawlDeps, run: RunStub, url: URL) {
  const cached = await run.robots(url.host);
  if (cached !== undefined) return parseRobots(cached);
  const result = await fetchSafely(robotsUrl(url), fetchOptions(deps, ROBOTS_CONTENT_TYPES, ROBOTS_MAX_BYTES));
  const robots = robotsFromFetch(result);
  // Cache the decision as robots.txt text: the real file, or its allow-all / disallow-all meaning.
  const text = result.ok
    ? new TextDecoder().decode(result.bytes)
    : robots.isAllowed('/')
      ? ''
      : 'User-agent: *\nDisallow: /\n';
  await run.cacheRobots(url.host, text);
  await run.slowHost(url.host, hostDelayMs(robots.crawlDelaySeconds, deps.config.CRAWL_HOST_RPS));
  return robots;
}

const delay = (seconds: number) => Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil(seconds)));

/** Sends admitted URLs to the crawl queue, each delayed to its host slot. */
export async function dispatch(deps: CrawlDeps, ref: RunRef, admitted: Admitted[]): Promise<void> {
  for (let i = 0; i < admitted.length; i += 100) {
    await deps.queue.sendBatch(
      admitted.slice(i, i + 100).map((a) => ({
        body: {
          type: 'crawl.page',
          job_id: `crawl:${ref.source_id}:${ref.generation}:${a.url}`.slice(0, 100),
          project_id: ref.project_id,
          source_id: ref.source_id,
          generation: ref.generation,
          url: a.url,
          depth: a.depth,
          kind: a.kind,
        } satisfies PageMessage,
        delaySeconds: delay(a.delaySeconds),
      })),
    );
  }
}

/**
 * Admits URLs found on a page (or in a sitemap) and queues them — except those robots.txt
 * disallows: they are never queued nor fetched, and spend no fetch slot, but are listed as
 * skipped documents with the reason (`recordSkippedPages`). They count toward the run's page
 * budget like any discovered page (`CrawlRun.skip`), which bounds how many are listed; the
 * fetchable URLs go first, so a page's disallowed links never take budget from its other links.
 */
export async function admitFound(deps: CrawlDeps, ref: RunRef, run: RunStub, candidates: Candidate[]): Promise<void> {
  const allowed: Candidate[] = [];
  const disallowed: Candidate[] = [];
  const rules = new Map<string, Robots>();
  for (const candidate of candidates) {
    const url = new URL(candidate.url);
    let robots = rules.get(url.host);
    if (!robots) {
      robots = await robotsFor(deps, run, url);
      rules.set(url.host, robots);
    }
    (robots.isAllowed(url.pathname + url.search) ? allowed : disallowed).push(candidate);
  }
  await dispatch(deps, ref, await run.admit(allowed));
  if (disallowed.length === 0) return;
  const skipped = await run.skip(disallowed, ROBOTS_DISALLOWED);
  const pages = skipped.filter((c) => c.kind === 'page').map((c) => c.url);
  await recordSkippedPages(deps, ref, pages, ROBOTS_DISALLOWED);
}

/**
 * Sends a page back to the queue to run after `seconds` (its host slot is not due, or the host
 * asked us to back off). A fresh message rather than `message.retry()`: waiting is not failing,
 * so it must not spend the delivery attempts that send real failures to the dead-letter queue.
 * The caller returns normally and the original message is acknowledged.
 */
export async function requeue(deps: CrawlDeps, msg: PageMessage, seconds: number): Promise<void> {
  await deps.queue.send(msg, { delaySeconds: delay(seconds) });
}

/**
 * A page that could not be fetched or read is listed as a failed document with its reason; if
 * an earlier sync had ingested it, it no longer answers questions (its chunks go).
 */
export async function pageFailed(deps: CrawlDeps, msg: PageMessage, run: RunStub, reason: string): Promise<void> {
  if (msg.kind === 'page') await recordFailedPage(deps, msg, msg.url, reason);
  return settle(deps, msg, run, 'failed', reason);
}

export async function recordFailedPage(deps: CrawlDeps, ref: RunRef, url: string, reason: string): Promise<void> {
  const [doc] = await deps.sql<{ id: string }[]>`
    insert into documents (project_id, source_id, key, url, format, status, error, generation)
    values (${ref.project_id}, ${ref.source_id}, ${url}, ${url}, 'html', 'failed', ${reason.slice(0, 1000)}, ${ref.generation})
    on conflict (source_id, key) do update set
      status = 'failed', error = excluded.error, generation = excluded.generation, chunk_count = 0,
      content_hash = null, updated_at = now()
    returning id`;
  const removed = doc ? await deps.sql`delete from chunks where document_id = ${doc.id} returning id` : [];
  if (removed.length > 0) await bumpKnowledgeVersion(deps.sql, ref.project_id);
}

/**
 * Pages found but deliberately not fetched are listed as skipped documents with the reason; one
 * an earlier sync had ingested no longer answers questions (its chunks go). Idempotent: a page
 * already listed as skipped in this generation, with this reason, is left as it is.
 */
export async function recordSkippedPages(deps: CrawlDeps, ref: RunRef, urls: string[], reason: string): Promise<void> {
  if (urls.length === 0) return;
  const docs = await deps.sql<{ id: string }[]>`
    insert into documents (project_id, source_id, key, url, format, status, error, generation)
    select ${ref.project_id}, ${ref.source_id}, u, u, 'html', 'skipped', ${reason.slice(0, 1000)}, ${ref.generation}
    from jsonb_array_elements_text(${deps.sql.json(urls)}) as u
    on conflict (source_id, key) do update set
      status = 'skipped', error = excluded.error, generation = excluded.generation, chunk_count = 0,
      content_hash = null, updated_at = now()
    where documents.status <> 'skipped' or documents.generation <> excluded.generation
      or documents.error is distinct from excluded.error
    returning id`;
  if (docs.length === 0) return;
  const removed = await deps.sql`
    delete from chunks where document_id in (select jsonb_array_elements_text(${deps.sql.json(docs.map((d) => d.id))})::uuid)
    returning id`;
  if (removed.length > 0) await bumpKnowledgeVersion(deps.sql, ref.project_id);
}

export async function settle(
  deps: CrawlDeps,
  msg: PageMessage,
  run: RunStub,
  outcome: 'fetched' | 'failed' | 'skipped',
  reason?: string,
): Promise<void> {
  await reportProgress(deps, msg, await run.complete(msg.url, outcome, reason));
}

/** Puts the run's counters on the source; finishes the run when nothing is left open. */
export async function reportProgress(deps: CrawlDeps, ref: RunRef, status: RunStatus): Promise<void> {
  const { discovered, fetched, failed } = status.progress;
  await deps.sql`
    update sources set pages_discovered = ${discovered}, pages_fetched = ${fetched}, pages_failed = ${failed}, updated_at = now()
    where id = ${ref.source_id} and generation = ${ref.generation}`;
  if (status.done) await finishCrawl(deps, ref, { prune: !status.budgetReached });
}

/**
 * The run is over. With `prune` (the run saw the whole site: it neither stopped at its page
 * budget nor was given up), documents not confirmed by this generation are pages that
 * disappeared: they and their chunks go.
 */
export async function finishCrawl(deps: CrawlDeps, ref: RunRef, opts: { prune: boolean }): Promise<void> {
  if (opts.prune) {
    const removed = await deps.sql<{ id: string }[]>`
      delete from documents where source_id = ${ref.source_id} and generation < ${ref.generation} returning id`;
    for (const doc of removed) await deletePrefix(deps.bucket, documentKey(ref.project_id, ref.source_id, doc.id));
    if (removed.length > 0) await bumpKnowledgeVersion(deps.sql, ref.project_id);
  }
  await deps.sql`update sources set crawl_running = false, updated_at = now() where id = ${ref.source_id} and generation = ${ref.generation}`;
  await refreshSourceStatus(deps.sql, ref.source_id);
}

export async function failSource(sql: Sql, sourceId: string, reason: string): Promise<void> {
  await sql`update sources set crawl_running = false, error = ${reason}, updated_at = now() where id = ${sourceId}`;
  await refreshSourceStatus(sql, sourceId);
}
