-- A faster hybrid search (src/chat/retrieve-sql.ts), in one statement.
--
-- 1. term_tiers(text, min_share, max_groups): the tiers of a full-text search, one row per
--    required number of the text's distinct lexemes (English configuration), from all of them
--    (k = n) down to ceil(n × min_share). `matches` finds the documents holding at least k of
--    them, written as an OR of AND groups ('a b c', k = 2 → (a & b) | (a & c) | (b & c));
--    `above` is the tier before (null for the first), so `matches and not above` is one tier.
--    Retrieval (src/chat/retrieve-sql.ts) reads the tiers in order and stops once it has enough
--    chunks: the GIN index finds each tier without touching every chunk that shares one common
--    word with the question. A tier whose groups would exceed `max_groups` asks for fewer
--    lexemes (a wider search, never a narrower one).
-- 2. nearest_chunks(project, model, embedding, limit): the project's chunks of one embedding
--    model nearest to `embedding` (cosine distance) through the HNSW index, with the index's
--    search list sized for `limit` (hnsw.ef_search) and iterative scans on (pgvector ≥ 0.8: the
--    scan goes on until enough rows pass the project filter; older pgvector lacks the setting and
--    searches without it). The settings are local to the calling statement's transaction, so
--    the search needs no explicit transaction (and no reserved connection) around it.
-- 3. The GIN index stops using its pending list: with fastupdate a bulk ingestion leaves new
--    entries in an unsorted list that every search scans until (auto)vacuum merges it — hundreds
--    of milliseconds per search after a large upload on a database without autovacuum (PGlite),
--    and a latency spike on one with it. Inserts pay instead, in the background queue.
create or replace function public.term_tiers(query_text text, min_share float8, max_groups integer)
returns table (k integer, matches tsquery, above tsquery)
language plpgsql
immutable
set search_path = ''
as $$
declare
  lexemes text[] := tsvector_to_array(to_tsvector('english', query_text));
  n integer := cardinality(lexemes);
  tier integer;
  need integer;
  groups text;
begin
  if n = 0 then
    return;
  end if;
  for tier in reverse n..greatest(1, least(n, ceil(n * min_share)::integer)) loop
    need := tier;
    while need > 1 and factorial(n) / (factorial(need) * factorial(n - need)) > max_groups loop
      need := need - 1;
    end loop;
    with recursive lexeme(i, quoted) as (
      select u.ord::integer, '''' || replace(replace(u.x, '\', '\\'), '''', '''''') || ''''
      from unnest(lexemes) with ordinality as u(x, ord)
    ), grouped(last, size, query) as (
      select l.i, 1, l.quoted from lexeme l where n - l.i >= need - 1
      union all
      select l.i, g.size + 1, g.query || ' & ' || l.quoted
      from grouped g join lexeme l on l.i > g.last
      -- only prefixes that enough lexemes remain to complete
      where g.size < need and n - l.i >= need - g.size - 1
    )
    select string_agg('(' || g.query || ')', ' | ') into groups from grouped g where g.size = need;
    k := tier;
    above := matches;
    matches := groups::tsquery;
    return next;
  end loop;
end
$$;

create or replace function public.nearest_chunks(project uuid, model text, embedding vector, wanted integer)
returns table (id uuid, distance float8)
language plpgsql
set search_path = public, extensions
as $$
begin
  perform set_config('hnsw.ef_search', least(1000, greatest(40, wanted * 2))::text, true);
  begin
    perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
  exception when others then
    null;
  end;
  return query
    select c.id, (c.embedding <=> nearest_chunks.embedding)::float8
    from public.chunks c
    where c.project_id = nearest_chunks.project and c.embedding_model = nearest_chunks.model
    order by c.embedding <=> nearest_chunks.embedding
    limit wanted;
end
$$;

alter index public.chunks_fts_idx set (fastupdate = off);
select gin_clean_pending_list('public.chunks_fts_idx'::regclass);
