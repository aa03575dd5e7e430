/**
 * Retrieval for a chat turn: hybrid search over the project's chunks — pgvector cosine per
 * embedding model, fused with Postgres full-text search by reciprocal rank fusion — then a
 * relevance floor and near-duplicate removal. One SQL round trip (the search), plus one for the
 * project's embedding models unless the caller has them. The SQL
 * is in retrieve-sql.ts.
 */
import type { Sql } from 'postgres';
import { EMBEDDING_DIMENSIONS, LOCAL_EMBEDDING_MODEL, embedWithModel, type Embedder } from '../ai/embeddings';
import { log } from '../http/logger';
import { dropNearDuplicates } from './near-duplicates';
import { hybridSearch, projectModels, type QueryVector, type SearchRow } from './retrieve-sql';
import { searchWords } from './terms';
import type { Passage } from './types';

export { citationsFrom } from './citations';
export { standaloneQuery } from './standalone-query';
export { MIN_TEXT_COVERAGE, RRF_K } from './retrieve-sql';

/**
 * Cosine similarity a chunk needs, per embedding model, when the caller sets none. For
 * text-embedding-3-*, unrelated text lands mostly below 0.2 and relevant passages above 0.35.
 * For parley-local-v1 a relevant ~1,500-character chunk scores only 0.2–0.3 against a short
 * question; see {@link LEXICAL_MODELS} for how its noise is kept out. Models not listed get
 * {@link FALLBACK_MIN_SIMILARITY}.
 */
export const DEFAULT_MIN_SIMILARITY: Readonly<Record<string, number>> = {
  [LOCAL_EMBEDDING_MODEL]: 0.2,
  'text-embedding-3-small': 0.3,
  'text-embedding-3-large': 0.3,
};
export const FALLBACK_MIN_SIMILARITY = 0.3;

/**
 * Models whose vectors are hashed words, not meaning. parley-local-v1 hashes words into 512
 * buckets, so a short question whose word shares a bucket with a short chunk's word scores 0.3
 * or more with no word in common ("gift cards" against "Refunds … within 98 days"). A chunk
 * found by such a model's vector therefore also has to share at least one search term with the
 * question; its vectors still rank inflections and partial matches.
 */
export const LEXICAL_MODELS: ReadonlySet<string> = new Set([LOCAL_EMBEDDING_MODEL]);

/** Rows fetched per passage wanted, so that near-duplicates can drop out and topK remain. */
const NEAR_DUPLICATE_SPARE = 3;

export function defaultMinSimilarity(model: string): number {
  return DEFAULT_MIN_SIMILARITY[model] ?? FALLBACK_MIN_SIMILARITY;
}

export interface RetrieveInput {
  projectId: string;
  /** The question, already standalone (see `standaloneQuery`). */
  query: string;
  /** The embedder for a model id, or undefined when that model cannot embed here. */
  embedders: (model: string) => Embedder | undefined;
  /** Passages returned at most; default 6. */
  topK?: number;
  /** Overrides the per-model {@link defaultMinSimilarity} for every model. */
  minSimilarity?: number;
  /** Rows taken from each ranked list (per model, and full-text) before fusion; default 40. */
  candidates?: number;
  /** The embedding models of the project's chunks when the caller read them already; else queried. */
  models?: string[];
}

export interface RetrieveResult {
  /** Best first; empty means nothing relevant enough was found (answer ungrounded). */
  passages: Passage[];
  /** The models whose vectors the query was compared with. */
  models: string[];
  timings: { embed_ms: number; search_ms: number };
}

