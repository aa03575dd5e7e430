/**
 * The work behind each queue. Crawling, ingestion and memory extraction arrive with their own
 * issues; until then each fails honestly, so messages end in the dead-letter queue with a
 * readable reason instead of being acked and lost.
 */
import { AppError } from '../src/errors';
import type { JobHandler } from './consume';

const notYet =
  (what: string): JobHandler<unknown> =>
  async () => {
    throw new AppError(
      'not_implemented',
      `${what} is not implemented yet; the message is kept in the dead-letter queue`,
    );
  };

export const crawlPage = notYet('crawling');
export const ingestDocument = notYet('document ingestion');
export const extractMemory = notYet('memory extraction');
