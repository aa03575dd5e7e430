-- Documents may be `skipped`: a crawled page that was found but deliberately not fetched (the
-- site's robots.txt disallows it). Listing it, with the reason in `error`, lets the source's
-- owner see what the crawl left out instead of it vanishing silently. A skipped document has no
-- chunks and does not count toward a source being ready or failed.
alter table public.documents drop constraint if exists documents_status_check;
alter table public.documents add constraint documents_status_check
  check (status in ('queued', 'processing', 'ready', 'failed', 'skipped'));
