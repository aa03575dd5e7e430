-- API keys. Secret keys (sk_…) are for servers; publishable keys (pk_…) for widgets and apps.
-- Only a SHA-256 hash of each key is stored (keys carry 192 random bits, so a fast hash is
-- enough); `prefix` is shown in listings. `expires_at` is set when a key is rotated (grace
-- period) and `revoked_at` when it is revoked; either ends its validity.
create table if not exists public.api_keys (
  id uuid primary key default gen_random_uuid(),
  project_id uuid not null references public.projects (id) on delete cascade,
  type text not null check (type in ('secret', 'publishable')),
  name text check (char_length(name) <= 100),
  prefix text not null,
  key_hash text not null unique,
  created_by uuid,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz,
  replaced_by uuid references public.api_keys (id) on delete set null
);

create index if not exists api_keys_project_idx on public.api_keys (project_id, created_at desc, id desc);

alter table public.api_keys enable row level security;
