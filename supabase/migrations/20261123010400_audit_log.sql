-- Audit log of owner actions (project created/changed/deleted, keys created/revoked/rotated,
-- data exported/erased): who did what to which target, from where, in which request.
-- project_id deliberately has no foreign key: the record of a project's deletion must outlive
-- the project. Rows of deleted projects are no longer readable through the API.
create table if not exists public.audit_log (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null,
  actor_type text not null check (actor_type in ('owner', 'secret_key', 'system')),
  actor_id text not null,
  action text not null,
  target_type text not null,
  target_id text,
  ip text,
  request_id text,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);

create index if not exists audit_log_project_idx on public.audit_log (project_id, created_at desc, id desc);

alter table public.audit_log enable row level security;
