/**
 * The crawl's work, driven by queue messages (queues/crawl.ts) and coordinated by the run's
 * Durable Object (durable-objects/crawl-run.ts):
 *   crawl.start  check robots.txt, seed the frontier with the start URL (or sitemap);
 *   crawl.page   wait for the host's politeness slot, fetch safely, ingest the page, admit
 *                its in-scope links (or a sitemap's entries), report progress;
 *   finish       when nothing is open: pages of older syncs lose their chunks, status settles.
 */
import type { Sql } from 'postgres';
import type { Config } from '../config';
import { extractDocument } from '../ingest/extract';
import { extractHtml } from '../ingest/extract/html';
import { ingestExtracted, type IngestDeps } from '../ingest/pipeline';
import { bumpKnowledgeVersion, refreshSourceStatus } from '../ingest/status';
import { ExtractionError } from '../ingest/types';
import type { CrawlMessage } from '../jobs/messages';
import { deletePrefix, documentKey } from '../sources/store';
import type { Admitted, Candidate, CrawlRun } from '../../durable-objects/crawl-run';
import { fetchSafely, type FetchResult } from './fetch';
import { backoffSeconds, hostDelayMs } from './politeness';
import { dohResolver } from './dns';
import { crawlPolicy } from './policy';
import { checkTarget } from './ssrf';
import { parseRobots, robotsFromFetch, robotsUrl, ROBOTS_CONTENT_TYPES, ROBOTS_MAX_BYTES } from './robots';
import { parseSitemap } from './sitemap';
import { matchesRules, normalizeUrl, sameSite } from './url';

type StartMessage = Extract<CrawlMessage, { type: 'crawl.start' }>;
type PageMessage = Extract<CrawlMessage, { type: 'crawl.page' }>;

export interface CrawlDeps extends IngestDeps {
  config: Config;
  runs: DurableObjectNamespace<CrawlRun>;
  queue: Queue;
  /** Ask for the message to be delivered again later (not a failure). */
  retryLater: (delaySeconds: number) => never;
}

interface SourceRow {
  type: 'website' | 'sitemap';
  generation: number;
  config: { url: string; max_pages: number; max_depth?: number; include?: string[]; exclude?: string[] };
}

const PAGE_TYPES = ['text/html', 'application/xhtml+xml'];
const SITEMAP_TYPES = ['application/xml', 'text/xml', 'text/plain', 'application/rss+xml'];
const MAX_PAGE_BYTES = 5 * 1024 * 1024;
const FETCH_TIMEOUT_MS = 15_000;
const MAX_RATE_LIMIT_RETRIES = 4;
/** Inline waits for a politeness slot up to this long; longer waits go back to the queue. */
const MAX_INLINE_WAIT_MS = 2500;

const runOf = (deps: CrawlDeps, sourceId: string, generation: number) =>
  deps.runs.get(deps.runs.idFromName(`${sourceId}:${generation}`));

async function currentSource(
  sql: Sql,
  msg: { project_id: string; source_id: string; generation: number },
): Promise<SourceRow | undefined> {
  const [row] = await sql<SourceRow[]>`
    select type, generation, config from sources
    where id = ${msg.source_id} and project_id = ${msg.project_id} and type in ('website', 'sitemap')`;
  // A newer sync supersedes this run: its messages are simply dropped.
  return row && row.generation === msg.generation ? row : undefined;
}

function fetchOptions(deps: CrawlDeps, allowedContentTypes: readonly string[], maxBytes: number) {
  return {
    policy: crawlPolicy(deps.config.ENVIRONMENT, deps.config.CRAWL_ALLOW_LOOPBACK),
    resolverUrl: deps.config.DNS_RESOLVER_URL,
    allowedContentTypes,
    maxBytes,
    timeoutMs: FETCH_TIMEOUT_MS,
  };
}

