/**
 * What the knowledge lacks: the questions whose answers were poorly grounded (no passage found,
 * or a grounding score under the project's threshold), newest first, each with the answer it
 * got. Owners read this to decide which documents to add. Canned replies and escalations are
 * not questions the knowledge could have answered, so only `question` turns count.
 */
import type { Sql } from 'postgres';
import { decodeCursor, page } from '../pagination';

export interface LowGroundingQuery {
  /** Answers grounded strictly below this count. */
  below: number;
  limit: number;
  cursor?: string;
}

export interface LowGroundingRow {
  id: string;
  conversation_id: string;
  question: string;
  answer: string;
  grounding: number;
  citations: number;
  degraded: boolean;
  feedback_rating: 'up' | 'down' | null;
  created_at: Date;
}

/** A page of poorly grounded answers of the project, with the user message each one answered. */
export async function listLowGrounding(sql: Sql, projectId: string, q: LowGroundingQuery) {
  const cursor = decodeCursor(q.cursor);
  const rows = await sql<LowGroundingRow[]>`
    select a.id, a.conversation_id, u.content as question, left(a.content, 500) as answer,
      a.grounding, jsonb_array_length(a.citations) as citations, a.degraded, a.feedback_rating, a.created_at
    from messages a
    join messages u on u.conversation_id = a.conversation_id and u.seq = a.seq - 1 and u.project_id = a.project_id
    where a.project_id = ${projectId}
      and a.role = 'assistant' and a.route = 'question' and u.role = 'user'
      and a.grounding < ${q.below}
      ${cursor ? sql`and (a.created_at, a.id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
    order by a.created_at desc, a.id desc
    limit ${q.limit + 1}`;
  return page(rows, q.limit);
}
