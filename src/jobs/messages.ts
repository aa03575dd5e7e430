/**
 * Queue message shapes. Every message carries a `job_id` (minted by the producer, stable across
 * retries and the move to the dead-letter queue) and, where it concerns one, the `project_id`.
 * Each queue's payload schema extends this envelope; consumers validate bodies with them.
 */
import { z } from 'zod';

export const JOB_KINDS = ['crawl', 'ingest', 'memory'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JobEnvelope = z.object({
  job_id: z.string().min(8).max(100),
  project_id: z.uuid().optional(),
});

/** Extract, chunk, embed and store one document. */
export const IngestMessage = JobEnvelope.extend({
  type: z.literal('ingest.document'),
  project_id: z.uuid(),
  source_id: z.uuid(),
  document_id: z.uuid(),
});

/** Start (or restart) the crawl of a website or sitemap source for a sync generation. */
export const CrawlStartMessage = JobEnvelope.extend({
  type: z.literal('crawl.start'),
  project_id: z.uuid(),
  source_id: z.uuid(),
  generation: z.number().int().min(1),
});

/** Fetch one page of a crawl run. */
export const CrawlPageMessage = JobEnvelope.extend({
  type: z.literal('crawl.page'),
  project_id: z.uuid(),
  source_id: z.uuid(),
  generation: z.number().int().min(1),
  url: z.url(),
  depth: z.number().int().min(0),
  /** What the page is: an HTML page to ingest and follow, or a sitemap to expand. */
  kind: z.enum(['page', 'sitemap']).default('page'),
});

export const CrawlMessage = z.discriminatedUnion('type', [CrawlStartMessage, CrawlPageMessage]);
export const MemoryMessage = JobEnvelope.extend({ type: z.literal('memory.extract'), conversation_id: z.uuid() });

export type IngestMessage = z.infer<typeof IngestMessage>;
export type CrawlMessage = z.infer<typeof CrawlMessage>;

const jobId = (...parts: (string | number)[]): string => parts.join(':');

/** Job ids name the work they do; an ingest job is unique per enqueue, a crawl start per sync generation. */
export const ingestMessage = (projectId: string, sourceId: string, documentId: string): IngestMessage => ({
  type: 'ingest.document',
  job_id: jobId('ingest', documentId, crypto.randomUUID().slice(0, 8)),
  project_id: projectId,
  source_id: sourceId,
  document_id: documentId,
});

export const crawlStartMessage = (
  projectId: string,
  sourceId: string,
  generation: number,
): z.input<typeof CrawlStartMessage> => ({
  type: 'crawl.start',
  job_id: jobId('crawl', sourceId, generation),
  project_id: projectId,
  source_id: sourceId,
  generation,
});

/**
 * Maps a queue name to its job kind and whether it is a dead-letter queue. Queue names differ
 * per environment (`parley-crawl`, `parley-staging-crawl-dlq`, …); the suffix decides.
 */
export function queueKind(queueName: string): { kind: JobKind; deadLetter: boolean } | undefined {
  const match = /-(crawl|ingest|memory)(-dlq)?$/.exec(queueName);
  if (!match) return undefined;
  return { kind: match[1] as JobKind, deadLetter: match[2] !== undefined };
}

/** Exponential backoff with jitter for retried messages, from the delivery attempt count. */
export function retryDelaySeconds(attempts: number): number {
  const base = Math.min(300, 5 * 2 ** Math.max(0, attempts - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}
