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

/** Placeholder payloads until the ingestion and memory issues define their real work. */
export const CrawlMessage = JobEnvelope.extend({ type: z.literal('crawl.page'), url: z.url() });
export const IngestMessage = JobEnvelope.extend({ type: z.literal('ingest.document'), document_id: z.uuid() });
export const MemoryMessage = JobEnvelope.extend({ type: z.literal('memory.extract'), conversation_id: z.uuid() });

export const MESSAGE_SCHEMAS = { crawl: CrawlMessage, ingest: IngestMessage, memory: MemoryMessage } as const;

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
