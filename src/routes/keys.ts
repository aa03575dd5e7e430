/** API keys of a project (owner, admin): issue, list, revoke, rotate. */
import { Hono } from 'hono';
import { z } from 'zod';
import { access, ownerActor } from '../auth/access';
import type { AppEnv } from '../env';
import { describe } from '../http/openapi';
import { validate } from '../http/validate';
import { PageQuery, pageSchema } from '../pagination';
import { createKey, listKeys, revokeKey, rotateKey } from '../keys/service';

const tags = ['keys'];
const owners = { principals: ['owner' as const], roles: ['owner' as const, 'admin' as const], project: 'id' };

const KeyType = z.enum(['secret', 'publishable']);
const CreateKey = z.object({ type: KeyType, name: z.string().trim().min(1).max(100).optional() }).strict();
const RotateKey = z
  .object({
    grace_seconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * 3600)
      .default(24 * 3600)
      .meta({ description: 'How long the old key keeps working (default 24 h, at most 30 days)' }),
  })
  .strict();
const Params = z.object({ id: z.string().max(100) });
const KeyParams = Params.extend({ key_id: z.string().max(100) });
const ListQuery = PageQuery.extend({
  include_inactive: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .meta({ description: 'Also list revoked and expired keys' }),
});

const IssuedKey = z.object({
  id: z.uuid(),
  type: KeyType,
  name: z.string().nullable(),
  key: z.string().meta({ description: 'The key itself — shown only in this response' }),
  prefix: z.string(),
  created_at: z.iso.datetime(),
});
const RotatedKey = IssuedKey.extend({ replaces: z.uuid(), old_key_expires_at: z.iso.datetime().nullable() });
const KeySummary = z.object({
  id: z.uuid(),
  type: KeyType,
  name: z.string().nullable(),
  prefix: z.string(),
  created_at: z.iso.datetime(),
  last_used_at: z.iso.datetime().nullable().meta({ description: 'Updated at most once a minute' }),
  expires_at: z.iso.datetime().nullable(),
  revoked_at: z.iso.datetime().nullable(),
});

export const keys = new Hono<AppEnv>()
  .post(
    '/projects/:id/keys',
    describe({
      summary: 'Issue an API key (the key is shown once)',
      tags,
      responses: { 201: { description: 'Issued', schema: IssuedKey } },
    }),
    access(owners),
    validate('param', Params),
    validate('json', CreateKey),
    async (c) => {
      const { type, name } = c.req.valid('json');
      return c.json(await createKey(c.get('sql')(), ownerActor(c), c.get('projectId') ?? '', type, name ?? null), 201);
    },
  )
  .get(
    '/projects/:id/keys',
    describe({
      summary: 'List keys (never the secrets)',
      tags,
      responses: { 200: { description: 'A page of keys', schema: pageSchema(KeySummary) } },
    }),
    access(owners),
    validate('param', Params),
    validate('query', ListQuery),
    async (c) => c.json(await listKeys(c.get('sql')(), c.get('projectId') ?? '', c.req.valid('query'))),
  )
  .delete(
    '/projects/:id/keys/:key_id',
    describe({ summary: 'Revoke a key at once', tags, responses: { 204: { description: 'Revoked' } } }),
    access(owners),
    validate('param', KeyParams),
    async (c) => {
      await revokeKey(c.get('sql')(), ownerActor(c), c.get('projectId') ?? '', c.req.valid('param').key_id);
      return c.body(null, 204);
    },
  )
  .post(
    '/projects/:id/keys/:key_id/rotate',
    describe({
      summary: 'Issue a replacement; the old key works for a grace period',
      tags,
      responses: { 201: { description: 'Replacement issued', schema: RotatedKey } },
    }),
    access(owners),
    validate('param', KeyParams),
    validate('json', RotateKey),
    async (c) => {
      const { grace_seconds } = c.req.valid('json');
      return c.json(
        await rotateKey(
          c.get('sql')(),
          ownerActor(c),
          c.get('projectId') ?? '',
          c.req.valid('param').key_id,
          grace_seconds,
        ),
        201,
      );
    },
  );
