/**
 * An end user's data, for the project's privacy duties: find end users by the id the customer
 * knows them by, export everything Parley holds about one (identity, conversations, messages,
 * tickets), and erase it. Export and erasure are audited; erasure cascades through Postgres
 * (conversations → messages, tickets), so nothing of the person is left behind.
 */
import type { Sql } from 'postgres';
import { recordAudit } from './audit';
import type { Principal } from './auth/principal';
import { AppError } from './errors';
import { decodeCursor, page } from './pagination';

export interface EndUserRow {
  id: string;
  kind: 'anonymous' | 'verified' | 'supabase';
  external_id: string;
  created_at: Date;
  last_seen_at: Date;
}

export interface DataActor {
  principal: Principal;
  ip?: string;
  requestId?: string;
}

const COLUMNS = 'id, kind, external_id, created_at, last_seen_at';

export async function listEndUsers(
  sql: Sql,
  projectId: string,
  q: { externalId?: string; limit: number; cursor?: string },
) {
  const cursor = decodeCursor(q.cursor);
  const rows = await sql<EndUserRow[]>`
    select ${sql.unsafe(COLUMNS)} from end_users
    where project_id = ${projectId}
      ${q.externalId ? sql`and external_id = ${q.externalId}` : sql``}
      ${cursor ? sql`and (created_at, id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
    order by created_at desc, id desc
    limit ${q.limit + 1}`;
  return page(rows, q.limit);
}

async function findEndUser(sql: Sql, projectId: string, endUserId: string): Promise<EndUserRow> {
  const [row] = await sql<EndUserRow[]>`
    select ${sql.unsafe(COLUMNS)} from end_users where project_id = ${projectId} and id = ${endUserId}`;
  if (!row) throw new AppError('not_found', 'End user not found');
  return row;
}

/** Everything held about one end user, as one JSON document. */
export async function exportEndUser(sql: Sql, projectId: string, endUserId: string, actor: DataActor) {
  const endUser = await findEndUser(sql, projectId, endUserId);
  const conversations = await sql<Record<string, unknown>[]>`
    select c.id, c.status, c.title, c.summary, c.created_at, c.last_message_at,
      coalesce((select jsonb_agg(jsonb_build_object(
          'id', m.id, 'seq', m.seq, 'role', m.role, 'content', m.content, 'citations', m.citations,
          'feedback_rating', m.feedback_rating, 'feedback_comment', m.feedback_comment, 'created_at', m.created_at
        ) order by m.seq) from messages m where m.conversation_id = c.id and m.project_id = ${projectId}), '[]') as messages,
      coalesce((select jsonb_agg(jsonb_build_object(
          'id', t.id, 'status', t.status, 'priority', t.priority, 'reason', t.reason, 'created_at', t.created_at
        )) from tickets t where t.conversation_id = c.id and t.project_id = ${projectId}), '[]') as tickets
    from conversations c
    where c.project_id = ${projectId} and c.end_user_id = ${endUserId}
    order by c.created_at asc`;
  await recordAudit(sql, {
    projectId,
    actor: actor.principal,
    action: 'data.exported',
    targetType: 'end_user',
    targetId: endUserId,
    ip: actor.ip,
    requestId: actor.requestId,
    metadata: { conversations: conversations.length },
  });
  return { end_user: endUser, conversations, exported_at: new Date().toISOString() };
}

/** Deletes the end user and, by cascade, their conversations, messages and tickets. */
export async function eraseEndUser(sql: Sql, projectId: string, endUserId: string, actor: DataActor): Promise<void> {
  await sql.begin(async (tx) => {
    const [gone] = await tx<{ conversations: number }[]>`
      with doomed as (
        select count(*)::int as conversations from conversations where project_id = ${projectId} and end_user_id = ${endUserId}
      ), deleted as (
        delete from end_users where project_id = ${projectId} and id = ${endUserId} returning id
      )
      select doomed.conversations from doomed, deleted`;
    if (!gone) throw new AppError('not_found', 'End user not found');
    await recordAudit(tx, {
      projectId,
      actor: actor.principal,
      action: 'data.erased',
      targetType: 'end_user',
      targetId: endUserId,
      ip: actor.ip,
      requestId: actor.requestId,
      metadata: { conversations: gone.conversations },
    });
  });
}
