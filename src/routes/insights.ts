/**
 * What the project's knowledge lacks (owner, admin): `GET /api/v1/projects/:id/insights/low-grounding`
 * lists the questions answered with little or no support from the knowledge, newest first.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { access } from '../auth/access';
import { listLowGrounding } from '../chat/insights';
import { DEFAULT_GROUNDING_THRESHOLD } from '../chat/turn';
import type { AppEnv } from '../env';
import { describe } from '../http/openapi';
import { validate } from '../http/validate';
import { PageQuery, pageSchema } from '../pagination';

const LowGroundingQuery = PageQuery.extend({
  below: z.coerce.number().min(0).max(1).optional().meta({
    description: "Answers grounded strictly below this score (default: the project's grounding_threshold, else 0.25)",
  }),
});

const LowGroundingAnswer = z.object({
  id: z.uuid().meta({ description: 'The assistant message' }),
  conversation_id: z.uuid(),
  question: z.string().meta({ description: 'The user message it answered' }),
  answer: z.string().meta({ description: 'The answer, first 500 characters' }),
  grounding: z.number(),
  citations: z.number().int().meta({ description: 'Passages cited' }),
  degraded: z.boolean(),
  feedback_rating: z.enum(['up', 'down']).nullable(),
  created_at: z.iso.datetime(),
});

export const insights = new Hono<AppEnv>().get(
  '/projects/:id/insights/low-grounding',
  describe({
    summary: 'Questions the knowledge could not answer well (low grounding), newest first',
    tags: ['insights'],
    responses: { 200: { description: 'A page of poorly grounded answers', schema: pageSchema(LowGroundingAnswer) } },
  }),
  access({ principals: ['owner'], roles: ['owner', 'admin'], project: 'id' }),
  validate('param', z.object({ id: z.string().max(100) })),
  validate('query', LowGroundingQuery),
  async (c) => {
    const { below, limit, cursor } = c.req.valid('query');
    const threshold = below ?? c.get('project')?.settings.grounding_threshold ?? DEFAULT_GROUNDING_THRESHOLD;
    return c.json(
      await listLowGrounding(c.get('sql')(), c.get('projectId') ?? '', { below: threshold, limit, cursor }),
    );
  },
);
