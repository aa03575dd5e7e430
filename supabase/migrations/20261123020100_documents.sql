-- Documents: one unit of a source's content (a file, the pasted text, one FAQ, one crawled
-- page). `key` identifies it within its source (normalised URL, file name, "text", "faq") so a
-- re-sync updates the same row. `content_hash` is the hash of the extracted text: when it and
-- the embedding model are unchanged, a re-sync embeds nothing.
create table if not exists public.documents (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  source_id uuid not null references public.sources (id) on delete cascade,
  key text not null,
  url text,
  title text,
  format text,
  r2_key text,
  content_hash text,
  embedding_model text,
  status text not null default 'queued' check (status in ('queued', 'processing', 'ready', 'failed')),
  error text,
  chunk_count integer not null default 0,
  generation integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (source_id, key)
);

create index if not exists documents_source_idx on public.documents (source_id, created_at desc, id desc);
create index if not exists documents_project_status_idx on public.documents (project_id, status);

alter table public.documents enable row level security;
