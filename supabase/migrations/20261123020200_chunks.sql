-- Chunks: the retrievable pieces of documents, with their embedding (pgvector, 512 dims, HNSW
-- cosine) and a generated full-text vector (GIN) for hybrid search. Every chunk carries
-- project_id so retrieval filters by tenant, and the embedding model id so vectors of different
-- models are never compared. Ids are deterministic (document, content hash, position), so a
-- redelivered message upserts the same rows.
create table if not exists public.chunks (
  id uuid primary key,
  project_id uuid not null references public.projects (id) on delete cascade,
  source_id uuid not null references public.sources (id) on delete cascade,
  document_id uuid not null references public.documents (id) on delete cascade,
  position integer not null,
  content text not null,
  heading_path jsonb not null default '[]'::jsonb,
  page integer,
  url text,
  title text,
  embedding vector(512) not null,
  embedding_model text not null,
  fts tsvector generated always as (
    setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', content), 'B')
  ) stored,
  created_at timestamptz not null default now()
);

create index if not exists chunks_document_idx on public.chunks (document_id, position);
create index if not exists chunks_project_idx on public.chunks (project_id, embedding_model);
create index if not exists chunks_fts_idx on public.chunks using gin (fts);
create index if not exists chunks_embedding_idx on public.chunks using hnsw (embedding vector_cosine_ops);

alter table public.chunks enable row level security;
