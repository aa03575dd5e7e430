/**
 * Projects (owner): `/api/v1/projects` and `/api/v1/projects/:id`, the rotation of their identity
 * secret, and the audit log.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { access, ownerActor } from '../auth/access';
import type { AppEnv } from '../env';
import { describe } from '../http/openapi';
import { validate } from '../http/validate';
import { decodeCursor, page, PageQuery, pageSchema } from '../pagination';
import { CreateProject, Project, ProjectParams, UpdateProject } from '../projects/schemas';
import { deletePrefix } from '../sources/store';
import { log } from '../http/logger';
import { createProject, deleteProject, getProject, listProjects, updateProject } from '../projects/service';
import { rotateIdentitySecret } from '../projects/identity-secret';

const tags = ['projects'];

const AuditEntry = z.object({
  id: z.uuid(),
  actor_type: z.enum(['owner', 'secret_key', 'system']),
  actor_id: z.string(),
  action: z.string(),
  target_type: z.string(),
  target_id: z.string().nullable(),
  ip: z.string().nullable(),
  request_id: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  created_at: z.iso.datetime(),
});

const AuditQuery = PageQuery.extend({ action: z.string().max(50).optional() });

const RotateIdentitySecret = z
  .object({
    grace_hours: z.number().int().min(0).max(168).default(24).meta({
      description:
        'How long the previous secret still verifies user_hash (default 24, at most 168); 0 revokes it at once',
    }),
  })
  .strict();
const RotatedIdentitySecret = z.object({
  identity_secret: z.string().meta({ description: 'The new secret: sign user_hash with it from now on' }),
  previous_identity_secret_expires_at: z.iso.datetime().nullable().meta({
    description: 'Until when the previous secret still verifies; null when it stopped at once',
  }),
});

export const projects = new Hono<AppEnv>()
  .post(
    '/projects',
    describe({
      summary: 'Create a project (you become its owner)',
      tags,
      responses: { 201: { description: 'Created', schema: Project } },
    }),
    access({ principals: ['owner'] }),
    validate('json', CreateProject),
    async (c) => {
      const project = await createProject(c.get('sql')(), ownerActor(c), c.req.valid('json'));
      c.set('projectId', project.id);
      return c.json(project, 201);
    },
  )
  .get(
    '/projects',
    describe({
      summary: 'Projects you are a member of',
      tags,
      responses: { 200: { description: 'A page of projects', schema: pageSchema(Project) } },
    }),
    access({ principals: ['owner'] }),
    validate('query', PageQuery),
    async (c) => c.json(await listProjects(c.get('sql')(), ownerActor(c).principal.userId, c.req.valid('query'))),
  )
  .get(
    '/projects/:id',
    describe({ summary: 'A project', tags, responses: { 200: { description: 'The project', schema: Project } } }),
    access({ principals: ['owner'], roles: ['owner', 'admin'], project: 'id' }),
    validate('param', ProjectParams),
    async (c) => c.json(await getProject(c.get('sql')(), ownerActor(c).principal.userId, c.get('projectId') ?? '')),
  )
  .patch(
    '/projects/:id',
    describe({
      summary: 'Change name, allowed origins or settings',
      tags,
      responses: { 200: { description: 'The changed project', schema: Project } },
    }),
    access({ principals: ['owner'], roles: ['owner', 'admin'], project: 'id' }),
    validate('param', ProjectParams),
    validate('json', UpdateProject),
    async (c) =>
      c.json(await updateProject(c.get('sql')(), ownerActor(c), c.get('projectId') ?? '', c.req.valid('json'))),
  )
  .delete(
    '/projects/:id',
    describe({
      summary: 'Delete a project and everything it owns',
      tags,
      responses: { 204: { description: 'Deleted' } },
    }),
    access({ principals: ['owner'], roles: ['owner'], project: 'id' }),
    validate('param', ProjectParams),
    async (c) => {
      const projectId = c.get('projectId') ?? '';
      await deleteProject(c.get('sql')(), ownerActor(c), projectId);
      // Postgres rows went by cascade; the uploaded files go after the response.
      c.executionCtx.waitUntil(
        deletePrefix(c.env.UPLOADS, `projects/${projectId}/`).catch((err: unknown) =>
          log('error', 'uploads of a deleted project were not removed', {
            project_id: projectId,
            error: err instanceof Error ? err.message : String(err),
          }),
        ),
      );
      return c.body(null, 204);
    },
  )
  .post(
    '/projects/:id/identity-secret/rotate',
    describe({
      summary: 'Replace the identity secret; the previous one verifies for a grace period',
      tags,
      responses: { 200: { description: 'The new secret', schema: RotatedIdentitySecret } },
    }),
    access({ principals: ['owner'], roles: ['owner', 'admin'], project: 'id' }),
    validate('param', ProjectParams),
    validate('json', RotateIdentitySecret),
    async (c) =>
      c.json(
        await rotateIdentitySecret(
          c.get('sql')(),
          ownerActor(c),
          c.get('projectId') ?? '',
          c.req.valid('json').grace_hours,
        ),
      ),
  )
  .get(
    '/projects/:id/audit',
    describe({
      summary: 'Audit log of owner actions, newest first',
      tags,
      responses: { 200: { description: 'A page of audit entries', schema: pageSchema(AuditEntry) } },
    }),
    access({ principals: ['owner'], roles: ['owner', 'admin'], project: 'id' }),
    validate('param', ProjectParams),
    validate('query', AuditQuery),
    async (c) => {
      const { limit, cursor: raw, action } = c.req.valid('query');
      const cursor = decodeCursor(raw);
      const sql = c.get('sql')();
      const rows = await sql<(z.output<typeof AuditEntry> & { created_at: Date })[]>`
        select id, actor_type, actor_id, action, target_type, target_id, ip, request_id, metadata, created_at
        from audit_log
        where project_id = ${c.get('projectId') ?? ''}
          ${action ? sql`and action = ${action}` : sql``}
          ${cursor ? sql`and (created_at, id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
        order by created_at desc, id desc
        limit ${limit + 1}`;
      return c.json(page(rows, limit));
    },
  );
