/**
 * Knowledge sources of a project (owner/admin, or the project's secret key):
 * create (JSON or file upload), list, read with live progress, list documents, re-sync, delete,
 * and the jobs dashboard.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { access } from '../auth/access';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { describe } from '../http/openapi';
import { validate } from '../http/validate';
import { jobsOverview } from '../sources/jobs';
import { PageQuery, pageSchema } from '../pagination';
import {
  Accepted,
  CreateSource,
  DEFAULT_MAX_UPLOAD_BYTES,
  Document,
  DocumentStatus,
  Source,
  UPLOAD_EXTENSIONS,
} from '../sources/schemas';
import {
  createSource,
  deleteSource,
  getSource,
  listDocuments,
  listSources,
  presentSource,
  syncSource,
  type SourceDeps,
} from '../sources/service';

const tags = ['sources'];
const managers = {
  principals: ['owner' as const, 'secret_key' as const],
  roles: ['owner' as const, 'admin' as const],
  project: 'id',
};
const Params = z.object({ id: z.string().max(100) });
const SourceParams = Params.extend({ source_id: z.string().max(100) });
const DocumentsQuery = PageQuery.extend({ status: DocumentStatus.optional() });

function deps(c: Context<AppEnv>): SourceDeps {
  return { sql: c.get('sql')(), bucket: c.env.UPLOADS, ingest: c.env.INGEST_QUEUE, crawl: c.env.CRAWL_QUEUE };
}

const projectId = (c: Context<AppEnv>): string => c.get('projectId') ?? '';

/** Reads the multipart upload, enforcing the project's size limit and the format allowlist. */
async function readUpload(c: Context<AppEnv>) {
  const limit = c.get('project')?.settings.max_upload_bytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const declared = Number(c.req.header('content-length') ?? NaN);
  // Multipart framing adds a little; anything this far over the limit cannot hold a valid file.
  if (declared > limit + 64 * 1024) throw new AppError('payload_too_large', `Files may be at most ${limit} bytes`);
  const type = c.req.header('content-type') ?? '';
  if (!type.toLowerCase().startsWith('multipart/form-data')) {
    throw new AppError('unsupported_media_type', 'Upload the file as multipart/form-data with a `file` field');
  }
  let form: FormData;
  try {
    form = await c.req.formData();
  } catch {
    throw new AppError('bad_request', 'The multipart body could not be read');
  }
  const file = form.get('file');
  if (!(file instanceof File)) {
    throw new AppError('validation_failed', 'Invalid upload', {
      details: [{ path: 'file', message: 'a file is required' }],
    });
  }
  if (file.size > limit)
    throw new AppError('payload_too_large', `Files may be at most ${limit} bytes; this one has ${file.size}`);
  // Path separators and control characters never reach keys or logs.
  const name = [...(file.name || 'upload')]
    .map((ch) => (ch === '/' || ch === '\\' || ch.charCodeAt(0) < 0x20 ? '_' : ch))
    .join('')
    .slice(0, 200);
  const extension = name.includes('.') ? name.split('.').pop()!.toLowerCase() : '';
  if (!(UPLOAD_EXTENSIONS as readonly string[]).includes(extension)) {
    throw new AppError('validation_failed', 'Invalid upload', {
      details: [
        {
          path: 'file',
          message: `unsupported file type ".${extension}"; upload one of ${UPLOAD_EXTENSIONS.join(', ')}`,
        },
      ],
    });
  }
  const title = form.get('title');
  return {
    title: typeof title === 'string' && title.trim() ? title.trim().slice(0, 300) : name,
    document: {
      key: name,
      title: typeof title === 'string' && title.trim() ? title.trim().slice(0, 300) : undefined,
      format: extension === 'htm' ? 'html' : extension,
      bytes: new Uint8Array(await file.arrayBuffer()),
      contentType: file.type || 'application/octet-stream',
    },
  };
}

export const sources = new Hono<AppEnv>()
  .post(
    '/projects/:id/sources',
    describe({
      summary: 'Add a text, FAQ, website or sitemap source',
      tags,
      responses: { 202: { description: 'Queued', schema: Accepted } },
    }),
    access(managers),
    validate('param', Params),
    validate('json', CreateSource),
    async (c) => c.json(await createSource(deps(c), projectId(c), c.req.valid('json')), 202),
  )
  .post(
    '/projects/:id/sources/files',
    describe({
      summary: 'Upload a file source (pdf, docx, txt, md, csv, html) as multipart `file`',
      description: 'The size limit is the project setting `max_upload_bytes` (default 10 MB); larger files get 413.',
      tags,
      responses: { 202: { description: 'Queued', schema: Accepted } },
    }),
    access(managers),
    validate('param', Params),
    async (c) => {
      const upload = await readUpload(c);
      return c.json(await createSource(deps(c), projectId(c), { type: 'file', ...upload }), 202);
    },
  )
  .get(
    '/projects/:id/sources',
    describe({
      summary: 'Sources with their status and progress',
      tags,
      responses: { 200: { description: 'A page of sources', schema: pageSchema(Source) } },
    }),
    access(managers),
    validate('param', Params),
    validate('query', PageQuery),
    async (c) => c.json(await listSources(c.get('sql')(), projectId(c), c.req.valid('query'))),
  )
  .get(
    '/projects/:id/sources/:source_id',
    describe({
      summary: 'A source with live progress',
      tags,
      responses: { 200: { description: 'The source', schema: Source } },
    }),
    access(managers),
    validate('param', SourceParams),
    async (c) => c.json(presentSource(await getSource(c.get('sql')(), projectId(c), c.req.valid('param').source_id))),
  )
  .get(
    '/projects/:id/sources/:source_id/documents',
    describe({
      summary: 'Documents of a source with per-document status and error',
      tags,
      responses: { 200: { description: 'A page of documents', schema: pageSchema(Document) } },
    }),
    access(managers),
    validate('param', SourceParams),
    validate('query', DocumentsQuery),
    async (c) =>
      c.json(await listDocuments(c.get('sql')(), projectId(c), c.req.valid('param').source_id, c.req.valid('query'))),
  )
  .post(
    '/projects/:id/sources/:source_id/sync',
    describe({
      summary: 'Re-sync a source (unchanged content is not embedded again)',
      tags,
      responses: { 202: { description: 'Queued', schema: Accepted.pick({ id: true, status: true }) } },
    }),
    access(managers),
    validate('param', SourceParams),
    async (c) => c.json(await syncSource(deps(c), projectId(c), c.req.valid('param').source_id), 202),
  )
  .delete(
    '/projects/:id/sources/:source_id',
    describe({
      summary: 'Delete a source, its documents, chunks and stored files',
      tags,
      responses: { 204: { description: 'Deleted' } },
    }),
    access(managers),
    validate('param', SourceParams),
    async (c) => {
      await deleteSource(deps(c), projectId(c), c.req.valid('param').source_id);
      return c.body(null, 204);
    },
  )
  .get(
    '/projects/:id/jobs',
    describe({
      summary: 'Queued, processing, failed and dead-lettered work of the project, with the last errors',
      tags: ['jobs'],
      responses: { 200: { description: 'Jobs overview' } },
    }),
    access(managers),
    validate('param', Params),
    async (c) => c.json(await jobsOverview(c.get('sql')(), projectId(c))),
  );
