/**
 * The per-message loop every consumer shares: validate the body, run the handler, ack once its
 * effects are durable. A failure is recorded (job_failures) with a readable reason and retried
 * with backoff; after max_retries the platform moves it to the dead-letter queue. A body that
 * fails validation can never succeed, so it is recorded and acked instead of retried. One bad
 * message never stops the rest of the batch. Work that only has to wait (a crawl page whose host
 * slot is not due) sends itself again with a delay and returns, so waiting never spends the
 * delivery attempts that are meant for failures (see src/crawl/run.ts `requeue`).
 */
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { AppError } from '../src/errors';
import { log } from '../src/http/logger';
import { recordFailure, recordRecovery } from '../src/jobs/failures';
import { JobEnvelope, retryDelaySeconds, type JobKind } from '../src/jobs/messages';

export interface JobContext {
  env: Env;
  sql: Sql;
}

export type JobHandler<T> = (message: T, ctx: JobContext, attempts: number) => Promise<void>;

/** A readable one-line reason: domain errors keep their message, others their name and message. */
export function describeError(err: unknown): string {
  if (err instanceof AppError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** What we can learn about a message even when its body is invalid. */
export function identify(message: Message<unknown>): { jobId: string; projectId?: string } {
  const envelope = JobEnvelope.partial().safeParse(message.body);
  const data = envelope.success ? envelope.data : {};
  return { jobId: data.job_id ?? `message:${message.id}`, projectId: data.project_id };
}

export async function consume<S extends z.ZodType>(
  kind: JobKind,
  batch: MessageBatch<unknown>,
  schema: S,
  handler: JobHandler<z.infer<S>>,
  ctx: JobContext,
): Promise<void> {
  for (const message of batch.messages) {
    const { jobId, projectId } = identify(message);
    const parsed = schema.safeParse(message.body);
    let error: string;
    if (parsed.success) {
      try {
        await handler(parsed.data, ctx, message.attempts);
        // Only a retry can have a failure row to close; first attempts cost no extra query.
        if (message.attempts > 1) await recordRecovery(ctx.sql, kind, jobId).catch(() => {});
        message.ack();
        continue;
      } catch (err) {
        error = describeError(err);
      }
    } else {
      error = `invalid message body: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`;
    }
    log('warn', 'job failed', { kind, job_id: jobId, project_id: projectId, attempts: message.attempts, error });
    try {
      await recordFailure(ctx.sql, { kind, jobId, projectId, body: message.body, attempts: message.attempts, error });
    } catch (err) {
      // Could not record it: keep the message (retry) so nothing accepted is lost silently.
      log('error', 'could not record job failure', { kind, job_id: jobId, error: describeError(err) });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      continue;
    }
    if (parsed.success) message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    else message.ack();
  }
}
