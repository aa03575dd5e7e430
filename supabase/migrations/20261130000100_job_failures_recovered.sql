-- Jobs that failed and later succeeded: `recovered_at` is set when a retry of the job succeeds
-- (and cleared if it fails again), so the jobs dashboard tells a past failure from a live one.
alter table public.job_failures add column if not exists recovered_at timestamptz;
