/**
 * Writing chunks: deterministic ids from (document, content hash, position), upserts in
 * batches, and removal of the document's chunks that the new version no longer has — so a
 * redelivered message leaves identical rows.
 */
import type { Sql, TransactionSql } from 'postgres';
import type { Chunk } from './types';

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A UUID-shaped id derived from the inputs (RFC 9562 version 8, "custom"). */
export async function chunkId(documentId: string, contentHash: string, position: number): Promise<string> {
  const hex = await sha256Hex(`${documentId}:${contentHash}:${position}`);
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface StoredChunk extends Chunk {
  embedding: number[];
  model: string;
}

export interface ChunkOwner {
  projectId: string;
  sourceId: string;
  documentId: string;
  contentHash: string;
  url: string | null;
  title: string | null;
}

/** Chunks per insert statement. */
const BATCH = 200;

/**
 * Upserts chunks of a document, one insert statement per BATCH; returns their ids. Rows are
 * built right before their insert: a vector's text form is about 10 KB (512 numbers).
 */
export async function upsertChunks(
  sql: Sql | TransactionSql,
  owner: ChunkOwner,
  chunks: StoredChunk[],
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < chunks.length; i += BATCH) {
    const batch = await Promise.all(
      chunks.slice(i, i + BATCH).map(async (c) => ({
        id: await chunkId(owner.documentId, owner.contentHash, c.position),
        position: c.position,
        content: c.text,
        heading_path: c.headingPath,
        page: c.page ?? null,
        embedding: `[${c.embedding.join(',')}]`,
        embedding_model: c.model,
      })),
    );
    for (const row of batch) ids.push(row.id);
    await sql`
      insert into chunks (id, project_id, source_id, document_id, position, content, heading_path, page, url, title, embedding, embedding_model)
      select x.id, ${owner.projectId}, ${owner.sourceId}, ${owner.documentId}, x.position, x.content, x.heading_path, x.page,
             ${owner.url}, ${owner.title}, x.embedding::vector, x.embedding_model
      from jsonb_to_recordset(${sql.json(batch)}) as x(id uuid, position int, content text, heading_path jsonb, page int, embedding text, embedding_model text)
      on conflict (id) do update set
        content = excluded.content, heading_path = excluded.heading_path, page = excluded.page, url = excluded.url,
        title = excluded.title, embedding = excluded.embedding, embedding_model = excluded.embedding_model`;
  }
  return ids;
}

/** Deletes the document's chunks whose ids are not in `keep` (those of an older version). */
export async function deleteStaleChunks(sql: Sql | TransactionSql, documentId: string, keep: string[]): Promise<void> {
  await sql`
    delete from chunks where document_id = ${documentId}
      and not (id = any(select jsonb_array_elements_text(${sql.json(keep)})::uuid))`;
}
