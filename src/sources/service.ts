/**
 * Knowledge sources of a project: create (and queue their work), read with live stats, list
 * documents, re-sync and delete. Every query is scoped by project_id.
 */
import type { Sql } from 'postgres';
import { AppError } from '../errors';
import { isUuid } from '../ids';
import { ingestMessage, crawlStartMessage } from '../jobs/messages';
import { bumpKnowledgeVersion } from '../ingest/status';
import { decodeCursor, page } from '../pagination';
import type { CreateSource } from './schemas';
import { deletePrefix, documentKey, faqMarkdown, sourcePrefix } from './store';

export interface SourceDeps {
  sql: Sql;
  bucket: R2Bucket;
  ingest: Queue;
  crawl: Queue;
}

export interface SourceRow {
  id: string;
  type: string;
  title: string | null;
  status: string;
  error: string | null;
  config: Record<string, unknown>;
  refresh_interval_hours: number | null;
  last_synced_at: Date | null;
  created_at: Date;
  updated_at: Date;
  pages_discovered: number;
  pages_fetched: number;
  pages_failed: number;
  documents: number;
  chunks: number;
  documents_failed: number;
  documents_skipped: number;
}

/** A document's bytes to store and ingest. */
export interface NewDocument {
  key: string;
  title?: string;
  format: string;
  bytes: Uint8Array;
  contentType: string;
}

const SOURCE_COLUMNS = (sql: Sql) => sql`
  s.id, s.type, s.title, s.status, s.error, s.config, s.refresh_interval_hours, s.last_synced_at,
  s.created_at, s.updated_at, s.pages_discovered, s.pages_fetched, s.pages_failed,
  (select count(*)::int from documents d where d.source_id = s.id) as documents,
  (select coalesce(sum(d.chunk_count), 0)::int from documents d where d.source_id = s.id) as chunks,
  (select count(*)::int from documents d where d.source_id = s.id and d.status = 'failed') as documents_failed,
  (select count(*)::int from documents d where d.source_id = s.id and d.status = 'skipped') as documents_skipped`;

