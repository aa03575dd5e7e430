-- List timestamps at millisecond precision.
--
-- Lists page with an opaque cursor holding the last row's (created_at, id). Clients and the
-- Worker carry timestamps as JavaScript dates, which keep milliseconds; Postgres keeps
-- microseconds. A cursor rounded to the millisecond would skip rows created later in the same
-- millisecond (rows inserted in one transaction share one now()). Storing these columns as
-- timestamptz(3) makes every cursor an exact copy of the row it came from.
alter table public.projects alter column created_at type timestamptz(3);
alter table public.api_keys alter column created_at type timestamptz(3);
alter table public.audit_log alter column created_at type timestamptz(3);
alter table public.sources alter column created_at type timestamptz(3);
alter table public.documents alter column created_at type timestamptz(3);
alter table public.conversations alter column created_at type timestamptz(3);
alter table public.tickets alter column created_at type timestamptz(3);
alter table public.messages alter column created_at type timestamptz(3);
alter table public.end_users alter column created_at type timestamptz(3);
