-- Project tenancy columns: who owns a project, which browser origins may use its publishable
-- keys, and the identity secret customers use to sign end-user ids (HMAC-SHA256) for
-- identity verification. Deleting a project cascades to everything it owns.
alter table public.projects
  add column if not exists owner_id uuid not null,
  -- jsonb rather than text[]: the Worker's driver runs without a type round trip (fetch_types off).
  add column if not exists allowed_origins jsonb not null default '[]'::jsonb
    check (jsonb_typeof(allowed_origins) = 'array'),
  -- Two v4 UUIDs: 244 bits from Postgres's strong random source, without needing pgcrypto.
  add column if not exists identity_secret text not null
    default replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');

create index if not exists projects_owner_idx on public.projects (owner_id, created_at desc, id desc);
