-- Per-project daily usage: chat turns and model tokens, for the daily token budget and billing.
create table if not exists public.usage_daily (
  project_id uuid not null references public.projects (id) on delete cascade,
  day date not null,
  turns integer not null default 0,
  prompt_tokens bigint not null default 0,
  completion_tokens bigint not null default 0,
  cached_turns integer not null default 0,
  primary key (project_id, day)
);

alter table public.usage_daily enable row level security;
