/**
 * The SQL behind retrieval (src/chat/retrieve.ts): which embedding models a project's chunks
 * use, and one hybrid search statement — pgvector cosine per model fused with Postgres
 * full-text search by reciprocal rank fusion (the functions it calls are in
 * supabase/migrations/20261201000000_faster_search.sql).
 * Every statement is filtered by project_id; vectors are only compared within one model.
 */
import type { Sql } from 'postgres';

/** Reciprocal rank fusion constant (Cormack et al.): score = Σ 1 / (RRF_K + rank). */
export const RRF_K = 60;

/**
 * A chunk found only by text qualifies when it contains at least this share of the question's
 * distinct search terms (stemmed, stopwords removed, title included).
 */
export const MIN_TEXT_COVERAGE = 0.5;

/** Most AND groups in one tier's query (term_tiers); tiers needing more are widened. */
const MAX_TERM_GROUPS = 128;

/** The query embedded with one model, and the similarity a chunk of that model needs. */
export interface QueryVector {
  model: string;
  vector: number[];
  minSimilarity: number;
  /** Whether a chunk found by this vector must also contain one of the search terms. */
  needsSharedTerm: boolean;
}

export interface SearchRow {
  id: string;
  document_id: string;
  source_id: string;
  title: string | null;
  url: string | null;
  page: number | null;
  heading_path: unknown;
  content: string;
  similarity: number;
  score: number;
}

/**
 * The embedding models of a project's chunks as a loose index scan over chunks_project_idx
 * (project_id, embedding_model): one index probe per model, however many chunks it holds.
 * A WITH RECURSIVE element named `models`; `project` is an SQL expression of the project's id.
 */
export function embeddingModelsCte(sql: Sql, project: ReturnType<Sql>) {
  return sql`models(model) as (
      (select embedding_model from chunks where project_id = ${project} order by embedding_model limit 1)
      union all
      select (
        select c.embedding_model from chunks c
        where c.project_id = ${project} and c.embedding_model > m.model
        order by c.embedding_model limit 1)
      from models m where m.model is not null
    )`;
}

/** The embedding models of the project's chunks (see embeddingModelsCte). */
export async function projectModels(sql: Sql, projectId: string): Promise<string[]> {
  const rows = await sql<{ model: string }[]>`
    with recursive ${embeddingModelsCte(sql, sql`${projectId}::uuid`)}
    select model from models where model is not null`;
  return rows.map((r) => r.model);
}

export interface HybridSearch {
  projectId: string;
  /** Search words of the question (see `searchWords`); empty skips full-text search. */
  words: string[];
  vectors: QueryVector[];
  /** Rows per ranked list. */
  candidates: number;
  /** Most rows returned (their text travels back; near-duplicate removal needs some spare). */
  limit: number;
}

/**
 * Runs the hybrid search as one statement: nearest_chunks sets the HNSW knobs for the
 * statement's own transaction (Hyperdrive pools in transaction mode, so settings must be local),
 * so no explicit transaction or reserved connection is needed and the search can run beside
 * other queries of the turn. Returns qualifying chunks, best fused score first.
 */
export async function hybridSearch(sql: Sql, search: HybridSearch): Promise<SearchRow[]> {
  const { projectId, candidates } = search;
  const queryVectors = search.vectors.map((v) => ({
    model: v.model,
    embedding: `[${v.vector.join(',')}]`,
    min_similarity: v.minSimilarity,
    needs_term: v.needsSharedTerm,
  }));
  // The text list: chunks holding all of the question's terms, then all but one, and so on down
  // to MIN_TEXT_COVERAGE of them, each tier found through the GIN index (term_tiers,
  // supabase/migrations/20261201000000_faster_search.sql) and ranked within by ts_rank
  // against any term (websearch_to_tsquery reads "or" as OR). The tiers stop once the list is
  // full, so a common word of the question never makes the search rank thousands of chunks.
  // The coverage check below still decides which chunks qualify (the widest tier may ask for
  // fewer terms when the question has many).
  const anyTerm = search.words.join(' or ');
  const allTerms = search.words.join(' ');

  return sql<SearchRow[]>`
        with q as (
          select x.model, x.embedding::vector as v, x.min_similarity, x.needs_term
          from jsonb_to_recordset(${sql.json(queryVectors)})
            as x(model text, embedding text, min_similarity float8, needs_term boolean)
        ),
        vec as (
          select n.id, row_number() over (partition by q.model order by n.distance) as rank
          from q cross join lateral nearest_chunks(${projectId}, q.model, q.v, ${candidates}) n
        ),
        terms as (
          select websearch_to_tsquery('english', ${anyTerm}) as query, to_tsvector('english', ${allTerms}) as lexemes
        ),
        tiers as materialized (
          select * from term_tiers(${allTerms}, ${MIN_TEXT_COVERAGE}, ${MAX_TERM_GROUPS})
        ),
        txt as (
          select id, row_number() over (order by k desc, text_rank desc, id) as rank
          from (
            select tier.k, m.id, m.text_rank
            from (select * from tiers order by k desc) tier
            cross join lateral (
              select c.id, ts_rank(c.fts, t.query) as text_rank
              from chunks c cross join terms t
              where c.project_id = ${projectId} and c.fts @@ tier.matches
                and (tier.above is null or not c.fts @@ tier.above)
              order by text_rank desc, c.id
              limit ${candidates}
            ) m
            limit ${candidates}
          ) found
        ),
        fused as (
          select id, sum(1.0 / (${RRF_K} + rank))::float8 as score
          from (select id, rank from vec union all select id, rank from txt) ranked
          group by id
        ),
        scored as (
          select c.id, c.document_id, c.source_id, c.title, c.url, c.page, c.heading_path, c.content, f.score,
            (1 - (c.embedding <=> q.v))::float8 as similarity, q.min_similarity, q.needs_term,
            (length(t.lexemes) - length(ts_delete(t.lexemes, tsvector_to_array(c.fts))))::float8
              / nullif(length(t.lexemes), 0) as coverage
          from fused f
          join chunks c on c.id = f.id and c.project_id = ${projectId}
          left join q on q.model = c.embedding_model
          cross join terms t
        )
        select id, document_id, source_id, title, url, page, heading_path, content, score,
          coalesce(similarity, 0) as similarity
        from scored
        where (similarity >= min_similarity and (not needs_term or coverage > 0))
          or coverage >= ${MIN_TEXT_COVERAGE}
        order by score desc, similarity desc, id
        limit ${search.limit}`;
}
