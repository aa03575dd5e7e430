import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { call, expectEnvelope, testSql } from './support/http';
import { addSource, documents, getSource, settled, upload } from './support/sources';
import { auth, createTenant, postJson } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

/** Keys of the objects stored in R2 under a prefix. */
async function storedKeys(prefix: string): Promise<string[]> {
  return (await env.UPLOADS.list({ prefix })).objects.map((o) => o.key);
}

async function knowledgeVersion(projectId: string): Promise<number> {
  const [row] = await sql<{ v: string }[]>`select knowledge_version::text as v from projects where id = ${projectId}`;
  return Number(row?.v);
}

async function chunksOf(sourceId: string) {
  return sql<
    {
      id: string;
      content: string;
      heading_path: string[];
      page: number | null;
      url: string | null;
      title: string | null;
      embedding_model: string;
    }[]
  >`
    select id, content, heading_path, page, url, title, embedding_model from chunks where source_id = ${sourceId} order by document_id, position`;
}

describe('text and FAQ sources', () => {
  it('a text source is queued, processed and ready with chunks carrying its title', async () => {
    const tenant = await createTenant();
    const id = await addSource(tenant, {
      type: 'text',
      title: 'Refund policy',
      content: '# Refunds\n\nRefunds are issued within 14 days.\n\n# Shipping\n\nWe ship worldwide.',
    });
    const { source } = await settled(tenant, id);
    expect(source).toMatchObject({ type: 'text', status: 'ready', error: null });
    expect(source.stats.documents).toBe(1);
    expect(source.stats.chunks).toBeGreaterThanOrEqual(2);
    const chunks = await chunksOf(id);
    expect(chunks.map((c) => c.heading_path)).toEqual(expect.arrayContaining([['Refunds'], ['Shipping']]));
    expect(chunks.every((c) => c.title === 'Refund policy' && c.embedding_model === 'parley-local-v1')).toBe(true);
  });

  it('an FAQ keeps each question and answer together', async () => {
    const tenant = await createTenant();
    const id = await addSource(tenant, {
      type: 'faq',
      items: [
        { question: 'Do you ship abroad?', answer: 'Yes, to 40 countries.' },
        { question: 'Can I pay by invoice?', answer: 'Business customers can.' },
      ],
    });
    const { source } = await settled(tenant, id);
    expect(source.status).toBe('ready');
    const chunks = await chunksOf(id);
    expect(chunks.map((c) => c.heading_path.at(-1))).toEqual(
      expect.arrayContaining(['Do you ship abroad?', 'Can I pay by invoice?']),
    );
    expect(chunks.find((c) => c.heading_path.at(-1) === 'Do you ship abroad?')?.content).toContain('40 countries');
  });

  it('a re-sync of unchanged content embeds nothing new (same chunk ids, no new rows)', async () => {
    const tenant = await createTenant();
    const id = await addSource(tenant, { type: 'text', title: 'Hours', content: 'We are open 9 to 5 on weekdays.' });
    await settled(tenant, id);
    const before = await chunksOf(id);
    const [latest] = await sql<
      { created_at: Date }[]
    >`select max(created_at) as created_at from chunks where source_id = ${id}`;
    const sync = await call(`/api/v1/projects/${tenant.projectId}/sources/${id}/sync`, postJson(tenant.secretKey, {}));
    expect(sync.status).toBe(202);
    const { source } = await settled(tenant, id);
    expect(source.status).toBe('ready');
    const after = await chunksOf(id);
    expect(after.map((c) => c.id)).toEqual(before.map((c) => c.id));
    const [still] = await sql<
      { created_at: Date }[]
    >`select max(created_at) as created_at from chunks where source_id = ${id}`;
    expect(still?.created_at).toEqual(latest?.created_at);
  });

  it('deleting a source removes its documents, chunks and stored files; other tenants get 404', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const id = await addSource(tenant, { type: 'text', title: 'T', content: 'Some content to index.' });
    const kept = await addSource(tenant, { type: 'text', title: 'Kept', content: 'Another source stays.' });
    await settled(tenant, id);
    await settled(tenant, kept);
    const stored = (sourceId: string) => storedKeys(`projects/${tenant.projectId}/sources/${sourceId}/`);
    expect(await stored(id)).toHaveLength(1);
    const version = await knowledgeVersion(tenant.projectId);
    await expectEnvelope(
      await call(`/api/v1/projects/${other.projectId}/sources/${id}`, { headers: auth(other.secretKey) }),
      404,
      'not_found',
    );
    await expectEnvelope(
      await call(`/api/v1/projects/${tenant.projectId}/sources/${id}`, { headers: auth(other.secretKey) }),
      404,
      'not_found',
    );
    expect(
      (
        await call(`/api/v1/projects/${tenant.projectId}/sources/${id}`, {
          method: 'DELETE',
          headers: auth(tenant.secretKey),
        })
      ).status,
    ).toBe(204);
    expect(await chunksOf(id)).toEqual([]);
    const [remaining] = await sql<
      { count: number }[]
    >`select count(*)::int as count from documents where source_id = ${id}`;
    expect(remaining?.count).toBe(0);
    expect(await stored(id)).toEqual([]);
    expect(await stored(kept)).toHaveLength(1);
    // Cached answers are keyed by the knowledge version: ones citing the source are not served again.
    expect(await knowledgeVersion(tenant.projectId)).toBeGreaterThan(version);
    await expectEnvelope(
      await call(`/api/v1/projects/${tenant.projectId}/sources/${id}`, { headers: auth(tenant.secretKey) }),
      404,
      'not_found',
    );
  });

  it('lists sources page by page and refuses bad bodies with details', async () => {
    const tenant = await createTenant();
    await addSource(tenant, { type: 'text', title: 'A', content: 'alpha' });
    await addSource(tenant, { type: 'text', title: 'B', content: 'beta' });
    const res = await call(`/api/v1/projects/${tenant.projectId}/sources?limit=1`, { headers: auth(tenant.secretKey) });
    const body = await res.json<{ data: { title: string }[]; next_cursor: string | null }>();
    expect(body.data).toHaveLength(1);
    expect(body.next_cursor).not.toBeNull();
    const bad = await call(
      `/api/v1/projects/${tenant.projectId}/sources`,
      postJson(tenant.secretKey, { type: 'website', url: 'ftp://x' }),
    );
    const envelope = await expectEnvelope(bad, 400, 'validation_failed');
    expect(envelope.error.details?.[0]?.path).toBe('url');
    await expectEnvelope(
      await call(`/api/v1/projects/${tenant.projectId}/sources`, postJson(tenant.secretKey, { type: 'nope' })),
      400,
      'validation_failed',
    );
  });
});

