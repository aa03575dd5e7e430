/**
 * The ingestion pipeline end to end: with a remote embedder (the fake OpenAI server), a re-sync
 * of unchanged content sends no embedding request; an uploaded PDF reaches `ready` with chunks
 * that know their page; a document of several embedding slices is stored whole, and its next
 * version replaces it without leftovers.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import worker from '../src/index';
import { ingestionEmbedder } from '../src/ingest/embedding';
import { ingestExtracted, type DocumentRow } from '../src/ingest/pipeline';
import { fakeOpenAIUrl, healthyKey, recordedRequests } from './support/fake-openai';
import { callWithEnv, testSql } from './support/http';
import { makePdf } from './support/pdf';
import { documents, settled, upload } from './support/sources';
import { createTenant, postJson, type Tenant } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

/** An ingest queue that keeps what is sent to it, for the test to deliver. */
function recordingQueue(bodies: unknown[]): Queue {
  return {
    send: async (body: unknown) => void bodies.push(body),
    sendBatch: async (messages: Iterable<{ body: unknown }>) => {
      for (const m of messages) bodies.push(m.body);
    },
  } as unknown as Queue;
}

/**
 * Calls the API with the ingest queue captured, then delivers what it queued to the ingest
 * consumer configured with an OpenAI key for the fake server.
 */
async function throughRemoteEmbedder(key: string, tenant: Tenant, path: string, body: unknown) {
  const queued: unknown[] = [];
  const res = await callWithEnv({ INGEST_QUEUE: recordingQueue(queued) }, path, postJson(tenant.secretKey, body));
  expect(res.status).toBe(202);
  const batch = createMessageBatch(
    'parley-ingest',
    queued.map((b) => ({ id: crypto.randomUUID(), timestamp: new Date(), attempts: 1, body: b })),
  );
  await worker.queue(batch, { ...env, OPENAI_API_KEY: key, OPENAI_BASE_URL: fakeOpenAIUrl() });
  const result = await getQueueResult(batch, createExecutionContext());
  expect(result.explicitAcks).toHaveLength(queued.length);
  return (await res.json<{ id: string }>()).id;
}

const embeddingCalls = async (key: string) =>
  (await recordedRequests(key)).requests.filter((r) => r.path.endsWith('/embeddings'));

describe('re-sync with a remote embedder', () => {
  it('embeds new content once; a re-sync of unchanged content sends no embedding request', async () => {
    const tenant = await createTenant();
    const key = healthyKey();
    const sources = `/api/v1/projects/${tenant.projectId}/sources`;
    const id = await throughRemoteEmbedder(key, tenant, sources, {
      type: 'text',
      title: 'Opening hours',
      content: '# Shop\n\nOpen 9 to 5 on weekdays.\n\n# Support\n\nThe hotline answers around the clock.',
    });
    const first = await embeddingCalls(key);
    expect(first.length).toBeGreaterThanOrEqual(1);
    expect(first.every((r) => r.outcome === 'ok')).toBe(true);
    const before = await sql<{ id: string; embedding_model: string }[]>`
      select id, embedding_model from chunks where source_id = ${id} order by id`;
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before.every((c) => c.embedding_model === first[0]?.model)).toBe(true);

    await throughRemoteEmbedder(key, tenant, `${sources}/${id}/sync`, {});
    expect(await embeddingCalls(key)).toHaveLength(first.length);
    expect(await sql`select id, embedding_model from chunks where source_id = ${id} order by id`).toEqual(before);
    expect((await documents(tenant, id))[0]).toMatchObject({ status: 'ready' });
  });
});

describe('an uploaded PDF', () => {
  it('goes through the pipeline to ready, each chunk carrying its page', async () => {
    const tenant = await createTenant();
    const pdf = makePdf(
      [['Installing the device.', 'Mount the bracket first.'], [], ['Refunds take five days.']],
      'Manual',
    );
    const res = await upload(tenant, 'manual.pdf', pdf, 'application/pdf');
    expect(res.status).toBe(202);
    const { id } = await res.json<{ id: string }>();
    const { source } = await settled(tenant, id);
    expect(source.status).toBe('ready');
    expect((await documents(tenant, id))[0]).toMatchObject({ key: 'manual.pdf', status: 'ready', title: 'Manual' });
    const chunks = await sql<{ page: number | null; content: string; title: string }[]>`
      select page, content, title from chunks where source_id = ${id} order by position`;
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    expect(chunks.every((c) => c.page !== null && c.title === 'Manual')).toBe(true);
    expect(chunks.find((c) => c.content.includes('Refunds take five days'))?.page).toBe(3);
    expect(chunks.find((c) => c.content.includes('Mount the bracket'))?.page).toBe(1);
  });
});

describe('a document of many chunks', () => {
  it('is embedded and stored slice by slice, whole; its next version replaces it without leftovers', async () => {
    const tenant = await createTenant();
    const note =
      'Deliver to the loading dock behind the building, ring twice and wait; the customer pays on delivery. '.repeat(3);
    const rows = Array.from(
      { length: 4000 },
      (_, i) => `ORD-${String(i + 1).padStart(5, '0')},Ada,Lamp,${i % 7},${note}`,
    );
    const csv = ['order_id,customer,product,quantity,notes', ...rows].join('\n');
    const res = await upload(tenant, 'orders.csv', csv, 'text/csv');
    expect(res.status).toBe(202);
    const { id } = await res.json<{ id: string }>();
    const { source } = await settled(tenant, id);
    expect(source).toMatchObject({ status: 'ready', stats: { documents_failed: 0 } });
    expect(source.stats.chunks).toBeGreaterThan(1000); // more than one embedding slice
    const [found] = await sql<{ ids: number; chunks: number }[]>`
      select count(distinct m.id[1])::int as ids, (select count(*)::int from chunks where source_id = ${id}) as chunks
      from chunks c, regexp_matches(c.content, 'ORD-[0-9]{5}', 'g') as m(id) where c.source_id = ${id}`;
    expect(found).toEqual({ ids: 4000, chunks: source.stats.chunks });

    // A new version of the same document (as a re-sync of changed content would bring).
    const [doc] = await sql<DocumentRow[]>`
      select id, url, title, format, content_hash, embedding_model from documents where source_id = ${id}`;
    const config = loadConfig(env);
    if (!config.ok) throw new Error('test configuration is invalid');
    const { embed, preferredModel } = ingestionEmbedder(config.config);
    const deps = { sql, bucket: env.UPLOADS, embed, preferredModel };
    const sections = [{ text: 'ORD-99999,Grace,Desk,1,Leave it with the neighbour.', headingPath: ['orders'] }];
    const ids = { project_id: tenant.projectId, source_id: id };
    expect(await ingestExtracted(deps, ids, doc!, { format: 'csv', sections })).toBe('ingested');
    const after = await sql<{ content: string }[]>`select content from chunks where document_id = ${doc!.id}`;
    expect(after).toHaveLength(1);
    expect(after[0]!.content).toContain('ORD-99999');
    const [row] = await sql<{ chunk_count: number }[]>`select chunk_count from documents where id = ${doc!.id}`;
    expect(row!.chunk_count).toBe(1);
  }, 90_000);
});
