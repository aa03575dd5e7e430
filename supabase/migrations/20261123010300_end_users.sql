-- End users: the people chatting with a project's bot. `kind` says how they were identified:
-- an anonymous visitor id kept by the client, a customer user id verified by HMAC (or vouched
-- for by a secret key), or the subject of an end-user Supabase JWT. One row per identity per
-- project, so a verified user keeps the same end_user id across devices.
create table if not exists public.end_users (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  kind text not null check (kind in ('anonymous', 'verified', 'supabase')),
  external_id text not null check (char_length(external_id) between 1 and 256),
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  unique (project_id, kind, external_id)
);

alter table public.end_users enable row level security;
