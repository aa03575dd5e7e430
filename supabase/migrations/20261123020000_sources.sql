-- Knowledge sources of a project: pasted text, FAQs, uploaded files, websites and sitemaps.
-- A source owns documents (one per file, text, FAQ or crawled page) and they own chunks.
-- `generation` counts syncs: a sync stamps every document it (re)confirms with the source's
-- current generation, so documents left on an older generation after a completed crawl are
-- pages that disappeared and lose their chunks.
create table if not exists public.sources (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  type text not null check (type in ('text', 'faq', 'file', 'website', 'sitemap')),
  title text,
  config jsonb not null default '{}'::jsonb,
  status text not null default 'queued' check (status in ('queued', 'processing', 'ready', 'failed')),
  error text,
  generation integer not null default 1,
  -- True while a crawl run of this generation is still discovering or fetching pages.
  crawl_running boolean not null default false,
  pages_discovered integer not null default 0,
  pages_fetched integer not null default 0,
  pages_failed integer not null default 0,
  refresh_interval_hours integer check (refresh_interval_hours between 1 and 8760),
  next_refresh_at timestamptz,
  last_synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index if not exists sources_project_idx on public.sources (project_id, created_at desc, id desc);
create index if not exists sources_refresh_idx on public.sources (next_refresh_at) where next_refresh_at is not null;

alter table public.sources enable row level security;
