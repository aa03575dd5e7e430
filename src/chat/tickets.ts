/**
 * Tickets: conversations handed to the project's people. A conversation has at most one
 * unresolved ticket (the partial unique index tickets_open_per_conversation); while it is
 * unresolved the conversation is in 'handoff', and resolving it makes the conversation
 * 'active' again. Lifecycle: open → assigned (to a project member) → resolved.
 */
import type { Sql, TransactionSql } from 'postgres';
import { AppError } from '../errors';
import { isUuid } from '../ids';
import { decodeCursor, page } from '../pagination';
import { appendMessage, type MessageRow } from './store';
import type { Priority } from './types';

type Db = Sql | TransactionSql;

export type TicketStatus = 'open' | 'assigned' | 'resolved';

export interface TicketRow {
  id: string;
  project_id: string;
  conversation_id: string;
  status: TicketStatus;
  priority: Priority;
  reason: string;
  assignee_id: string | null;
  created_at: Date;
  updated_at: Date;
  resolved_at: Date | null;
}

const COLUMNS =
  'id, project_id, conversation_id, status, priority, reason, assignee_id, created_at, updated_at, resolved_at';
/** Priority as a number in SQL, for "raise, never lower". */
const rank = (column: string) => `array_position(array['low', 'normal', 'high', 'urgent'], ${column})`;

const notFound = () => new AppError('not_found', 'Ticket not found');
const invalid = (path: string, message: string) =>
  new AppError('validation_failed', 'Invalid request body', { details: [{ path, message }] });

export interface NewTicket {
  projectId: string;
  conversationId: string;
  /** Why, in words an agent can read (the route decision's reason); stored up to 500 characters. */
  reason: string;
  priority: Priority;
}

/**
 * Hands a conversation to people: opens a ticket and sets the conversation to 'handoff', in
 * one statement. Idempotent: when the conversation already has an unresolved ticket, that
 * ticket is returned (`created: false`), its priority raised — and its reason replaced — if
 * this escalation is more urgent; a priority is never lowered here. Safe under concurrent
 * escalations of one conversation (ON CONFLICT on the partial unique index).
 * Throws not_found when the conversation is not in the project.
 */
export async function openTicket(sql: Db, t: NewTicket): Promise<TicketRow & { created: boolean }> {
  const raises = `${rank('excluded.priority')} > ${rank('tickets.priority')}`;
  const [row] = await sql<(TicketRow & { created: boolean })[]>`
    with handed as (
      update conversations set status = 'handoff', updated_at = now()
      where id = ${t.conversationId} and project_id = ${t.projectId}
      returning id
    )
    insert into tickets (project_id, conversation_id, reason, priority)
    select ${t.projectId}, handed.id, ${t.reason.slice(0, 500)}, ${t.priority} from handed
    on conflict (conversation_id) where status <> 'resolved' do update set
      priority = case when ${sql.unsafe(raises)} then excluded.priority else tickets.priority end,
      reason = case when ${sql.unsafe(raises)} then excluded.reason else tickets.reason end,
      updated_at = now()
    returning ${sql.unsafe(COLUMNS)}, (xmax = 0) as created`;
  if (!row) throw new AppError('not_found', 'Conversation not found');
  return row;
}

export interface TicketQuery {
  status?: TicketStatus;
  priority?: Priority;
  limit: number;
  cursor?: string;
}

