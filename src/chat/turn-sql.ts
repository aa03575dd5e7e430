/**
 * The two statements that bracket a chat turn, each one round trip:
 *
 * - `beginTurn`: the daily budget check, the conversation (continued, or created when new), the
 *   user's message stored, and the conversation's last messages (history window). Nothing is
 *   written when the budget is spent or the conversation is unknown or closed.
 * - `storeAnswer`: the assistant's message, the conversation's ungrounded streak and the
 *   project's daily usage counters.
 *
 * Every statement is scoped by project, and a continued conversation by its end user as well.
 */
import type { Sql } from 'postgres';
import { AppError } from '../errors';
import { MESSAGE_COLUMNS, type ConversationRow, type MessageRow, type NewMessage } from './store';
import type { Citation, Usage } from './types';

export interface BeginTurnInput {
  projectId: string;
  endUserId: string;
  /** Continue this conversation; a new one is created when absent. */
  conversationId?: string;
  message: string;
  /** Daily token budget; absent or 0 means none. */
  budget?: number;
  /** How many of the conversation's latest messages to return. */
  recentLimit: number;
}

export type RecentMessage = Pick<MessageRow, 'role' | 'content' | 'seq'>;

export interface BegunTurn {
  conversation: ConversationRow;
  userMessage: { id: string; seq: number };
  /** The conversation's latest messages before this one, oldest first. */
  recent: RecentMessage[];
}

interface BeginRow extends Partial<ConversationRow> {
  allowed: boolean;
  prior_status: ConversationRow['status'] | null;
  message_id: string | null;
  message_seq: number | null;
  recent: RecentMessage[];
}

export async function beginTurn(sql: Sql, input: BeginTurnInput): Promise<BegunTurn> {
  const { projectId, endUserId } = input;
  const conversationId = input.conversationId ?? null;
  const budget = input.budget ? input.budget : null;
  const title = (input.message.trim() || 'Conversation').slice(0, 120);
  const [row] = await sql<BeginRow[]>`
    with
    spent as (
      select coalesce(sum(prompt_tokens + completion_tokens), 0) as used from usage_daily
      where project_id = ${projectId} and day = (now() at time zone 'utc')::date
    ),
    allowed as (select ${budget}::bigint is null or used < ${budget}::bigint as ok from spent),
    prior as (
      select status from conversations
      where id = ${conversationId}::uuid and project_id = ${projectId} and end_user_id = ${endUserId}
    ),
    continued as (
      update conversations c
      set message_count = c.message_count + 1, last_message_at = now(), updated_at = now()
      from allowed a
      where a.ok and c.id = ${conversationId}::uuid and c.project_id = ${projectId}
        and c.end_user_id = ${endUserId} and c.status <> 'closed'
      returning c.*
    ),
    created as (
      insert into conversations (project_id, end_user_id, title, message_count)
      select ${projectId}, ${endUserId}, ${title}, 1 from allowed a
      where a.ok and ${conversationId}::uuid is null
      returning *
    ),
    conversation as (select * from continued union all select * from created),
    message as (
      insert into messages (project_id, conversation_id, seq, role, content)
      select ${projectId}, c.id, c.message_count, 'user', ${input.message} from conversation c
      returning id, seq
    )
    select a.ok as allowed, (select status from prior) as prior_status, c.*, m.id as message_id, m.seq as message_seq,
      coalesce((
        select json_agg(r order by r.seq) from (
          select role, content, seq from messages
          where conversation_id = ${conversationId}::uuid and project_id = ${projectId}
          order by seq desc limit ${input.recentLimit}
        ) r
      ), '[]'::json) as recent
    from allowed a
    left join conversation c on true
    left join message m on true`;
  if (!row?.allowed) {
    throw new AppError('budget_exceeded', "This project's daily token budget is spent; it resets at 00:00 UTC", {
      headers: { 'Retry-After': String(secondsUntilUtcMidnight()) },
    });
  }
  if (!row.id || !row.message_id || row.message_seq === null) {
    if (row.prior_status === 'closed') throw new AppError('conflict', 'This conversation is closed; start a new one');
    throw new AppError('not_found', 'Conversation not found');
  }
  const { allowed: _a, prior_status: _p, message_id, message_seq, recent, ...conversation } = row;
  return {
    conversation: conversation as ConversationRow,
    userMessage: { id: message_id, seq: message_seq },
    recent,
  };
}

export interface StoredAnswer extends Omit<NewMessage, 'role' | 'authorId'> {
  id: string;
  /** The conversation's new count of consecutive ungrounded answers; unchanged when absent. */
  ungroundedStreak?: number;
}

/** Stores the assistant's answer and counts the turn (and its tokens) in the day's usage. */
export async function storeAnswer(
  sql: Sql,
  projectId: string,
  conversationId: string,
  a: StoredAnswer,
): Promise<MessageRow> {
  const usage = a.usage ?? null;
  const [row] = await sql<MessageRow[]>`
    with next as (
      update conversations set message_count = message_count + 1, last_message_at = now(), updated_at = now(),
        ungrounded_streak = coalesce(${a.ungroundedStreak ?? null}::integer, ungrounded_streak)
      where id = ${conversationId} and project_id = ${projectId}
      returning message_count
    ),
    counted as (
      insert into usage_daily (project_id, day, turns, prompt_tokens, completion_tokens, cached_turns)
      values (${projectId}, (now() at time zone 'utc')::date, 1, ${usage?.prompt_tokens ?? 0},
        ${usage?.completion_tokens ?? 0}, ${a.cached ? 1 : 0})
      on conflict (project_id, day) do update set
        turns = usage_daily.turns + 1,
        prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens,
        completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens,
        cached_turns = usage_daily.cached_turns + excluded.cached_turns
    )
    insert into messages (id, project_id, conversation_id, seq, role, content, citations, grounding, route, model, degraded, cached, usage, latency_ms)
    select ${a.id}, ${projectId}, ${conversationId}, next.message_count, 'assistant', ${a.content},
      ${sql.json(asJson(a.citations ?? []))}, ${a.grounding ?? null}, ${a.route ?? null},
      ${a.model ?? null}, ${a.degraded ?? false}, ${a.cached ?? false},
      ${usage ? sql.json(asJson(usage)) : null}, ${a.latencyMs ?? null}
    from next
    returning ${sql.unsafe(MESSAGE_COLUMNS)}`;
  if (!row) throw new Error(`conversation ${conversationId} not found`);
  return row;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const asJson = (value: Citation[] | Usage): Json => JSON.parse(JSON.stringify(value)) as Json;

export function secondsUntilUtcMidnight(): number {
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((midnight - now.getTime()) / 1000);
}
