/**
 * What each queue does: the message schema, the work, and what happens to the work's subject
 * when a message dead-letters (so nothing stays stuck in `processing`). Memory extraction
 * arrives with its own issue; until then it fails honestly into the dead-letter queue.
 */
import type { z } from 'zod';
import { AppError } from '../src/errors';
import { CrawlMessage, IngestMessage, MemoryMessage, type JobKind } from '../src/jobs/messages';
import type { JobContext, JobHandler } from './consume';
import { crawl, crawlDeadLettered } from './crawl';
import { ingest, ingestDeadLettered } from './ingest';

export interface QueueWork<S extends z.ZodType> {
  schema: S;
  run: JobHandler<z.infer<S>>;
  deadLettered?: (message: z.infer<S>, ctx: JobContext, lastError: string) => Promise<void>;
}

const notYet =
  (what: string): JobHandler<unknown> =>
  async () => {
    throw new AppError(
      'not_implemented',
      `${what} is not implemented yet; the message is kept in the dead-letter queue`,
    );
  };

const work = <S extends z.ZodType>(w: QueueWork<S>): QueueWork<S> => w;

export const WORK: Record<JobKind, QueueWork<z.ZodType>> = {
  crawl: work({ schema: CrawlMessage, run: crawl, deadLettered: crawlDeadLettered }) as QueueWork<z.ZodType>,
  ingest: work({ schema: IngestMessage, run: ingest, deadLettered: ingestDeadLettered }) as QueueWork<z.ZodType>,
  memory: work({ schema: MemoryMessage, run: notYet('memory extraction') }) as QueueWork<z.ZodType>,
};
