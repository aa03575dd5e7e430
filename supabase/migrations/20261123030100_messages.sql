-- Messages of conversations: the user's, the assistant's (with citations, grounding score,
-- model, token usage, latency, route and whether it came from the answer cache) and human
-- agents' replies. `seq` orders them within a conversation. Feedback is the end user's rating
-- of an assistant message.
create table if not exists public.messages (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  conversation_id uuid not null references public.conversations (id) on delete cascade,
  seq integer not null,
  role text not null check (role in ('user', 'assistant', 'agent', 'system')),
  content text not null,
  citations jsonb not null default '[]'::jsonb,
  grounding real,
  route text,
  model text,
  degraded boolean not null default false,
  cached boolean not null default false,
  usage jsonb,
  latency_ms integer,
  author_id uuid,
  feedback_rating text check (feedback_rating in ('up', 'down')),
  feedback_comment text,
  created_at timestamptz not null default now(),
  unique (conversation_id, seq)
);

create index if not exists messages_project_grounding_idx on public.messages (project_id, created_at desc) where role = 'assistant';

alter table public.messages enable row level security;
