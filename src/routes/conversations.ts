/**
 * An end user's own conversations: list, read with messages and citations, delete, and rate an
 * answer. Callers: an end-user session token, or a secret key with `user_id`.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { access } from '../auth/access';
import { callerEndUser } from '../chat/caller';
import { ConversationSchema, Feedback, MessageSchema } from '../chat/schemas';
import { findConversation, listMessages } from '../chat/store';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { describe } from '../http/openapi';
import { validate } from '../http/validate';
import { isUuid } from '../ids';
import { decodeCursor, page, PageQuery, pageSchema } from '../pagination';

const tags = ['conversations'];
const chatters = { principals: ['session' as const, 'secret_key' as const] };
const UserQuery = z.object({ user_id: z.string().min(1).max(256).optional() });
const Params = z.object({ id: z.string().max(100) });
const FeedbackParams = Params.extend({ message_id: z.string().max(100) });

const notFound = () => new AppError('not_found', 'Conversation not found');

async function ownConversation(
  c: Parameters<typeof callerEndUser>[0],
  conversationId: string,
  userId: string | undefined,
) {
  if (!isUuid(conversationId)) throw notFound();
  const endUserId = await callerEndUser(c, userId);
  const conversation = await findConversation(c.get('sql')(), c.get('projectId') ?? '', conversationId, endUserId);
  if (!conversation) throw notFound();
  return conversation;
}

export const conversations = new Hono<AppEnv>()
  .get(
    '/conversations',
    describe({
      summary: "The caller's conversations, newest first",
      tags,
      responses: { 200: { description: 'A page of conversations', schema: pageSchema(ConversationSchema) } },
    }),
    access(chatters),
    validate('query', PageQuery.extend(UserQuery.shape)),
    async (c) => {
      const { limit, cursor: raw, user_id } = c.req.valid('query');
      const endUserId = await callerEndUser(c, user_id);
      const cursor = decodeCursor(raw);
      const sql = c.get('sql')();
      const rows = await sql<{ id: string; created_at: Date }[]>`
        select id, status, title, message_count, created_at, last_message_at from conversations
        where project_id = ${c.get('projectId') ?? ''} and end_user_id = ${endUserId}
          ${cursor ? sql`and (created_at, id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
        order by created_at desc, id desc limit ${limit + 1}`;
      return c.json(page(rows, limit));
    },
  )
  .get(
    '/conversations/:id',
    describe({
      summary: 'A conversation with its messages and citations',
      tags,
      responses: {
        200: {
          description: 'The conversation',
          schema: ConversationSchema.extend({ messages: z.array(MessageSchema) }),
        },
      },
    }),
    access(chatters),
    validate('param', Params),
    validate('query', UserQuery),
    async (c) => {
      const conversation = await ownConversation(c, c.req.valid('param').id, c.req.valid('query').user_id);
      const messages = await listMessages(c.get('sql')(), conversation.id);
      return c.json({
        id: conversation.id,
        status: conversation.status,
        title: conversation.title,
        message_count: conversation.message_count,
        created_at: conversation.created_at,
        last_message_at: conversation.last_message_at,
        messages: messages.map((m) => ({
          id: m.id,
          seq: m.seq,
          role: m.role,
          content: m.content,
          citations: m.citations,
          grounding: m.grounding,
          feedback_rating: m.feedback_rating,
          created_at: m.created_at,
        })),
      });
    },
  )
  .delete(
    '/conversations/:id',
    describe({
      summary: 'Delete a conversation and its messages',
      tags,
      responses: { 204: { description: 'Deleted' } },
    }),
    access(chatters),
    validate('param', Params),
    validate('query', UserQuery),
    async (c) => {
      const conversation = await ownConversation(c, c.req.valid('param').id, c.req.valid('query').user_id);
      await c.get('sql')()`delete from conversations where id = ${conversation.id}`;
      return c.body(null, 204);
    },
  )
  .post(
    '/conversations/:id/messages/:message_id/feedback',
    describe({
      summary: 'Rate an answer (up or down, with an optional comment)',
      tags,
      responses: {
        200: { description: 'Recorded', schema: z.object({ message_id: z.uuid(), rating: z.enum(['up', 'down']) }) },
      },
    }),
    access(chatters),
    validate('param', FeedbackParams),
    validate('query', UserQuery),
    validate('json', Feedback),
    async (c) => {
      const { id, message_id } = c.req.valid('param');
      const conversation = await ownConversation(c, id, c.req.valid('query').user_id);
      if (!isUuid(message_id)) throw new AppError('not_found', 'Message not found');
      const { rating, comment } = c.req.valid('json');
      const updated = await c.get('sql')()`
        update messages set feedback_rating = ${rating}, feedback_comment = ${comment ?? null}
        where id = ${message_id} and conversation_id = ${conversation.id} and role = 'assistant' returning id`;
      if (updated.length === 0) throw new AppError('not_found', 'No answer with this id in the conversation');
      return c.json({ message_id, rating });
    },
  );
