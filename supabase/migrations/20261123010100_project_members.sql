-- Project members: the Supabase Auth users who may manage a project, with a role. `owner` and
-- `admin` manage settings and keys; `agent` is for human agents answering handed-off
-- conversations. The creator of a project is its first owner.
create table if not exists public.project_members (
  project_id uuid not null references public.projects (id) on delete cascade,
  user_id uuid not null,
  role text not null check (role in ('owner', 'admin', 'agent')),
  created_at timestamptz not null default now(),
  primary key (project_id, user_id)
);

create index if not exists project_members_user_idx on public.project_members (user_id, project_id);

alter table public.project_members enable row level security;
