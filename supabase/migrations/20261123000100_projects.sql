-- Projects: the tenant. Every other table in Parley hangs off a project and every query is
-- scoped by project_id. RLS is enabled with no policies: Supabase's anon/authenticated roles
-- (PostgREST) see nothing, while the Worker connects through Hyperdrive as the table owner.
create table if not exists public.projects (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 200),
  settings jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

alter table public.projects enable row level security;
