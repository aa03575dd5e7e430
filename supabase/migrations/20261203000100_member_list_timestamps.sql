-- Project members are listed with the cursor pagination of every other list, whose cursor holds
-- the last row's (created_at, user_id) as a JavaScript date (milliseconds). Like the lists of
-- 20261130000000_millisecond_list_timestamps.sql, the column keeps millisecond precision so a
-- cursor is an exact copy of the row it came from and never skips members added in the same
-- millisecond.
alter table public.project_members alter column created_at type timestamptz(3);
