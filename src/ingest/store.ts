/**
 * Writing chunks: deterministic ids from (document, content hash, position), one upsert for the
 * whole document, and removal of the document's chunks that the new version no longer has —
 * so a redelivered message leaves identical rows.
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

/** Upserts the document's chunks and deletes its stale ones; returns the number stored. */
export async function replaceChunks(
  sql: Sql | TransactionSql,
  owner: ChunkOwner,
  chunks: StoredChunk[],
): Promise<number> {
  const rows = await Promise.all(
    chunks.map(async (c) => ({
      id: await chunkId(owner.documentId, owner.contentHash, c.position),
      position: c.position,
      content: c.text,
      heading_path: c.headingPath,
      page: c.page ?? null,
      embedding: `[${c.embedding.join(',')}]`,
      embedding_model: c.model,
    })),
  );
  for (let i = 0; i < rows.length; i += 200) {
    const batch = rows.slice(i, i + 200);
    await sql`
      insert into chunks (id, project_id, source_id, document_id, position, content, heading_path, page, url, title, embedding, embedding_model)
      select x.id, ${owner.projectId}, ${owner.sourceId}, ${owner.documentId}, x.position, x.content, x.heading_path, x.page,
             ${owner.url}, ${owner.title}, x.embedding::vector, x.embedding_model
      from jsonb_to_recordset(${sql.json(batch)}) as x(id uuid, position int, content text, heading_path jsonb, page int, embedding text, embedding_model text)
      on conflict (id) do update set
        content = excluded.content, heading_path = excluded.heading_path, page = excluded.page, url = excluded.url,
        title = excluded.title, embedding = excluded.embedding, embedding_model = excluded.embedding_model`;
  }
  const keep = rows.map((r) => r.id);
  await sql`
    delete from chunks where document_id = ${owner.documentId}
      and not (id = any(select jsonb_array_elements_text(${sql.json(keep)})::uuid))`;
  return rows.length;
}
