/**
 * Conversations and messages in Postgres. Messages are numbered per conversation (`seq`);
 * appending takes the next number in the same statement that inserts, so concurrent appends to
 * one conversation cannot collide silently (the unique (conversation_id, seq) would refuse).
 */
import type { Sql, TransactionSql } from 'postgres';
import type { Citation, Route, Usage } from './types';

type Db = Sql | TransactionSql;

export interface ConversationRow {
  id: string;
  project_id: string;
  end_user_id: string;
  status: 'active' | 'handoff' | 'closed';
  title: string | null;
  summary: string | null;
  summarized_through: number;
  ungrounded_streak: number;
  message_count: number;
  created_at: Date;
  updated_at: Date;
  last_message_at: Date;
}

export interface MessageRow {
  id: string;
  conversation_id: string;
  seq: number;
  role: 'user' | 'assistant' | 'agent' | 'system';
  content: string;
  citations: Citation[];
  grounding: number | null;
  route: Route | null;
  model: string | null;
  degraded: boolean;
  cached: boolean;
  usage: Usage | null;
  latency_ms: number | null;
  author_id: string | null;
  feedback_rating: 'up' | 'down' | null;
  feedback_comment: string | null;
  created_at: Date;
}

export const MESSAGE_COLUMNS = `id, conversation_id, seq, role, content, citations, grounding, route, model, degraded, cached,
  usage, latency_ms, author_id, feedback_rating, feedback_comment, created_at`;

export async function createConversation(
  sql: Db,
  projectId: string,
  endUserId: string,
  title: string,
): Promise<ConversationRow> {
  const [row] = await sql<ConversationRow[]>`
    insert into conversations (project_id, end_user_id, title) values (${projectId}, ${endUserId}, ${title.slice(0, 120)})
    returning *`;
  if (!row) throw new Error('insert returned no row');
  return row;
}

/** The conversation if it belongs to this project (and end user, when given); undefined otherwise. */
export async function findConversation(
  sql: Db,
  projectId: string,
  conversationId: string,
  endUserId?: string,
): Promise<ConversationRow | undefined> {
  const [row] = await sql<ConversationRow[]>`
    select * from conversations
    where id = ${conversationId} and project_id = ${projectId}
      ${endUserId ? sql`and end_user_id = ${endUserId}` : sql``}`;
  return row;
}

export interface NewMessage {
  /** A pre-chosen id (e.g. announced to a streaming client before the row exists). */
  id?: string;
  role: MessageRow['role'];
  content: string;
  citations?: Citation[];
  grounding?: number | null;
  route?: Route | null;
  model?: string | null;
  degraded?: boolean;
  cached?: boolean;
  usage?: Usage | null;
  latencyMs?: number | null;
  authorId?: string | null;
}

export async function appendMessage(
  sql: Db,
  projectId: string,
  conversationId: string,
  m: NewMessage,
): Promise<MessageRow> {
  const [row] = await sql<MessageRow[]>`
    with next as (
      update conversations set message_count = message_count + 1, last_message_at = now(), updated_at = now()
      where id = ${conversationId} and project_id = ${projectId}
      returning message_count
    )
    insert into messages (id, project_id, conversation_id, seq, role, content, citations, grounding, route, model, degraded, cached, usage, latency_ms, author_id)
    select coalesce(${m.id ?? null}::uuid, gen_random_uuid()), ${projectId}, ${conversationId}, next.message_count, ${m.role}, ${m.content}, ${sql.json(toJson(m.citations ?? []))},
      ${m.grounding ?? null}, ${m.route ?? null}, ${m.model ?? null}, ${m.degraded ?? false}, ${m.cached ?? false},
      ${m.usage ? sql.json({ ...m.usage }) : null}, ${m.latencyMs ?? null}, ${m.authorId ?? null}
    from next
    returning ${sql.unsafe(MESSAGE_COLUMNS)}`;
  if (!row) throw new Error(`conversation ${conversationId} not found`);
  return row;
}

export async function listMessages(
  sql: Db,
  conversationId: string,
  opts: { afterSeq?: number; limit?: number } = {},
): Promise<MessageRow[]> {
  return sql<MessageRow[]>`
    select ${sql.unsafe(MESSAGE_COLUMNS)} from messages
    where conversation_id = ${conversationId} and seq > ${opts.afterSeq ?? 0}
    order by seq asc
    limit ${opts.limit ?? 1000}`;
}

export async function setConversationStatus(
  sql: Db,
  conversationId: string,
  status: ConversationRow['status'],
): Promise<void> {
  await sql`update conversations set status = ${status}, updated_at = now() where id = ${conversationId}`;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const toJson = (value: Citation[]): Json => JSON.parse(JSON.stringify(value)) as Json;
