-- Identity-secret rotation with a grace period. Sites embedding the widget sign end-user ids
-- with the project's identity secret (user_hash = HMAC-SHA256(identity_secret, user_id)) on
-- their own servers, and need time to deploy a new one: after a rotation the previous secret
-- still verifies hashes until previous_identity_secret_expires_at (compared with now() in SQL).
-- A rotation with no grace leaves both columns null. The previous secret is never returned by
-- the API; only its expiry is.
alter table public.projects
  add column if not exists previous_identity_secret text,
  add column if not exists previous_identity_secret_expires_at timestamptz;

alter table public.projects drop constraint if exists projects_previous_identity_secret_check;
alter table public.projects add constraint projects_previous_identity_secret_check
  check ((previous_identity_secret is null) = (previous_identity_secret_expires_at is null));
