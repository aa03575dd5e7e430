-- Conversations between an end user and a project's bot (and, after a handoff, its human
-- agents). `status` is `active`, `handoff` (a person will follow up; the bot stays quiet unless
-- the project allows it) or `closed`. `summary` folds older turns into a rolling summary that
-- keeps prompts within budget. `ungrounded_streak` counts consecutive answers without support
-- in the knowledge, to offer a human.
create table if not exists public.conversations (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  end_user_id uuid not null references public.end_users (id) on delete cascade,
  status text not null default 'active' check (status in ('active', 'handoff', 'closed')),
  title text,
  summary text,
  summarized_through integer not null default 0,
  ungrounded_streak integer not null default 0,
  message_count integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_message_at timestamptz not null default now()
);

create index if not exists conversations_end_user_idx on public.conversations (project_id, end_user_id, created_at desc, id desc);
create index if not exists conversations_project_idx on public.conversations (project_id, created_at desc, id desc);

alter table public.conversations enable row level security;