describe('file uploads', () => {
  it('a markdown file becomes a ready document', async () => {
    const tenant = await createTenant();
    const res = await upload(tenant, 'guide.md', '# Guide\n\nPress the red button to start.\n', 'text/markdown');
    expect(res.status).toBe(202);
    const { id } = await res.json<{ id: string }>();
    const { source } = await settled(tenant, id);
    expect(source.status).toBe('ready');
    expect((await documents(tenant, id))[0]).toMatchObject({ key: 'guide.md', status: 'ready' });
  });

  it('bad files fail alone with a readable reason', async () => {
    const tenant = await createTenant();
    const cases: [string, Uint8Array | string, string, RegExp][] = [
      ['empty.txt', '', 'text/plain', /^empty/],
      ['fake.pdf', 'this is not a pdf', 'application/pdf', /^(type_mismatch|corrupt)/],
      ['latin1.txt', new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x20, 0xff, 0xfe, 0x80]), 'text/plain', /./],
    ];
    for (const [name, bytes, type, reason] of cases) {
      const res = await upload(tenant, name, bytes, type);
      expect(res.status).toBe(202);
      const { id } = await res.json<{ id: string }>();
      const { source } = await settled(tenant, id);
      const [doc] = await documents(tenant, id);
      if (source.status === 'failed') {
        expect(doc?.error).toMatch(reason);
        expect(source.error).toContain('Nothing could be ingested');
      } else {
        // A decoder that accepts legacy encodings is fine too, as long as the document is readable.
        expect(doc?.status).toBe('ready');
      }
    }
  });

  it('refuses files over the size limit (413), unknown types and non-multipart bodies', async () => {
    const tenant = await createTenant();
    await call(`/api/v1/projects/${tenant.projectId}`, {
      method: 'PATCH',
      headers: { ...auth(tenant.owner), 'content-type': 'application/json' },
      body: JSON.stringify({ settings: { max_upload_bytes: 2048 } }),
    });
    await expectEnvelope(await upload(tenant, 'big.txt', 'x'.repeat(2049), 'text/plain'), 413, 'payload_too_large');
    expect((await upload(tenant, 'ok.txt', 'x'.repeat(2048), 'text/plain')).status).toBe(202);
    await expectEnvelope(await upload(tenant, 'tool.exe', 'MZ', 'application/octet-stream'), 400, 'validation_failed');
    await expectEnvelope(
      await call(`/api/v1/projects/${tenant.projectId}/sources/files`, postJson(tenant.secretKey, { file: 'x' })),
      415,
      'unsupported_media_type',
    );
  });

  it('the default limit is 10 MB: 10 MB + 1 byte is refused', async () => {
    const tenant = await createTenant();
    await expectEnvelope(
      await upload(tenant, 'huge.txt', new Uint8Array(10 * 1024 * 1024 + 1).fill(0x61), 'text/plain'),
      413,
      'payload_too_large',
    );
  });
});

describe('jobs dashboard', () => {
  it('shows failed documents with their reasons', async () => {
    const tenant = await createTenant();
    const { id } = await (await upload(tenant, 'empty.md', '', 'text/markdown')).json<{ id: string }>();
    await settled(tenant, id);
    const res = await call(`/api/v1/projects/${tenant.projectId}/jobs`, { headers: auth(tenant.owner) });
    expect(res.status).toBe(200);
    const jobs = await res.json<{
      documents: { failed: number };
      failed_documents: { source_id: string; error: string }[];
    }>();
    expect(jobs.documents.failed).toBe(1);
    expect(jobs.failed_documents[0]).toMatchObject({ source_id: id });
    expect((await getSource(tenant, id)).status).toBe('failed');
  });
});
