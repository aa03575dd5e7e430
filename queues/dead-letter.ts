/**
 * Dead-letter consumer for every queue: marks the job dead-lettered in job_failures (keeping the
 * last error the main consumer recorded), so owners see what gave up and why, and lets the
 * queue's work settle its subject (a document marked failed, a crawl page counted as failed).
 */
import { log } from '../src/http/logger';
import { recordDeadLetter } from '../src/jobs/failures';
import type { JobKind } from '../src/jobs/messages';
import { describeError, identify, type JobContext } from './consume';
import type { QueueWork } from './handlers';
import type { z } from 'zod';

export async function consumeDeadLetters(
  kind: JobKind,
  batch: MessageBatch<unknown>,
  work: QueueWork<z.ZodType>,
  ctx: JobContext,
): Promise<void> {
  for (const message of batch.messages) {
    const { jobId, projectId } = identify(message);
    try {
      const lastError = await recordDeadLetter(ctx.sql, {
        kind,
        jobId,
        projectId,
        body: message.body,
        attempts: message.attempts,
        error: 'gave up after the maximum number of retries',
      });
      const parsed = work.schema.safeParse(message.body);
      if (parsed.success && work.deadLettered) await work.deadLettered(parsed.data, ctx, lastError);
      log('error', 'job dead-lettered', { kind, job_id: jobId, project_id: projectId, error: lastError });
      message.ack();
    } catch (err) {
      log('error', 'could not record dead letter', { kind, job_id: jobId, error: describeError(err) });
      message.retry({ delaySeconds: 30 });
    }
  }
}