export function presentSource(row: SourceRow) {
  return {
    id: row.id,
    type: row.type,
    title: row.title,
    status: row.status,
    stats: {
      documents: row.documents,
      chunks: row.chunks,
      pages_discovered: row.pages_discovered,
      pages_fetched: row.pages_fetched,
      pages_failed: row.pages_failed,
      documents_failed: row.documents_failed,
      documents_skipped: row.documents_skipped,
    },
    error: row.error,
    config: row.config,
    refresh_interval_hours: row.refresh_interval_hours,
    last_synced_at: row.last_synced_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

const encoder = new TextEncoder();

/** The documents a text or FAQ source consists of. */
function inlineDocuments(input: Extract<CreateSource, { type: 'text' | 'faq' }>): NewDocument[] {
  if (input.type === 'text') {
    return [
      {
        key: 'text',
        title: input.title,
        format: 'md',
        bytes: encoder.encode(input.content),
        contentType: 'text/markdown',
      },
    ];
  }
  return [
    {
      key: 'faq',
      title: input.title ?? 'FAQ',
      format: 'md',
      bytes: encoder.encode(faqMarkdown(input.title, input.items)),
      contentType: 'text/markdown',
    },
  ];
}

/** Creates a source with its documents, stores their bytes, and queues ingestion. */
export async function createSource(
  deps: SourceDeps,
  projectId: string,
  input: CreateSource | { type: 'file'; title: string; document: NewDocument },
): Promise<{ id: string; type: string; status: 'queued' }> {
  const { type } = input;
  const title = input.type === 'website' || input.type === 'sitemap' ? input.url : (input.title ?? null);
  const config =
    input.type === 'website' || input.type === 'sitemap'
      ? Object.fromEntries(Object.entries(input).filter(([k]) => k !== 'type' && k !== 'refresh_interval_hours'))
      : input.type === 'file'
        ? { filename: input.document.key, format: input.document.format }
        : input.type === 'faq'
          ? { items: input.items.length }
          : {};
  const refresh = 'refresh_interval_hours' in input ? (input.refresh_interval_hours ?? null) : null;
  const docs =
    input.type === 'file'
      ? [input.document]
      : input.type === 'text' || input.type === 'faq'
        ? inlineDocuments(input)
        : [];

  const created = await deps.sql.begin(async (tx) => {
    const [source] = await tx<{ id: string }[]>`
      insert into sources (project_id, type, title, config, refresh_interval_hours, next_refresh_at)
      values (${projectId}, ${type}, ${title}, ${tx.json(config as Record<string, string>)}, ${refresh},
              ${refresh ? tx`now() + make_interval(hours => ${refresh})` : null})
      returning id`;
    if (!source) throw new Error('insert returned no row');
    const documentIds: string[] = [];
    for (const doc of docs) {
      const [row] = await tx<{ id: string }[]>`
        insert into documents (project_id, source_id, key, title, format)
        values (${projectId}, ${source.id}, ${doc.key}, ${doc.title ?? null}, ${doc.format})
        returning id`;
      if (!row) throw new Error('insert returned no row');
      const r2Key = documentKey(projectId, source.id, row.id);
      // Stored before the transaction commits: a failed put leaves no half-created source.
      await deps.bucket.put(r2Key, doc.bytes, { httpMetadata: { contentType: doc.contentType } });
      await tx`update documents set r2_key = ${r2Key} where id = ${row.id}`;
      documentIds.push(row.id);
    }
    return { sourceId: source.id, documentIds };
  });

  if (created.documentIds.length > 0) {
    await enqueueAll(
      deps.ingest,
      created.documentIds.map((documentId) => ingestMessage(projectId, created.sourceId, documentId)),
    );
  } else {
    await deps.crawl.send(crawlStartMessage(projectId, created.sourceId, 1));
  }
  return { id: created.sourceId, type, status: 'queued' };
}

export async function enqueueAll<T>(queue: Queue<T>, bodies: T[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 100) {
    await queue.sendBatch(bodies.slice(i, i + 100).map((body) => ({ body })));
  }
}

export async function getSource(sql: Sql, projectId: string, sourceId: string): Promise<SourceRow> {
  if (!isUuid(sourceId)) throw new AppError('not_found', 'Source not found');
  const [row] = await sql<SourceRow[]>`
    select ${SOURCE_COLUMNS(sql)} from sources s where s.id = ${sourceId} and s.project_id = ${projectId}`;
  if (!row) throw new AppError('not_found', 'Source not found');
  return row;
}

export async function listSources(sql: Sql, projectId: string, query: { limit: number; cursor?: string }) {
  const cursor = decodeCursor(query.cursor);
  const rows = await sql<SourceRow[]>`
    select ${SOURCE_COLUMNS(sql)} from sources s
    where s.project_id = ${projectId}
      ${cursor ? sql`and (s.created_at, s.id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
    order by s.created_at desc, s.id desc
    limit ${query.limit + 1}`;
  const result = page(rows, query.limit);
  return { data: result.data.map(presentSource), next_cursor: result.next_cursor };
}

export async function listDocuments(
  sql: Sql,
  projectId: string,
  sourceId: string,
  query: { limit: number; cursor?: string; status?: string },
) {
  await getSource(sql, projectId, sourceId);
  const cursor = decodeCursor(query.cursor);
  const rows = await sql<{ id: string; created_at: Date }[]>`
    select id, key, url, title, format, status, error, chunk_count, created_at, updated_at
    from documents
    where source_id = ${sourceId} and project_id = ${projectId}
      ${query.status ? sql`and status = ${query.status}` : sql``}
      ${cursor ? sql`and (created_at, id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
    order by created_at desc, id desc
    limit ${query.limit + 1}`;
  return page(rows, query.limit);
}

/** Re-syncs: files, texts and FAQs re-ingest (unchanged content embeds nothing); sites re-crawl. */
export async function syncSource(
  deps: SourceDeps,
  projectId: string,
  sourceId: string,
): Promise<{ id: string; status: 'queued' }> {
  const source = await getSource(deps.sql, projectId, sourceId);
  const [next] = await deps.sql<{ generation: number }[]>`
    update sources set status = 'queued', error = null, generation = generation + 1, updated_at = now(),
      next_refresh_at = case when refresh_interval_hours is null then null else now() + make_interval(hours => refresh_interval_hours) end
    where id = ${sourceId} and project_id = ${projectId}
    returning generation`;
  if (source.type === 'website' || source.type === 'sitemap') {
    await deps.crawl.send(crawlStartMessage(projectId, sourceId, next?.generation ?? 1));
  } else {
    const docs = await deps.sql<{ id: string }[]>`
      update documents set status = 'queued', error = null, updated_at = now()
      where source_id = ${sourceId} and project_id = ${projectId} returning id`;
    await enqueueAll(
      deps.ingest,
      docs.map((d) => ingestMessage(projectId, sourceId, d.id)),
    );
  }
  return { id: sourceId, status: 'queued' };
}

/**
 * Deletes the source, its documents and chunks (cascade) and its stored files. The project's
 * knowledge version moves in the same transaction, so cached answers that cite the source are
 * never served again (src/chat/cache.ts keys answers by it).
 */
export async function deleteSource(deps: SourceDeps, projectId: string, sourceId: string): Promise<void> {
  await getSource(deps.sql, projectId, sourceId);
  await deps.sql.begin(async (tx) => {
    const deleted = await tx`delete from sources where id = ${sourceId} and project_id = ${projectId} returning id`;
    if (deleted.length > 0) await bumpKnowledgeVersion(tx, projectId);
  });
  await deletePrefix(deps.bucket, sourcePrefix(projectId, sourceId));
}
