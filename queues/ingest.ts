/** The ingest queue's work: one document per message (see src/ingest/pipeline.ts). */
import { loadConfig } from '../src/config';
import { ingestionEmbedder } from '../src/ingest/embedding';
import { ingestDocument } from '../src/ingest/pipeline';
import { markDocument, refreshSourceStatus } from '../src/ingest/status';
import type { IngestMessage } from '../src/jobs/messages';
import type { JobContext } from './consume';

export async function ingest(message: IngestMessage, ctx: JobContext): Promise<void> {
  const config = loadConfig(ctx.env);
  if (!config.ok) throw new Error(`configuration invalid: ${config.problems.map((p) => p.name).join(', ')}`);
  const { embed, preferredModel } = ingestionEmbedder(config.config);
  await ingestDocument({ sql: ctx.sql, bucket: ctx.env.UPLOADS, embed, preferredModel }, message);
}

/** After the last retry: the document is failed with the reason its last attempt gave. */
export async function ingestDeadLettered(message: IngestMessage, ctx: JobContext, lastError: string): Promise<void> {
  const [doc] = await ctx.sql<{ id: string }[]>`
    select id from documents where id = ${message.document_id} and project_id = ${message.project_id} and status <> 'ready'`;
  if (!doc) return;
  await markDocument(ctx.sql, doc.id, 'failed', `gave up after repeated failures: ${lastError}`);
  await refreshSourceStatus(ctx.sql, message.source_id);
}
