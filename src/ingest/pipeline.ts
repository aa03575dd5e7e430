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
import { deleteStaleChunks, sha256Hex, upsertChunks, type ChunkOwner, type StoredChunk } from './store';
import { bumpKnowledgeVersion, markDocument, refreshSourceStatus } from './status';
import { ExtractionError, type Chunk, type DocumentFormat, type ExtractedDocument } from './types';

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
/** Chunks embedded and written at a time (their vectors are held together in memory). */
const EMBED_SLICE = 1000;

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
  const contentHash = await documentHash(title, extracted);
  if (doc.content_hash === contentHash && doc.embedding_model === deps.preferredModel) {
    await sql`update documents set status = 'ready', error = null, title = ${title}, updated_at = now() where id = ${doc.id}`;
    await refreshSourceStatus(sql, ids.source_id);
    return 'unchanged';
  }

  const format = doc.format && FORMATS.has(doc.format) ? (doc.format as DocumentFormat) : undefined;
  const chunks = chunkDocument(extracted, { format });
  if (chunks.length === 0) return fail(deps, ids, doc.id, 'no_text: the document contains no text to index');
  const owner: ChunkOwner = {
    projectId: ids.project_id,
    sourceId: ids.source_id,
    documentId: doc.id,
    contentHash,
    url: doc.url ?? extracted.canonicalUrl ?? null,
    title,
  };
  // Title and heading path travel with each chunk's text into the embedding: they say what it is about.
  const embedSlice = async (slice: Chunk[]): Promise<StoredChunk[]> => {
    const { vectors, model } = await deps.embed(
      slice.map((c) => [title, c.headingPath.join(' > '), c.text].filter(Boolean).join('\n')),
    );
    return slice.map((c, i) => ({ ...c, embedding: vectors[i] ?? [], model }));
  };

  // Embedded and written EMBED_SLICE chunks at a time, so a large document's vectors are never
  // all in memory (12,500 chunks of a 100,000-row CSV are ~50 MB of numbers). The slices before
  // the last are upserted as they come; the last one, the removal of the old version's chunks and
  // the document's new state commit together — a document of one slice is replaced atomically, a
  // larger one briefly shows chunks of both versions. A retry upserts the same ids again.
  const keep: string[] = [];
  const models = new Set<string>();
  let last: StoredChunk[] = [];
  for (let i = 0; i < chunks.length; i += EMBED_SLICE) {
    const stored = await embedSlice(chunks.slice(i, i + EMBED_SLICE));
    models.add(stored[0]!.model);
    if (i + EMBED_SLICE >= chunks.length) last = stored;
    else keep.push(...(await upsertChunks(sql, owner, stored)));
  }
  // Mixed when the fallback answered for some slices: record the other model, so the document
  // is embedded again once the preferred one is back.
  const model = [...models].find((m) => m !== deps.preferredModel) ?? deps.preferredModel;
  await sql.begin(async (tx) => {
    keep.push(...(await upsertChunks(tx, owner, last)));
    await deleteStaleChunks(tx, doc.id, keep);
    await tx`
      update documents set status = 'ready', error = null, title = ${title}, content_hash = ${contentHash},
        embedding_model = ${model}, chunk_count = ${keep.length}, updated_at = now()
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

/** What identifies a version of the document: its title and every section's heading and text. */
function documentHash(title: string | null, extracted: ExtractedDocument): Promise<string> {
  const fullText = extracted.sections.map((s) => `${s.headingPath.join(' > ')}\n${s.text}`).join('\n\n');
  return sha256Hex(`${title ?? ''}\n${fullText}`);
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
