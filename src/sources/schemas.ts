/** Shapes of knowledge sources: request bodies, stored config and responses. */
import { z } from 'zod';

const Glob = z.string().min(1).max(200);
const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000);
const Refresh = z.number().int().min(1).max(8760).optional().meta({ description: 'Re-sync every N hours (cron)' });

export const TextSource = z.object({
  type: z.literal('text'),
  title: z.string().trim().min(1).max(300),
  content: z.string().min(1).max(500_000),
  refresh_interval_hours: Refresh,
});

export const FaqSource = z.object({
  type: z.literal('faq'),
  title: z.string().trim().min(1).max(300).optional(),
  items: z
    .array(z.object({ question: z.string().trim().min(1).max(2000), answer: z.string().trim().min(1).max(20_000) }))
    .min(1)
    .max(2000),
});

export const WebsiteSource = z.object({
  type: z.literal('website'),
  url: HttpUrl,
  max_pages: z.number().int().min(1).max(5000).default(100),
  max_depth: z.number().int().min(0).max(20).default(3),
  include: z.array(Glob).max(50).optional(),
  exclude: z.array(Glob).max(50).optional(),
  refresh_interval_hours: Refresh,
});

export const SitemapSource = z.object({
  type: z.literal('sitemap'),
  url: HttpUrl,
  max_pages: z.number().int().min(1).max(5000).default(500),
  refresh_interval_hours: Refresh,
});

export const CreateSource = z.discriminatedUnion('type', [TextSource, FaqSource, WebsiteSource, SitemapSource]);
export type CreateSource = z.output<typeof CreateSource>;

export const SourceType = z.enum(['text', 'faq', 'file', 'website', 'sitemap']);
export const SourceStatus = z.enum(['queued', 'processing', 'ready', 'failed']);
/** A document is also `skipped` when a crawl found the page but did not fetch it (robots.txt). */
export const DocumentStatus = z.enum([...SourceStatus.options, 'skipped']);

export const Source = z
  .object({
    id: z.uuid(),
    type: SourceType,
    title: z.string().nullable(),
    status: SourceStatus,
    stats: z.object({
      documents: z.number().int(),
      chunks: z.number().int(),
      pages_discovered: z.number().int(),
      pages_fetched: z.number().int(),
      pages_failed: z.number().int(),
      documents_failed: z.number().int(),
      documents_skipped: z.number().int(),
    }),
    error: z.string().nullable(),
    config: z.record(z.string(), z.unknown()),
    refresh_interval_hours: z.number().int().nullable(),
    last_synced_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .meta({ id: 'Source' });

export const Document = z.object({
  id: z.uuid(),
  key: z.string(),
  url: z.string().nullable(),
  title: z.string().nullable(),
  format: z.string().nullable(),
  status: DocumentStatus,
  error: z.string().nullable().meta({ description: 'Why the document failed or was skipped' }),
  chunk_count: z.number().int(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

export const Accepted = z.object({ id: z.uuid(), type: SourceType, status: SourceStatus });

/** Upload formats accepted by `POST …/sources/files`, by extension. */
export const UPLOAD_EXTENSIONS = ['pdf', 'docx', 'txt', 'md', 'csv', 'html', 'htm'] as const;

export const DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
