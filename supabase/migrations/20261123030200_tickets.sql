-- Tickets: a conversation handed to humans — why (reason), how urgent (priority), who has it
-- (assignee, a project member) and where it stands (open → assigned → resolved).
create table if not exists public.tickets (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  status text not null default 'open' check (status in ('open', 'assigned', 'resolved')),
  priority text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
  reason text not null,
  assignee_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  resolved_at timestamptz
);

create index if not exists tickets_project_idx on public.tickets (project_id, status, created_at desc, id desc);
create unique index if not exists tickets_open_per_conversation on public.tickets (conversation_id) where status <> 'resolved';

alter table public.tickets enable row level security;
