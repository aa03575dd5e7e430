/**
 * Members of a project (owner JWTs): any member lists them; owners and admins add and change
 * them; anyone may leave. Who may do what to whom is in ../projects/member-rules.ts.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { access, ownerActor } from '../auth/access';
import type { AppEnv } from '../env';
import { describe, ErrorEnvelopeSchema } from '../http/openapi';
import { validate } from '../http/validate';
import { PageQuery, pageSchema } from '../pagination';
import { addMember, changeMemberRole, listMembers, removeMember } from '../projects/members';
import { ProjectParams, Role } from '../projects/schemas';

const tags = ['members'];
const anyMember = { principals: ['owner' as const], project: 'id' };
const managers = { ...anyMember, roles: ['owner' as const, 'admin' as const] };

const lastOwner = {
  description: 'It would leave the project without an owner (conflict)',
  schema: ErrorEnvelopeSchema,
};

const MemberParams = ProjectParams.extend({ user_id: z.string().max(100) });
const AddMember = z
  .object({
    user_id: z.uuid().meta({ description: 'The Supabase Auth user id of the new member' }),
    role: Role.meta({ description: 'Admins may add admins and agents; only owners add owners' }),
  })
  .strict();
const ChangeMember = z.object({ role: Role }).strict();
const Member = z.object({ user_id: z.uuid(), role: Role, created_at: z.iso.datetime() }).meta({ id: 'Member' });

export const members = new Hono<AppEnv>()
  .get(
    '/projects/:id/members',
    describe({
      summary: 'Members of the project, newest first (any member)',
      tags,
      responses: { 200: { description: 'A page of members', schema: pageSchema(Member) } },
    }),
    access(anyMember),
    validate('param', ProjectParams),
    validate('query', PageQuery),
    async (c) => c.json(await listMembers(c.get('sql')(), c.get('projectId') ?? '', c.req.valid('query'))),
  )
  .post(
    '/projects/:id/members',
    describe({
      summary: 'Add a member (owners; admins add admins and agents)',
      tags,
      responses: {
        201: { description: 'Added', schema: Member },
        409: { description: 'Already a member (conflict)', schema: ErrorEnvelopeSchema },
      },
    }),
    access(managers),
    validate('param', ProjectParams),
    validate('json', AddMember),
    async (c) =>
      c.json(await addMember(c.get('sql')(), ownerActor(c), c.get('projectId') ?? '', c.req.valid('json')), 201),
  )
  .patch(
    '/projects/:id/members/:user_id',
    describe({
      summary: "Change a member's role (owners: anyone; admins: agents, never into owners)",
      tags,
      responses: {
        200: { description: 'The member', schema: Member },
        409: lastOwner,
      },
    }),
    access(managers),
    validate('param', MemberParams),
    validate('json', ChangeMember),
    async (c) =>
      c.json(
        await changeMemberRole(
          c.get('sql')(),
          ownerActor(c),
          c.get('projectId') ?? '',
          c.req.valid('param').user_id,
          c.req.valid('json').role,
        ),
      ),
  )
  .delete(
    '/projects/:id/members/:user_id',
    describe({
      summary: 'Remove a member (owners: anyone; admins: agents; anyone may leave)',
      tags,
      responses: {
        204: { description: 'Removed' },
        409: lastOwner,
      },
    }),
    access(anyMember),
    validate('param', MemberParams),
    async (c) => {
      await removeMember(c.get('sql')(), ownerActor(c), c.get('projectId') ?? '', c.req.valid('param').user_id);
      return c.body(null, 204);
    },
  );
