/**
 * Ingesting one document: bytes from R2 → extracted text → structure-aware chunks → embeddings
 * → chunks upserted. Safe under at-least-once delivery: when the extracted text and the
 * embedding model are unchanged, nothing is embedded again; otherwise the document's chunks are
 * replaced with deterministic ids. A bad document fails alone with a readable reason (not
 * retried: the input will not change); infrastructure errors throw so the queue retries.
 */
import type { Sql } from 'postgres';
import { log } from '../http/logger';
import type { IngestMessage } from '../jobs/messages';
import { chunkDocument } from './chunk';
import { extractDocument } from './extract';
import { replaceChunks, sha256Hex, type StoredChunk } from './store';
import { bumpKnowledgeVersion, markDocument, refreshSourceStatus } from './status';
import { ExtractionError, type DocumentFormat, type ExtractedDocument } from './types';

/** Embeds texts and says which model produced the vectors (a fallback may answer instead). */
export type EmbedTexts = (texts: string[]) => Promise<{ vectors: number[][]; model: string }>;

export interface IngestDeps {
  sql: Sql;
  bucket: R2Bucket;
  embed: EmbedTexts;
  /** The model a healthy run would use; a document embedded with another one is re-embedded. */
  preferredModel: string;
}

export interface DocumentRow {
  id: string;
  key: string;
  url: string | null;
  title: string | null;
  format: string | null;
  r2_key: string | null;
  content_hash: string | null;
  embedding_model: string | null;
  status: string;
}

export type IngestOutcome = 'ingested' | 'unchanged' | 'failed' | 'gone';

const FORMATS = new Set<string>(['pdf', 'docx', 'txt', 'md', 'csv', 'html']);

export async function ingestDocument(deps: IngestDeps, msg: IngestMessage): Promise<IngestOutcome> {
  const { sql } = deps;
  const [doc] = await sql<DocumentRow[]>`
    select id, key, url, title, format, r2_key, content_hash, embedding_model, status
    from documents where id = ${msg.document_id} and source_id = ${msg.source_id} and project_id = ${msg.project_id}`;
  if (!doc) return 'gone'; // the source was deleted since the message was queued
  await markDocument(sql, doc.id, 'processing');
  await sql`update sources set status = 'processing', updated_at = now() where id = ${msg.source_id} and status = 'queued'`;

  const object = doc.r2_key ? await deps.bucket.get(doc.r2_key) : null;
  if (!object) return fail(deps, msg, doc.id, 'The stored file is missing; upload it again');
  const bytes = new Uint8Array(await object.arrayBuffer());

  let extracted: ExtractedDocument;
  try {
    extracted = await extractDocument({
      bytes,
      filename: doc.key,
      contentType: object.httpMetadata?.contentType,
      url: doc.url ?? undefined,
    });
  } catch (err) {
    if (err instanceof ExtractionError) return fail(deps, msg, doc.id, `${err.reason}: ${err.message}`);
    throw err;
  }
  return ingestExtracted(deps, msg, doc, extracted);
}

/** Chunks, embeds and stores an extracted document (shared with the crawler). */
export async function ingestExtracted(
  deps: IngestDeps,
  ids: Pick<IngestMessage, 'project_id' | 'source_id'>,
  doc: Pick<DocumentRow, 'id' | 'url' | 'title' | 'format' | 'content_hash' | 'embedding_model'>,
  extracted: ExtractedDocument,
): Promise<IngestOutcome> {
  const { sql } = deps;
  const title = doc.title ?? extracted.title ?? null;
  const fullText = extracted.sections.map((s) => `${s.headingPath.join(' > ')}\n${s.text}`).join('\n\n');
  const contentHash = await sha256Hex(`${title ?? ''}\n${fullText}`);
  if (doc.content_hash === contentHash && doc.embedding_model === deps.preferredModel) {
    await sql`update documents set status = 'ready', error = null, title = ${title}, updated_at = now() where id = ${doc.id}`;
    await refreshSourceStatus(sql, ids.source_id);
    return 'unchanged';
  }

  const format = doc.format && FORMATS.has(doc.format) ? (doc.format as DocumentFormat) : undefined;
  const chunks = chunkDocument(extracted, { format });
  if (chunks.length === 0) return fail(deps, ids, doc.id, 'no_text: the document contains no text to index');
  // Title and heading path travel with each chunk's text into the embedding: they say what it is about.
  const { vectors, model } = await deps.embed(
    chunks.map((c) => [title, c.headingPath.join(' > '), c.text].filter(Boolean).join('\n')),
  );
  const stored: StoredChunk[] = chunks.map((c, i) => ({ ...c, embedding: vectors[i] ?? [], model }));

  await sql.begin(async (tx) => {
    const count = await replaceChunks(
      tx,
      {
        projectId: ids.project_id,
        sourceId: ids.source_id,
        documentId: doc.id,
        contentHash,
        url: doc.url ?? extracted.canonicalUrl ?? null,
        title,
      },
      stored,
    );
    await tx`
      update documents set status = 'ready', error = null, title = ${title}, content_hash = ${contentHash},
        embedding_model = ${model}, chunk_count = ${count}, updated_at = now()
      where id = ${doc.id}`;
    await bumpKnowledgeVersion(tx, ids.project_id);
  });
  await refreshSourceStatus(sql, ids.source_id);
  if (model !== deps.preferredModel) {
    log('warn', 'document embedded with the fallback model', {
      document_id: doc.id,
      model,
      preferred: deps.preferredModel,
    });
  }
  return 'ingested';
}

async function fail(
  deps: IngestDeps,
  msg: Pick<IngestMessage, 'source_id'>,
  documentId: string,
  reason: string,
): Promise<IngestOutcome> {
  await markDocument(deps.sql, documentId, 'failed', reason);
  await refreshSourceStatus(deps.sql, msg.source_id);
  return 'failed';
}
