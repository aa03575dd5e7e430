/**
 * The crawl's work, driven by queue messages (queues/crawl.ts) and coordinated by the run's
 * Durable Object (durable-objects/crawl-run.ts):
 *   crawl.start  check robots.txt, seed the frontier with the start URL (or sitemap); for a run
 *                that already started, a check that it is still moving (recover.ts);
 *   crawl.page   wait for the host's politeness slot, fetch safely (redirects stay on the site
 *                and within robots.txt), ingest the page, admit its in-scope links (or a
 *                sitemap's entries) — those robots.txt disallows are listed as skipped, never
 *                fetched — and report progress;
 *   finish       when nothing is open: pages of older syncs lose their chunks, status settles.
 */
import type { Sql } from 'postgres';
import { extractDocument } from '../ingest/extract';
import { extractHtml } from '../ingest/extract/html';
import { ingestExtracted } from '../ingest/pipeline';
import { ExtractionError } from '../ingest/types';
import type { CrawlMessage } from '../jobs/messages';
import { documentKey } from '../sources/store';
import type { Candidate } from '../../durable-objects/crawl-run';
import { dohResolver } from './dns';
import { fetchSafely, type FetchResult } from './fetch';
import { backoffSeconds, hostDelayMs } from './politeness';
import { resumeCrawl } from './recover';
import {
  admitFound,
  currentSource,
  dispatch,
  failSource,
  fetchOptions,
  pageFailed,
  recordSkippedPages,
  reportProgress,
  requeue,
  robotsFor,
  ROBOTS_DISALLOWED,
  runOf,
  settle,
  type CrawlDeps,
  type PageMessage,
  type RunStub,
  type SourceRow,
} from './run';
import { checkTarget } from './ssrf';
import { parseSitemap } from './sitemap';
import { matchesRules, normalizeUrl, sameSite } from './url';

export type { CrawlDeps } from './run';
export { pageFailed, runOf } from './run';

type StartMessage = Extract<CrawlMessage, { type: 'crawl.start' }>;

const PAGE_TYPES = ['text/html', 'application/xhtml+xml'];
const SITEMAP_TYPES = ['application/xml', 'text/xml', 'text/plain', 'application/rss+xml'];
const MAX_PAGE_BYTES = 5 * 1024 * 1024;
/**
 * 429/503 answers a page may get before it counts as failed. Counted by the run, not by queue
 * deliveries (each wait is a fresh message), so this is independent of the queue's max_retries.
 */
export const MAX_RATE_LIMIT_RETRIES = 4;
/** Inline waits for a politeness slot up to this long; longer waits go back to the queue. */
const MAX_INLINE_WAIT_MS = 2500;

export async function startCrawl(deps: CrawlDeps, msg: StartMessage): Promise<void> {
  const source = await currentSource(deps.sql, msg);
  if (!source) return;
  const run = runOf(deps, msg);
  // A second start of a run that began (a redelivery, or the cron finding it quiet) only checks on it.
  if (await resumeCrawl(deps, msg, source, run)) return;
  const start = normalizeUrl(source.config.url);
  if (!start)
    return failSource(deps.sql, msg.source_id, `The start URL ${source.config.url} is not a valid http(s) URL`);
  await deps.sql`
    update sources set crawl_running = true, status = 'processing', error = null,
      pages_discovered = 0, pages_fetched = 0, pages_failed = 0, updated_at = now()
    where id = ${msg.source_id}`;
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
  await reportProgress(deps, msg, await run.status());
}