/**
 * The project's passages most relevant to `query`.
 *
 * - Vectors: the query is embedded once per embedding model present in the project's chunks
 *   and compared only with chunks of that model. A model without an embedder here, or whose
 *   embedder fails or answers with another model, is skipped: its chunks can still be found by
 *   full-text search (fail-open — keyword matches beat no answer; the skip is logged).
 * - Fusion: each model's list and the full-text list (chunks holding at least half the search
 *   terms, ranked by ts_rank) contribute 1 / (60 + rank); passages are ordered by the sum.
 * - Floor: a passage is kept when its similarity reaches `minSimilarity` under its own model
 *   (for {@link LEXICAL_MODELS}, only if it also shares a search term with the question), or when its text (title included) contains more than half of the question's distinct search
 *   terms ({@link MIN_TEXT_COVERAGE}) — how exact identifiers like "SKU-7741" are found, which
 *   embeddings blur. A chunk matching only a minority of terms is dropped whatever its rank.
 *   Text-matched chunks of a model that was not queried report similarity 0.
 * - Near-duplicates (same normalised content, or word-shingle Jaccard ≥ 0.9) keep the best.
 */
export async function retrieve(sql: Sql, input: RetrieveInput): Promise<RetrieveResult> {
  const topK = Math.max(1, Math.trunc(input.topK ?? 6));
  const candidates = Math.max(topK, Math.trunc(input.candidates ?? 40));
  const timings = { embed_ms: 0, search_ms: 0 };
  const query = input.query.trim();
  if (!query) return { passages: [], models: [], timings };

  let started = performance.now();
  const present = input.models ?? (await projectModels(sql, input.projectId));
  timings.search_ms += performance.now() - started;
  if (present.length === 0) return { passages: [], models: [], timings: round(timings) };

  started = performance.now();
  const vectors = await embedQuery(query, present, input);
  timings.embed_ms = performance.now() - started;
  const words = searchWords(query);
  if (vectors.length === 0 && words.length === 0) return { passages: [], models: [], timings: round(timings) };

  started = performance.now();
  const rows = await hybridSearch(sql, {
    projectId: input.projectId,
    words,
    vectors,
    candidates,
    // Room for near-duplicates to drop without shipping every candidate's text.
    limit: Math.min(candidates, topK * NEAR_DUPLICATE_SPARE),
  });
  timings.search_ms += performance.now() - started;

  const passages = dropNearDuplicates(rows, (r) => r.content, topK).map(toPassage);
  return { passages, models: vectors.map((v) => v.model), timings: round(timings) };
}

/** The query's vector under each model that can embed it (see `retrieve`). */
async function embedQuery(query: string, models: string[], input: RetrieveInput): Promise<QueryVector[]> {
  const results = await Promise.all(
    models.map(async (model): Promise<QueryVector | null> => {
      const embedder = input.embedders(model);
      if (!embedder) return null;
      try {
        const { vectors, model: answered } = await embedWithModel(embedder, [query]);
        const vector = vectors[0];
        if (answered !== model || vector?.length !== EMBEDDING_DIMENSIONS) {
          log('warn', 'query embedding unusable; searching that model by text only', { model, answered });
          return null;
        }
        return {
          model,
          vector,
          minSimilarity: input.minSimilarity ?? defaultMinSimilarity(model),
          needsSharedTerm: LEXICAL_MODELS.has(model),
        };
      } catch (error) {
        log('warn', 'query embedding failed; searching that model by text only', {
          model,
          error: error instanceof Error ? error.message : String(error),
        });
        return null;
      }
    }),
  );
  return results.filter((v): v is QueryVector => v !== null);
}

function toPassage(row: SearchRow): Passage {
  return {
    chunkId: row.id,
    documentId: row.document_id,
    sourceId: row.source_id,
    title: row.title,
    url: row.url,
    page: row.page,
    headingPath: Array.isArray(row.heading_path)
      ? row.heading_path.filter((h): h is string => typeof h === 'string')
      : [],
    content: row.content,
    similarity: row.similarity,
    score: row.score,
  };
}

function round(t: { embed_ms: number; search_ms: number }): { embed_ms: number; search_ms: number } {
  return { embed_ms: Math.round(t.embed_ms * 10) / 10, search_ms: Math.round(t.search_ms * 10) / 10 };
}