/** A page of the project's tickets, newest first. */
export async function listTickets(sql: Sql, projectId: string, query: TicketQuery) {
  const cursor = decodeCursor(query.cursor);
  const rows = await sql<TicketRow[]>`
    select ${sql.unsafe(COLUMNS)} from tickets
    where project_id = ${projectId}
      ${query.status ? sql`and status = ${query.status}` : sql``}
      ${query.priority ? sql`and priority = ${query.priority}` : sql``}
      ${cursor ? sql`and (created_at, id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
    order by created_at desc, id desc
    limit ${query.limit + 1}`;
  return page(rows, query.limit);
}

/** The ticket if it belongs to the project; undefined for unknown, malformed or other projects' ids. */
export async function getTicket(sql: Db, projectId: string, ticketId: string): Promise<TicketRow | undefined> {
  if (!isUuid(ticketId)) return undefined;
  const [row] = await sql<TicketRow[]>`
    select ${sql.unsafe(COLUMNS)} from tickets where id = ${ticketId} and project_id = ${projectId}`;
  return row;
}

async function lockTicket(tx: TransactionSql, projectId: string, ticketId: string): Promise<TicketRow> {
  if (!isUuid(ticketId)) throw notFound();
  const [row] = await tx<TicketRow[]>`
    select ${tx.unsafe(COLUMNS)} from tickets where id = ${ticketId} and project_id = ${projectId} for update`;
  if (!row) throw notFound();
  return row;
}

export interface TicketPatch {
  status?: TicketStatus;
  priority?: Priority;
  /** A member of the project, or null to unassign. */
  assignee_id?: string | null;
}

/**
 * Changes status, priority or assignee. Rules:
 * - the assignee must be a member of the project (any role): otherwise 400 validation_failed
 *   on `assignee_id` — the ticket exists, the value in the body is what is wrong;
 * - assigning without a status moves an open ticket to 'assigned'; unassigning an assigned one
 *   moves it back to 'open'; an explicit 'assigned' needs an assignee;
 * - 'resolved' sets resolved_at and returns a conversation in 'handoff' to 'active';
 *   reopening a resolved ticket hands the conversation back ('handoff'), and is a 409 conflict
 *   when the conversation meanwhile has another unresolved ticket.
 */
export async function updateTicket(
  sql: Sql,
  projectId: string,
  ticketId: string,
  patch: TicketPatch,
): Promise<TicketRow> {
  try {
    return await sql.begin(async (tx) => {
      const current = await lockTicket(tx, projectId, ticketId);
      if (patch.assignee_id) {
        const [member] = await tx`
          select 1 from project_members where project_id = ${projectId} and user_id = ${patch.assignee_id}`;
        if (!member) throw invalid('assignee_id', 'not a member of this project');
      }
      const assignee = patch.assignee_id === undefined ? current.assignee_id : patch.assignee_id;
      let status = patch.status ?? current.status;
      if (patch.status === undefined && patch.assignee_id !== undefined && current.status !== 'resolved') {
        status = assignee ? 'assigned' : 'open';
      }
      if (status === 'assigned' && !assignee) throw invalid('assignee_id', 'an assigned ticket needs an assignee');
      const [row] = await tx<TicketRow[]>`
        update tickets set
          status = ${status},
          priority = ${patch.priority ?? current.priority},
          assignee_id = ${assignee},
          resolved_at = case when ${status} = 'resolved' then coalesce(resolved_at, now()) end,
          updated_at = now()
        where id = ${current.id}
        returning ${tx.unsafe(COLUMNS)}`;
      if (!row) throw notFound();
      if (status === 'resolved' && current.status !== 'resolved') {
        await tx`update conversations set status = 'active', updated_at = now()
                 where id = ${current.conversation_id} and status = 'handoff'`;
      } else if (status !== 'resolved' && current.status === 'resolved') {
        await tx`update conversations set status = 'handoff', updated_at = now()
                 where id = ${current.conversation_id} and status = 'active'`;
      }
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new AppError('conflict', 'This conversation already has an unresolved ticket; resolve that one first');
    }
    throw err;
  }
}

export interface AgentReply {
  projectId: string;
  ticketId: string;
  /** The project member replying (from the owner credential). */
  authorId: string;
  content: string;
}

/**
 * A person's reply in a ticket's conversation, stored as a message with role 'agent'. An open
 * ticket becomes 'assigned' — to the replying agent when it had no assignee. Replying to a
 * resolved ticket is a 409 conflict (reopen it first), so a stale inbox cannot write into a
 * conversation the bot has taken back.
 */
export async function agentReply(sql: Sql, r: AgentReply): Promise<{ message: MessageRow; ticket: TicketRow }> {
  return sql.begin(async (tx) => {
    const ticket = await lockTicket(tx, r.projectId, r.ticketId);
    if (ticket.status === 'resolved') throw new AppError('conflict', 'This ticket is resolved; reopen it to reply');
    const message = await appendMessage(tx, r.projectId, ticket.conversation_id, {
      role: 'agent',
      content: r.content,
      authorId: r.authorId,
    });
    if (ticket.status !== 'open') return { message, ticket };
    const [assigned] = await tx<TicketRow[]>`
      update tickets set status = 'assigned', assignee_id = coalesce(assignee_id, ${r.authorId}), updated_at = now()
      where id = ${ticket.id}
      returning ${tx.unsafe(COLUMNS)}`;
    return { message, ticket: assigned ?? ticket };
  });
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === '23505';
}
