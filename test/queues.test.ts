import { createExecutionContext, createMessageBatch, getQueueResult, type MessageBatchMessage } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { testSql } from './support/http';

const sql = testSql();
afterAll(() => sql.end());

function message(body: unknown, attempts = 1): MessageBatchMessage<unknown> {
  return { id: crypto.randomUUID(), timestamp: new Date(), attempts, body };
}

async function deliver(queue: string, messages: MessageBatchMessage<unknown>[]) {
  const batch = createMessageBatch(queue, messages);
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

async function failure(kind: string, jobId: string) {
  const rows = await sql`select * from job_failures where kind = ${kind} and job_id = ${jobId}`;
  return rows[0];
}

describe('queue consumers', () => {
  it('a job that fails is recorded with a readable reason and retried, not acked', async () => {
    const jobId = `job-${crypto.randomUUID()}`;
    const msg = message({ job_id: jobId, type: 'memory.extract', conversation_id: crypto.randomUUID() });
    const result = await deliver('parley-memory', [msg]);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([msg.id]);
    const row = await failure('memory', jobId);
    expect(row?.last_error).toMatch(/^not_implemented: memory extraction is not implemented yet/);
    expect(row?.dead_lettered_at).toBeNull();
  });

  it('a retried job that then succeeds marks its failure recovered; failing again clears that', async () => {
    const jobId = `job-${crypto.randomUUID()}`;
    const body = {
      job_id: jobId,
      type: 'ingest.document',
      project_id: crypto.randomUUID(),
      source_id: crypto.randomUUID(),
      document_id: crypto.randomUUID(),
    };
    await sql`insert into job_failures (kind, job_id, attempts, last_error) values ('ingest', ${jobId}, 1, 'Error: boom')`;
    // The document is gone, so the retry succeeds (there is nothing left to do).
    const result = await deliver('parley-ingest', [message(body, 2)]);
    expect(result.explicitAcks).toHaveLength(1);
    expect((await failure('ingest', jobId))?.recovered_at).toBeInstanceOf(Date);
    const memoryId = `job-${crypto.randomUUID()}`;
    await sql`insert into job_failures (kind, job_id, attempts, last_error, recovered_at) values ('memory', ${memoryId}, 1, 'x', now())`;
    await deliver('parley-memory', [
      message({ job_id: memoryId, type: 'memory.extract', conversation_id: crypto.randomUUID() }, 2),
    ]);
    expect((await failure('memory', memoryId))?.recovered_at).toBeNull();
  });

  it('a malformed body is recorded and acked (it can never succeed), the rest of the batch goes on', async () => {
    const goodId = `job-${crypto.randomUUID()}`;
    const badId = `job-${crypto.randomUUID()}`;
    const bad = message({ job_id: badId, type: 'memory.extract', conversation_id: 'not-a-uuid' });
    const good = message({ job_id: goodId, type: 'memory.extract', conversation_id: crypto.randomUUID() });
    const result = await deliver('parley-memory', [bad, good]);
    expect(result.explicitAcks).toEqual([bad.id]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual([good.id]);
    expect((await failure('memory', badId))?.last_error).toContain('invalid message body: conversation_id');
    expect(await failure('memory', goodId)).toBeDefined();
  });

  it('a body without any envelope is still recorded under its message id', async () => {
    const msg = message('just a string');
    const result = await deliver('parley-memory', [msg]);
    expect(result.explicitAcks).toEqual([msg.id]);
    expect((await failure('memory', `message:${msg.id}`))?.last_error).toContain('invalid message body');
  });

  it('redelivery updates the same failure row instead of adding one', async () => {
    const jobId = `job-${crypto.randomUUID()}`;
    const body = { job_id: jobId, type: 'memory.extract', conversation_id: crypto.randomUUID() };
    await deliver('parley-memory', [message(body, 1)]);
    await deliver('parley-memory', [message(body, 2)]);
    await deliver('parley-memory', [message(body, 2)]);
    const rows = await sql`select attempts from job_failures where kind = 'memory' and job_id = ${jobId}`;
    expect(rows).toHaveLength(1);
    expect(rows[0]?.attempts).toBe(2);
  });

  it('the dead-letter consumer marks the job dead-lettered and keeps the last error', async () => {
    const jobId = `job-${crypto.randomUUID()}`;
    const body = { job_id: jobId, type: 'memory.extract', conversation_id: crypto.randomUUID() };
    await deliver('parley-memory', [message(body, 4)]);
    const result = await deliver('parley-memory-dlq', [message(body, 1)]);
    expect(result.explicitAcks).toHaveLength(1);
    const row = await failure('memory', jobId);
    expect(row?.dead_lettered_at).toBeInstanceOf(Date);
    expect(row?.last_error).toContain('not_implemented');
  });

  it('a message sent through the real queue binding reaches its consumer', async () => {
    const jobId = `job-${crypto.randomUUID()}`;
    await env.MEMORY_QUEUE.send({ job_id: jobId, type: 'memory.extract', conversation_id: crypto.randomUUID() });
    let row;
    for (let i = 0; i < 100 && !row; i++) {
      await new Promise((r) => setTimeout(r, 100));
      row = await failure('memory', jobId);
    }
    expect(row?.last_error).toContain('not_implemented');
  });
});
