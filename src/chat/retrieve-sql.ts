/**
 * The SQL behind retrieval (src/chat/retrieve.ts): which embedding models a project's chunks
 * use, and one hybrid search statement — pgvector cosine per model fused with Postgres
 * full-text search by reciprocal rank fusion — run in a transaction that sets the HNSW knobs.
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
 * The embedding models of the project's chunks, as a loose index scan over
 * chunks_project_idx (project_id, embedding_model): one index probe per model, however many
 * chunks the project holds.
 */
export async function projectModels(sql: Sql, projectId: string): Promise<string[]> {
  const rows = await sql<{ model: string }[]>`
    with recursive models(model) as (
      (select embedding_model from chunks where project_id = ${projectId} order by embedding_model limit 1)
      union all
      select (
        select c.embedding_model from chunks c
        where c.project_id = ${projectId} and c.embedding_model > m.model
        order by c.embedding_model limit 1)
      from models m where m.model is not null
    )
    select model from models where model is not null`;
  return rows.map((r) => r.model);
}

export interface HybridSearch {
  projectId: string;
  /** Search words of the question (see `searchWords`); empty skips full-text search. */
  words: string[];
  vectors: QueryVector[];
  /** Rows per ranked list, and most rows returned. */
  candidates: number;
}

/**
 * Runs the hybrid search in one transaction, pipelined: BEGIN, the HNSW settings, the search
 * and COMMIT are sent together on one reserved connection (Hyperdrive pools in transaction mode,
 * so the settings must be SET LOCAL). Returns qualifying chunks, best fused score first.
 */
export async function hybridSearch(sql: Sql, search: HybridSearch): Promise<SearchRow[]> {
  const { projectId, candidates } = search;
  const queryVectors = search.vectors.map((v) => ({
    model: v.model,
    embedding: `[${v.vector.join(',')}]`,
    min_similarity: v.minSimilarity,
    needs_term: v.needsSharedTerm,
  }));
  // websearch_to_tsquery reads "or" as OR: any term finds a chunk (recall); the coverage
  // check below decides whether a text-only match is strong enough to keep.
  const anyTerm = search.words.join(' or ');
  const allTerms = search.words.join(' ');

  const tx = await sql.reserve();
  try {
    const settled = await Promise.allSettled([
      tx`begin`,
      tx.unsafe(hnswSettings(candidates)),
      tx<SearchRow[]>`
        with q as (
          select x.model, x.embedding::vector as v, x.min_similarity, x.needs_term
          from jsonb_to_recordset(${tx.json(queryVectors)})
            as x(model text, embedding text, min_similarity float8, needs_term boolean)
        ),
        vec as (
          select n.id, row_number() over (partition by q.model order by n.distance) as rank
          from q cross join lateral (
            select c.id, c.embedding <=> q.v as distance
            from chunks c
            where c.project_id = ${projectId} and c.embedding_model = q.model
            order by c.embedding <=> q.v
            limit ${candidates}
          ) n
        ),
        terms as (
          select websearch_to_tsquery('english', ${anyTerm}) as query, to_tsvector('english', ${allTerms}) as lexemes
        ),
        txt as (
          select c.id, row_number() over (order by ts_rank_cd(c.fts, t.query) desc, c.id) as rank
          from chunks c cross join terms t
          where c.project_id = ${projectId} and c.fts @@ t.query
          order by ts_rank_cd(c.fts, t.query) desc, c.id
          limit ${candidates}
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
        limit ${candidates}`,
      // An aborted transaction ends here too: COMMIT then rolls back.
      tx`commit`,
    ]);
    // The first failure is the cause (a failed statement makes the later ones fail too).
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    const [, , rows] = settled;
    return rows.status === 'fulfilled' ? rows.value : [];
  } finally {
    // Only after every statement settled: releasing earlier could hand the pool a connection
    // with the transaction still open.
    tx.release();
  }
}

/**
 * SET LOCAL hnsw.ef_search (the candidate list; at least the rows wanted) and iterative scans
 * (pgvector ≥ 0.8: keep scanning the index until enough rows pass the project filter). Older
 * pgvector rejects the iterative_scan name; the block then keeps ef_search alone, so the
 * search degrades to fewer filtered rows instead of failing. `efSearch` is an integer we
 * compute, never input, which is why it can be inlined (DO blocks take no parameters).
 */
function hnswSettings(candidates: number): string {
  const efSearch = Math.min(1000, Math.max(40, Math.trunc(candidates) * 2));
  return `do $$
begin
  set local hnsw.ef_search = ${efSearch};
  begin
    set local hnsw.iterative_scan = relaxed_order;
  exception when others then
    null;
  end;
end $$`;
}
