/**
 * The project's people at work (owner, admin, agent): tickets — conversations handed to a
 * person — and every conversation of the project with its messages. Another project's ticket
 * or conversation ids answer 404; API keys and end-user sessions are refused (403).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { access, ownerActor } from '../auth/access';
import { listProjectConversations } from '../chat/inbox';
import { ConversationSchema, MAX_MESSAGE_CHARS, MessageSchema } from '../chat/schemas';
import { findConversation, listMessages, type ConversationRow, type MessageRow } from '../chat/store';
import { agentReply, getTicket, listTickets, updateTicket, type TicketRow } from '../chat/tickets';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { describe } from '../http/openapi';
import { validate } from '../http/validate';
import { isUuid } from '../ids';
import { PageQuery, pageSchema } from '../pagination';

const tags = ['tickets'];
const people = {
  principals: ['owner' as const],
  roles: ['owner' as const, 'admin' as const, 'agent' as const],
  project: 'id',
};

const TicketStatus = z.enum(['open', 'assigned', 'resolved']);
const Priority = z.enum(['low', 'normal', 'high', 'urgent']);
const Params = z.object({ id: z.string().max(100) });
const TicketParams = Params.extend({ ticket_id: z.string().max(100) });
const ConversationParams = Params.extend({ conversation_id: z.string().max(100) });

const Ticket = z.object({
  id: z.uuid(),
  conversation_id: z.uuid(),
  status: TicketStatus,
  priority: Priority,
  reason: z.string().meta({ description: 'Why the conversation was handed over' }),
  assignee_id: z.uuid().nullable().meta({ description: 'The project member who has it' }),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  resolved_at: z.iso.datetime().nullable(),
});
const InboxConversation = ConversationSchema.extend({ end_user_id: z.uuid(), updated_at: z.iso.datetime() });
const InboxMessage = MessageSchema.extend({
  route: z.string().nullable(),
  model: z.string().nullable(),
  degraded: z.boolean(),
  cached: z.boolean(),
  author_id: z.uuid().nullable().meta({ description: 'The project member who wrote an agent message' }),
  feedback_comment: z.string().nullable(),
});
const TicketDetail = Ticket.extend({ conversation: InboxConversation, messages: z.array(InboxMessage) });

const TicketQuery = PageQuery.extend({ status: TicketStatus.optional(), priority: Priority.optional() });
const TicketPatch = z
  .object({
    status: TicketStatus.optional(),
    priority: Priority.optional(),
    assignee_id: z.uuid().nullable().optional().meta({ description: 'A member of the project; null unassigns' }),
  })
  .strict()
  .refine((p) => Object.keys(p).length > 0, { message: 'change at least one of status, priority, assignee_id' });
const Reply = z.object({ content: z.string().trim().min(1).max(MAX_MESSAGE_CHARS) }).strict();

// A date is a whole UTC day: `from=2026-01-01&to=2026-01-31` covers all of January.
const Instant = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
const startOf = (v: string): Date => new Date(v.length === 10 ? `${v}T00:00:00Z` : v);
const endOf = (v: string): Date => new Date(startOf(v).getTime() + (v.length === 10 ? 86_400_000 : 1));
const ConversationQuery = PageQuery.extend({
  status: z.enum(['active', 'handoff', 'closed']).optional(),
  from: Instant.optional().meta({ description: 'Created at or after (ISO date or date-time)' }),
  to: Instant.optional().meta({ description: 'Created at or before; a date includes its whole (UTC) day' }),
  end_user_id: z.uuid().optional(),
}).refine((q) => !q.from || !q.to || startOf(q.from) < endOf(q.to), {
  path: ['to'],
  message: 'must not be before from',
});

const ticketNotFound = () => new AppError('not_found', 'Ticket not found');
const conversationNotFound = () => new AppError('not_found', 'Conversation not found');

const conversationView = (c: ConversationRow) => ({
  id: c.id,
  end_user_id: c.end_user_id,
  status: c.status,
  title: c.title,
  message_count: c.message_count,
  created_at: c.created_at,
  updated_at: c.updated_at,
  last_message_at: c.last_message_at,
});

const messageView = (m: MessageRow) => ({
  id: m.id,
  seq: m.seq,
  role: m.role,
  content: m.content,
  citations: m.citations,
  grounding: m.grounding,
  route: m.route,
  model: m.model,
  degraded: m.degraded,
  cached: m.cached,
  author_id: m.author_id,
  feedback_rating: m.feedback_rating,
  feedback_comment: m.feedback_comment,
  created_at: m.created_at,
});

const ticketView = (t: TicketRow) => ({
  id: t.id,
  conversation_id: t.conversation_id,
  status: t.status,
  priority: t.priority,
  reason: t.reason,
  assignee_id: t.assignee_id,
  created_at: t.created_at,
  updated_at: t.updated_at,
  resolved_at: t.resolved_at,
});

export const tickets = new Hono<AppEnv>()
  .get(
    '/projects/:id/tickets',
    describe({
      summary: 'Tickets of the project, newest first',
      tags,
      responses: { 200: { description: 'A page of tickets', schema: pageSchema(Ticket) } },
    }),
    access(people),
    validate('param', Params),
    validate('query', TicketQuery),
    async (c) => {
      const result = await listTickets(c.get('sql')(), c.get('projectId') ?? '', c.req.valid('query'));
      return c.json({ data: result.data.map(ticketView), next_cursor: result.next_cursor });
    },
  )
  .get(
    '/projects/:id/tickets/:ticket_id',
    describe({
      summary: "A ticket with its conversation's messages",
      tags,
      responses: { 200: { description: 'The ticket', schema: TicketDetail } },
    }),
    access(people),
    validate('param', TicketParams),
    async (c) => {
      const sql = c.get('sql')();
      const projectId = c.get('projectId') ?? '';
      const ticket = await getTicket(sql, projectId, c.req.valid('param').ticket_id);
      const conversation = ticket && (await findConversation(sql, projectId, ticket.conversation_id));
      if (!ticket || !conversation) throw ticketNotFound();
      const messages = await listMessages(sql, conversation.id);
      return c.json({
        ...ticketView(ticket),
        conversation: conversationView(conversation),
        messages: messages.map(messageView),
      });
    },
  )
  .patch(
    '/projects/:id/tickets/:ticket_id',
    describe({
      summary: 'Change status, priority or assignee',
      description:
        'Resolving returns the conversation to the bot. An assignee that is not a member of the project is a 400 ' +
        'validation_failed on assignee_id.',
      tags,
      responses: { 200: { description: 'The changed ticket', schema: Ticket } },
    }),
    access(people),
    validate('param', TicketParams),
    validate('json', TicketPatch),
    async (c) => {
      const { ticket_id } = c.req.valid('param');
      const ticket = await updateTicket(c.get('sql')(), c.get('projectId') ?? '', ticket_id, c.req.valid('json'));
      return c.json(ticketView(ticket));
    },
  )
  .post(
    '/projects/:id/tickets/:ticket_id/messages',
    describe({
      summary: "Reply in the ticket's conversation as a person",
      description: 'Stored with role agent; an open ticket becomes assigned (to you, if it had no assignee).',
      tags,
      responses: { 201: { description: 'The stored message', schema: InboxMessage } },
    }),
    access(people),
    validate('param', TicketParams),
    validate('json', Reply),
    async (c) => {
      const { message } = await agentReply(c.get('sql')(), {
        projectId: c.get('projectId') ?? '',
        ticketId: c.req.valid('param').ticket_id,
        authorId: ownerActor(c).principal.userId,
        content: c.req.valid('json').content,
      });
      return c.json(messageView(message), 201);
    },
  )
  .get(
    '/projects/:id/conversations',
    describe({
      summary: "The project's conversations, newest first",
      tags,
      responses: { 200: { description: 'A page of conversations', schema: pageSchema(InboxConversation) } },
    }),
    access(people),
    validate('param', Params),
    validate('query', ConversationQuery),
    async (c) => {
      const { status, from, to, end_user_id, limit, cursor } = c.req.valid('query');
      return c.json(
        await listProjectConversations(c.get('sql')(), c.get('projectId') ?? '', {
          status,
          createdFrom: from === undefined ? undefined : startOf(from),
          createdBefore: to === undefined ? undefined : endOf(to),
          endUserId: end_user_id,
          limit,
          cursor,
        }),
      );
    },
  )
  .get(
    '/projects/:id/conversations/:conversation_id',
    describe({
      summary: 'A conversation with all its messages (including route, model and agent authors)',
      tags,
      responses: {
        200: { description: 'The conversation', schema: InboxConversation.extend({ messages: z.array(InboxMessage) }) },
      },
    }),
    access(people),
    validate('param', ConversationParams),
    async (c) => {
      const { conversation_id } = c.req.valid('param');
      const sql = c.get('sql')();
      const conversation = isUuid(conversation_id)
        ? await findConversation(sql, c.get('projectId') ?? '', conversation_id)
        : undefined;
      if (!conversation) throw conversationNotFound();
      const messages = await listMessages(sql, conversation.id);
      return c.json({ ...conversationView(conversation), messages: messages.map(messageView) });
    },
  );
