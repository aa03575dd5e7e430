import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { ingestMessage } from '../src/jobs/messages';
import { testSql } from './support/http';
import { addSource, documents, settled } from './support/sources';
import { createTenant } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

async function deliver(queue: string, body: unknown, attempts = 1) {
  const batch = createMessageBatch(queue, [{ id: crypto.randomUUID(), timestamp: new Date(), attempts, body }]);
  await worker.queue(batch, env);
  return getQueueResult(batch, createExecutionContext());
}

const snapshot = async (sourceId: string) => ({
  chunks:
    await sql`select id, position, content, heading_path, embedding::text as embedding, embedding_model from chunks where source_id = ${sourceId} order by id`,
  documents:
    await sql`select id, status, content_hash, chunk_count, embedding_model from documents where source_id = ${sourceId} order by id`,
});

describe('at-least-once delivery', () => {
  it('an ingest message delivered twice leaves identical rows', async () => {
    const tenant = await createTenant();
    const id = await addSource(tenant, {
      type: 'text',
      title: 'Warranty',
      content: '# Warranty\n\nTwo years on all devices.\n\n# Repairs\n\nSend the device to our lab.',
    });
    await settled(tenant, id);
    const before = await snapshot(id);
    const [doc] = await documents(tenant, id);
    const msg = ingestMessage(tenant.projectId, id, doc!.id);
    const first = await deliver('parley-ingest', msg);
    const second = await deliver('parley-ingest', msg, 2);
    expect(first.explicitAcks).toHaveLength(1);
    expect(second.explicitAcks).toHaveLength(1);
    expect(await snapshot(id)).toEqual(before);
  });

  it('a dead-lettered ingest job marks its document failed with the reason, not stuck in processing', async () => {
    const tenant = await createTenant();
    const id = await addSource(tenant, { type: 'text', title: 'X', content: 'Some words.' });
    await settled(tenant, id);
    const [doc] = await documents(tenant, id);
    await sql`update documents set status = 'processing' where id = ${doc!.id}`;
    const msg = ingestMessage(tenant.projectId, id, doc!.id);
    await sql`insert into job_failures (kind, job_id, project_id, body, attempts, last_error)
              values ('ingest', ${msg.job_id}, ${tenant.projectId}, ${sql.json(msg)}, 4, 'Error: R2 unavailable')`;
    const result = await deliver('parley-ingest-dlq', msg);
    expect(result.explicitAcks).toHaveLength(1);
    const [after] = await documents(tenant, id);
    expect(after).toMatchObject({ status: 'failed' });
    expect(after?.error).toContain('R2 unavailable');
  });

  it('a message for a deleted source is acknowledged without effects', async () => {
    const result = await deliver(
      'parley-ingest',
      ingestMessage(crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()),
    );
    expect(result.explicitAcks).toHaveLength(1);
  });
});

describe('the cron', () => {
  it('re-syncs sources whose refresh interval is due and re-queues stuck documents', async () => {
    const tenant = await createTenant();
    const due = await addSource(tenant, {
      type: 'text',
      title: 'Due',
      content: 'Refresh me.',
      refresh_interval_hours: 24,
    });
    const stuck = await addSource(tenant, { type: 'text', title: 'Stuck', content: 'Lost message.' });
    await settled(tenant, due);
    await settled(tenant, stuck);
    await sql`update sources set next_refresh_at = now() - interval '1 minute' where id = ${due}`;
    await sql`update documents set status = 'queued', updated_at = now() - interval '1 hour' where source_id = ${stuck}`;
    const [before] = await sql<{ generation: number }[]>`select generation from sources where id = ${due}`;
    await worker.scheduled(createScheduledController({ cron: '*/15 * * * *', scheduledTime: Date.now() }), env);
    const [after] = await sql<
      { generation: number; next_refresh_at: Date }[]
    >`select generation, next_refresh_at from sources where id = ${due}`;
    expect(after?.generation).toBe((before?.generation ?? 0) + 1);
    expect(after?.next_refresh_at.getTime()).toBeGreaterThan(Date.now() + 23 * 3600_000);
    let status: string | undefined = 'queued';
    for (let i = 0; i < 100 && status !== 'ready'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = (await documents(tenant, stuck))[0]?.status;
    }
    expect(status).toBe('ready');
  });
});
