/**
 * End users of a project and their data (owner/admin, or the project's secret key for a
 * customer's own privacy tooling): `GET /api/v1/projects/:id/end-users` (find by `external_id`,
 * the id the customer knows them by), `GET …/end-users/:end_user_id/export` (everything Parley
 * holds about them) and `DELETE …/end-users/:end_user_id` (erase it). Both are audited.
 */
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { access } from '../auth/access';
import { eraseEndUser, exportEndUser, listEndUsers, type DataActor } from '../end-user-data';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { describe } from '../http/openapi';
import { validate } from '../http/validate';
import { isUuid } from '../ids';
import { PageQuery, pageSchema } from '../pagination';

const tags = ['end-users'];
const rule = {
  principals: ['owner' as const, 'secret_key' as const],
  roles: ['owner' as const, 'admin' as const],
  project: 'id',
};
const Params = z.object({ id: z.string().max(100), end_user_id: z.string().max(100) });

const EndUser = z.object({
  id: z.uuid(),
  kind: z.enum(['anonymous', 'verified', 'supabase']),
  external_id: z.string().meta({ description: 'Visitor id, your user_id, or the Supabase user id, depending on kind' }),
  created_at: z.iso.datetime(),
  last_seen_at: z.iso.datetime(),
});

const Export = z.object({
  end_user: EndUser,
  conversations: z.array(z.record(z.string(), z.unknown())),
  exported_at: z.iso.datetime(),
});

function actor(c: Context<AppEnv>): DataActor {
  return { principal: c.get('principal'), ip: c.req.header('cf-connecting-ip'), requestId: c.get('requestId') };
}

function endUserId(raw: string): string {
  if (!isUuid(raw)) throw new AppError('not_found', 'End user not found');
  return raw.toLowerCase();
}

export const endUsers = new Hono<AppEnv>()
  .get(
    '/projects/:id/end-users',
    describe({
      summary: 'End users of the project, newest first (filter by external_id)',
      tags,
      responses: { 200: { description: 'A page of end users', schema: pageSchema(EndUser) } },
    }),
    access(rule),
    validate('param', z.object({ id: z.string().max(100) })),
    validate('query', PageQuery.extend({ external_id: z.string().min(1).max(256).optional() })),
    async (c) => {
      const { external_id, limit, cursor } = c.req.valid('query');
      return c.json(
        await listEndUsers(c.get('sql')(), c.get('projectId') ?? '', { externalId: external_id, limit, cursor }),
      );
    },
  )
  .get(
    '/projects/:id/end-users/:end_user_id/export',
    describe({
      summary: 'Export everything held about an end user (conversations, messages, tickets); audited',
      tags,
      responses: { 200: { description: 'The export', schema: Export } },
    }),
    access(rule),
    validate('param', Params),
    async (c) => {
      const id = endUserId(c.req.valid('param').end_user_id);
      return c.json(await exportEndUser(c.get('sql')(), c.get('projectId') ?? '', id, actor(c)));
    },
  )
  .delete(
    '/projects/:id/end-users/:end_user_id',
    describe({
      summary: 'Erase an end user and their conversations, messages and tickets; audited',
      tags,
      responses: { 204: { description: 'Erased' } },
    }),
    access(rule),
    validate('param', Params),
    async (c) => {
      const id = endUserId(c.req.valid('param').end_user_id);
      await eraseEndUser(c.get('sql')(), c.get('projectId') ?? '', id, actor(c));
      return c.body(null, 204);
    },
  );
