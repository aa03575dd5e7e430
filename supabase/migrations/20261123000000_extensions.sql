-- Extensions Parley relies on.
-- pgvector stores and searches embeddings (HNSW). Supabase ships it; PGlite loads it through
-- @electric-sql/pglite-pgvector. gen_random_uuid() is core Postgres and needs no extension.
create extension if not exists vector;
