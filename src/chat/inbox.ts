/**
 * The project's conversations as its people see them (owners, admins, agents): every end
 * user's conversations, filtered by status, creation time and end user. The end users' own
 * view of their conversations is routes/conversations.ts.
 */
import type { Sql } from 'postgres';
import { decodeCursor, page } from '../pagination';
import type { ConversationRow } from './store';

export interface InboxQuery {
  status?: ConversationRow['status'];
  /** Created at or after. */
  createdFrom?: Date;
  /** Created strictly before. */
  createdBefore?: Date;
  endUserId?: string;
  limit: number;
  cursor?: string;
}

export type InboxConversation = Pick<
  ConversationRow,
  'id' | 'end_user_id' | 'status' | 'title' | 'message_count' | 'created_at' | 'updated_at' | 'last_message_at'
>;

/** A page of the project's conversations, newest first (cursor pagination on created_at, id). */
export async function listProjectConversations(sql: Sql, projectId: string, q: InboxQuery) {
  const cursor = decodeCursor(q.cursor);
  const rows = await sql<InboxConversation[]>`
    select id, end_user_id, status, title, message_count, created_at, updated_at, last_message_at
    from conversations
    where project_id = ${projectId}
      ${q.status ? sql`and status = ${q.status}` : sql``}
      ${q.createdFrom ? sql`and created_at >= ${q.createdFrom}` : sql``}
      ${q.createdBefore ? sql`and created_at < ${q.createdBefore}` : sql``}
      ${q.endUserId ? sql`and end_user_id = ${q.endUserId}` : sql``}
      ${cursor ? sql`and (created_at, id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
    order by created_at desc, id desc
    limit ${q.limit + 1}`;
  return page(rows, q.limit);
}
