-- A project's knowledge version: bumped whenever its chunks change (a document ingested with new
-- content, a source deleted). Caches of answers key on it, so a knowledge change makes every
-- cached answer of the project unreachable at once.
alter table public.projects add column if not exists knowledge_version bigint not null default 0;