/** robots.txt of the URL's host, fetched once per run and kept in the run's object. */
async function robotsFor(deps: CrawlDeps, run: DurableObjectStub<CrawlRun>, url: URL) {
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

async function dispatch(
  deps: CrawlDeps,
  msg: { project_id: string; source_id: string; generation: number },
  admitted: Admitted[],
): Promise<void> {
  for (let i = 0; i < admitted.length; i += 100) {
    await deps.queue.sendBatch(
      admitted.slice(i, i + 100).map((a) => ({
        body: {
          type: 'crawl.page',
          job_id: `crawl:${msg.source_id}:${msg.generation}:${a.url}`.slice(0, 100),
          project_id: msg.project_id,
          source_id: msg.source_id,
          generation: msg.generation,
          url: a.url,
          depth: a.depth,
          kind: a.kind,
        },
        delaySeconds: Math.min(a.delaySeconds, 43_200),
      })),
    );
  }
}

export async function startCrawl(deps: CrawlDeps, msg: StartMessage): Promise<void> {
  const source = await currentSource(deps.sql, msg);
  if (!source) return;
  const start = normalizeUrl(source.config.url);
  if (!start)
    return failSource(deps.sql, msg.source_id, `The start URL ${source.config.url} is not a valid http(s) URL`);
  await deps.sql`
    update sources set crawl_running = true, status = 'processing', error = null,
      pages_discovered = 0, pages_fetched = 0, pages_failed = 0, updated_at = now()
    where id = ${msg.source_id}`;
  const run = runOf(deps, msg.source_id, msg.generation);
  await run.start({
    maxPages: source.config.max_pages,
    maxDepth: source.type === 'sitemap' ? 0 : (source.config.max_depth ?? 3),
    hostDelayMs: hostDelayMs(undefined, deps.config.CRAWL_HOST_RPS),
  });
  const startUrl = new URL(start);
  const target = await checkTarget(
    startUrl,
    fetchOptions(deps, [], 0).policy,
    dohResolver(deps.config.DNS_RESOLVER_URL),
  );
  if (!target.ok)
    return failSource(deps.sql, msg.source_id, `The start URL ${start} cannot be crawled: ${target.message}`);
  const robots = await robotsFor(deps, run, startUrl);
  if (source.type === 'website' && !robots.isAllowed(startUrl.pathname + startUrl.search)) {
    return failSource(deps.sql, msg.source_id, `The start URL ${start} is disallowed by the site's robots.txt`);
  }
  const seed: Candidate = { url: start, depth: 0, kind: source.type === 'sitemap' ? 'sitemap' : 'page' };
  await dispatch(deps, msg, await run.admit([seed]));
  await reportProgress(deps, msg, run, await run.status());
}

async function failSource(sql: Sql, sourceId: string, reason: string): Promise<void> {
  await sql`update sources set crawl_running = false, error = ${reason}, updated_at = now() where id = ${sourceId}`;
  await refreshSourceStatus(sql, sourceId);
}

export async function crawlPage(deps: CrawlDeps, msg: PageMessage, attempts: number): Promise<void> {
  const source = await currentSource(deps.sql, msg);
  if (!source) return;
  const run = runOf(deps, msg.source_id, msg.generation);
  let claim = await run.claim(msg.url);
  if (!claim.pending) return; // a duplicate delivery of a URL already settled
  if (claim.waitMs > 0 && claim.waitMs <= MAX_INLINE_WAIT_MS) {
    await new Promise((r) => setTimeout(r, claim.waitMs));
    claim = await run.claim(msg.url);
  }
  if (claim.waitMs > 0) deps.retryLater(Math.ceil(claim.waitMs / 1000));

  const url = new URL(msg.url);
  const robots = await robotsFor(deps, run, url);
  if (!robots.isAllowed(url.pathname + url.search)) {
    return settle(deps, msg, run, 'skipped', 'disallowed by robots.txt');
  }
  const kind = msg.kind;
  const result = await fetchSafely(
    msg.url,
    fetchOptions(deps, kind === 'sitemap' ? SITEMAP_TYPES : PAGE_TYPES, MAX_PAGE_BYTES),
  );
  if (!result.ok) {
    if ((result.status === 429 || result.status === 503) && attempts <= MAX_RATE_LIMIT_RETRIES) {
      const wait = backoffSeconds(
        attempts,
        result.retryAfterSeconds !== undefined ? String(result.retryAfterSeconds) : undefined,
      );
      await run.slowHost(
        url.host,
        hostDelayMs(robots.crawlDelaySeconds, deps.config.CRAWL_HOST_RPS),
        Date.now() + wait * 1000,
      );
      deps.retryLater(wait);
    }
    return pageFailed(deps, msg, run, describe(result));
  }
  if (kind === 'sitemap') return expandSitemap(deps, msg, source, run, result);
  return ingestPage(deps, msg, source, run, result);
}

function describe(result: Extract<FetchResult, { ok: false }>): string {
  return result.status
    ? `${result.reason} (HTTP ${result.status}): ${result.message}`
    : `${result.reason}: ${result.message}`;
}

async function expandSitemap(
  deps: CrawlDeps,
  msg: PageMessage,
  source: SourceRow,
  run: DurableObjectStub<CrawlRun>,
  result: Extract<FetchResult, { ok: true }>,
) {
  const parsed = parseSitemap(new TextDecoder().decode(result.bytes));
  if (!parsed) return settle(deps, msg, run, 'failed', 'not a sitemap (expected <urlset> or <sitemapindex>)');
  const candidates: Candidate[] = parsed.urls
    .map((u) => normalizeUrl(u))
    .filter((u): u is string => u !== null && sameSite(u, source.config.url))
    .map((u) => ({ url: u, depth: 0, kind: parsed.kind === 'index' ? 'sitemap' : 'page' }));
  await dispatch(deps, msg, await run.admit(candidates));
  return settle(deps, msg, run, 'fetched');
}

async function ingestPage(
  deps: CrawlDeps,
  msg: PageMessage,
  source: SourceRow,
  run: DurableObjectStub<CrawlRun>,
  result: Extract<FetchResult, { ok: true }>,
) {
  const finalUrl = normalizeUrl(result.url) ?? msg.url;
  let extracted;
  try {
    extracted = await extractDocument({ bytes: result.bytes, contentType: result.contentType, url: finalUrl });
  } catch (err) {
    if (!(err instanceof ExtractionError)) throw err;
    if (err.reason !== 'no_text') return pageFailed(deps, msg, run, `${err.reason}: ${err.message}`);
    // A page of nothing but navigation has no text to index, but its links still lead on.
    const { links } = await extractHtml(new TextDecoder().decode(result.bytes), finalUrl);
    await followLinks(deps, msg, source, run, links ?? []);
    return settle(deps, msg, run, 'skipped', 'no text to index (navigation only)');
  }
  // The page's identity: its canonical URL when that is on the same site, else where it was found.
  const canonical = extracted.canonicalUrl ? normalizeUrl(extracted.canonicalUrl) : null;
  const key = canonical && sameSite(canonical, source.config.url) ? canonical : finalUrl;
  if (key !== msg.url && !(await run.markSeen(key, msg.depth))) {
    return settle(deps, msg, run, 'skipped', `duplicate of ${key}`);
  }
  const doc = await upsertPageDocument(deps.sql, msg, key, extracted.title ?? null);
  await deps.bucket.put(documentKey(msg.project_id, msg.source_id, doc.id), result.bytes, {
    httpMetadata: { contentType: result.contentType },
  });
  await deps.sql`update documents set r2_key = ${documentKey(msg.project_id, msg.source_id, doc.id)} where id = ${doc.id}`;
  await ingestExtracted(deps, msg, { ...doc, url: key, format: 'html' }, extracted);

  await followLinks(deps, msg, source, run, extracted.links ?? []);
  return settle(deps, msg, run, 'fetched');
}

/** Admits a page's in-scope links one level deeper (same site, include/exclude rules, depth). */
async function followLinks(
  deps: CrawlDeps,
  msg: PageMessage,
  source: SourceRow,
  run: DurableObjectStub<CrawlRun>,
  found: string[],
) {
  if (msg.depth >= (source.config.max_depth ?? 3)) return;
  const links: Candidate[] = found
    .map((l) => normalizeUrl(l))
    .filter(
      (l): l is string =>
        l !== null && sameSite(l, source.config.url) && matchesRules(l, source.config.include, source.config.exclude),
    )
    .map((l) => ({ url: l, depth: msg.depth + 1, kind: 'page' }));
  await dispatch(deps, msg, await run.admit(links));
}

async function upsertPageDocument(sql: Sql, msg: PageMessage, key: string, title: string | null) {
  const [doc] = await sql<
    { id: string; title: string | null; content_hash: string | null; embedding_model: string | null }[]
  >`
    insert into documents (project_id, source_id, key, url, title, format, status, generation)
    values (${msg.project_id}, ${msg.source_id}, ${key}, ${key}, ${title}, 'html', 'processing', ${msg.generation})
    on conflict (source_id, key) do update set
      url = excluded.url, status = 'processing', error = null, generation = excluded.generation, updated_at = now()
    returning id, null::text as title, content_hash, embedding_model`;
  if (!doc) throw new Error('upsert returned no row');
  return doc;
}

/**
 * A page that could not be fetched or read is listed as a failed document with its reason; if
 * an earlier sync had ingested it, it no longer answers questions (its chunks go).
 */
export async function pageFailed(
  deps: CrawlDeps,
  msg: PageMessage,
  run: DurableObjectStub<CrawlRun>,
  reason: string,
): Promise<void> {
  if (msg.kind === 'page') {
    const [doc] = await deps.sql<{ id: string }[]>`
      insert into documents (project_id, source_id, key, url, format, status, error, generation)
      values (${msg.project_id}, ${msg.source_id}, ${msg.url}, ${msg.url}, 'html', 'failed', ${reason.slice(0, 1000)}, ${msg.generation})
      on conflict (source_id, key) do update set
        status = 'failed', error = excluded.error, generation = excluded.generation, chunk_count = 0,
        content_hash = null, updated_at = now()
      returning id`;
    const removed = doc ? await deps.sql`delete from chunks where document_id = ${doc.id} returning id` : [];
    if (removed.length > 0) await bumpKnowledgeVersion(deps.sql, msg.project_id);
  }
  return settle(deps, msg, run, 'failed', reason);
}

async function settle(
  deps: CrawlDeps,
  msg: PageMessage,
  run: DurableObjectStub<CrawlRun>,
  outcome: 'fetched' | 'failed' | 'skipped',
  reason?: string,
): Promise<void> {
  const status = await run.complete(msg.url, outcome, reason);
  await reportProgress(deps, msg, run, status);
}

async function reportProgress(
  deps: CrawlDeps,
  msg: { project_id: string; source_id: string; generation: number },
  _run: DurableObjectStub<CrawlRun>,
  status: { progress: { discovered: number; fetched: number; failed: number }; done: boolean; budgetReached: boolean },
): Promise<void> {
  const { discovered, fetched, failed } = status.progress;
  await deps.sql`
    update sources set pages_discovered = ${discovered}, pages_fetched = ${fetched}, pages_failed = ${failed}, updated_at = now()
    where id = ${msg.source_id} and generation = ${msg.generation}`;
  if (status.done) await finishCrawl(deps, msg, status.budgetReached);
}

/**
 * The run is over. Unless it stopped at its page budget (then unseen pages may still exist),
 * documents not confirmed by this generation are pages that disappeared: they and their chunks go.
 */
async function finishCrawl(
  deps: CrawlDeps,
  msg: { project_id: string; source_id: string; generation: number },
  budgetReached: boolean,
) {
  if (!budgetReached) {
    const removed = await deps.sql<{ id: string }[]>`
      delete from documents where source_id = ${msg.source_id} and generation < ${msg.generation} returning id`;
    for (const doc of removed) await deletePrefix(deps.bucket, documentKey(msg.project_id, msg.source_id, doc.id));
    if (removed.length > 0) await bumpKnowledgeVersion(deps.sql, msg.project_id);
  }
  await deps.sql`update sources set crawl_running = false, updated_at = now() where id = ${msg.source_id} and generation = ${msg.generation}`;
  await refreshSourceStatus(deps.sql, msg.source_id);
}
