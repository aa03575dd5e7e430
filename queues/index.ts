/**
 * The Worker's `queue` handler: routes a batch by its queue name to the matching consumer
 * (crawl, ingest, memory) or to the dead-letter consumer.
 */
import { createSql } from '../src/db';
import { log } from '../src/http/logger';
import { queueKind } from '../src/jobs/messages';
import { consume } from './consume';
import { consumeDeadLetters } from './dead-letter';
import { WORK } from './handlers';

export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const route = queueKind(batch.queue);
  if (!route) {
    // A queue bound to this Worker that Parley does not know: retry so nothing is dropped.
    log('error', 'batch from unknown queue', { queue: batch.queue, messages: batch.messages.length });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  // Closed by the runtime when the invocation ends (see src/http/platform.ts on sql.end()).
  const ctx = { env, sql: createSql(env.HYPERDRIVE.connectionString) };
  const work = WORK[route.kind];
  if (route.deadLetter) await consumeDeadLetters(route.kind, batch, work, ctx);
  else await consume(route.kind, batch, work.schema, work.run, ctx);
}