export async function crawlPage(deps: CrawlDeps, msg: PageMessage): Promise<void> {
  const source = await currentSource(deps.sql, msg);
  if (!source) return;
  const run = runOf(deps, msg);
  let claim = await run.claim(msg.url);
  if (!claim.pending) return; // a duplicate delivery of a URL already settled
  if (claim.waitMs > 0 && claim.waitMs <= MAX_INLINE_WAIT_MS) {
    await new Promise((r) => setTimeout(r, claim.waitMs));
    claim = await run.claim(msg.url);
  }
  if (claim.waitMs > 0) return requeue(deps, msg, claim.waitMs / 1000);

  const url = new URL(msg.url);
  const robots = await robotsFor(deps, run, url);
  if (!robots.isAllowed(url.pathname + url.search)) {
    // Links are checked when found (admitFound); this catches what was queued without that check.
    if (msg.kind === 'page') await recordSkippedPages(deps, msg, [msg.url], ROBOTS_DISALLOWED);
    return settle(deps, msg, run, 'skipped', ROBOTS_DISALLOWED);
  }
  const result = await fetchSafely(msg.url, {
    ...fetchOptions(deps, msg.kind === 'sitemap' ? SITEMAP_TYPES : PAGE_TYPES, MAX_PAGE_BYTES),
    checkRedirect: (next) => redirectRefusal(deps, source, run, next),
  });
  if (!result.ok) {
    if (result.status === 429 || result.status === 503) {
      const times = await run.rateLimited(msg.url);
      if (times <= MAX_RATE_LIMIT_RETRIES) {
        const retryAfter = result.retryAfterSeconds !== undefined ? String(result.retryAfterSeconds) : undefined;
        const wait = backoffSeconds(times, retryAfter, { random: deps.random });
        const spacing = hostDelayMs(robots.crawlDelaySeconds, deps.config.CRAWL_HOST_RPS);
        await run.slowHost(url.host, spacing, Date.now() + wait * 1000);
        return requeue(deps, msg, wait);
      }
      return pageFailed(deps, msg, run, `${describe(result)} (still refused after ${times} tries)`);
    }
    return pageFailed(deps, msg, run, describe(result));
  }
  if (msg.kind === 'sitemap') return expandSitemap(deps, msg, source, run, result);
  return ingestPage(deps, msg, source, run, result);
}

/**
 * Where a redirect may lead: the SSRF gate is not enough — a page of this site that redirects
 * elsewhere, or into a path robots.txt disallows, must not be fetched as a page of this source.
 */
async function redirectRefusal(
  deps: CrawlDeps,
  source: SourceRow,
  run: RunStub,
  next: URL,
): Promise<string | undefined> {
  if (next.protocol !== 'http:' && next.protocol !== 'https:') return undefined; // the SSRF gate names it
  if (!sameSite(next, source.config.url)) return `which is outside the site being crawled (${source.config.url})`;
  const robots = await robotsFor(deps, run, next);
  if (!robots.isAllowed(next.pathname + next.search)) return "which the site's robots.txt disallows";
  return undefined;
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
  run: RunStub,
  result: Extract<FetchResult, { ok: true }>,
) {
  const parsed = parseSitemap(new TextDecoder().decode(result.bytes));
  if (!parsed) return settle(deps, msg, run, 'failed', 'not a sitemap (expected <urlset> or <sitemapindex>)');
  const candidates: Candidate[] = parsed.urls
    .map((u) => normalizeUrl(u))
    .filter((u): u is string => u !== null && sameSite(u, source.config.url))
    .map((u) => ({ url: u, depth: 0, kind: parsed.kind === 'index' ? 'sitemap' : 'page' }));
  await admitFound(deps, msg, run, candidates);
  return settle(deps, msg, run, 'fetched');
}

async function ingestPage(
  deps: CrawlDeps,
  msg: PageMessage,
  source: SourceRow,
  run: RunStub,
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

/**
 * Admits a page's in-scope links one level deeper (same site, include/exclude rules, depth);
 * those robots.txt disallows are listed as skipped instead (admitFound).
 */
async function followLinks(deps: CrawlDeps, msg: PageMessage, source: SourceRow, run: RunStub, found: string[]) {
  if (msg.depth >= (source.config.max_depth ?? 3)) return;
  const links: Candidate[] = found
    .map((l) => normalizeUrl(l))
    .filter(
      (l): l is string =>
        l !== null && sameSite(l, source.config.url) && matchesRules(l, source.config.include, source.config.exclude),
    )
    .map((l) => ({ url: l, depth: msg.depth + 1, kind: 'page' }));
  await admitFound(deps, msg, run, links);
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
