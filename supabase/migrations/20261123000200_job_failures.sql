-- Queue job failures: one row per queued job that failed at least once, with the last readable
-- error and whether it ended in the dead-letter queue. Consumers upsert here (keyed by the
-- job_id every message carries, which survives the move to the DLQ) so owners and operators can
-- see what failed and why. project_id is null when a message could not be attributed to a
-- project (e.g. a malformed body).
create table if not exists public.job_failures (
  kind text not null check (kind in ('crawl', 'ingest', 'memory')),
  job_id text not null,
  project_id uuid references public.projects (id) on delete cascade,
  body jsonb,
  attempts integer not null default 1,
  last_error text not null,
  dead_lettered_at timestamptz,
  first_failed_at timestamptz not null default now(),
  last_failed_at timestamptz not null default now(),
  primary key (kind, job_id)
);

create index if not exists job_failures_project_idx on public.job_failures (project_id, last_failed_at desc);

alter table public.job_failures enable row level security;
