/**
 * The prompt's memory of a conversation: the last turns verbatim within a character budget, and
 * everything older folded into a rolling summary stored on the conversation. The summary is
 * built without a model call — the earlier questions and the first sentence of each answer —
 * so it costs nothing per turn and never invents anything.
 */
import type { Sql } from 'postgres';
import type { ConversationRow, MessageRow } from './store';
import type { RecentMessage } from './turn-sql';
import type { ChatMessage } from './types';

const WINDOW_MESSAGES = 8;
/** Messages to load for the window: one more than it holds, to know whether older ones exist. */
export const HISTORY_FETCH = WINDOW_MESSAGES + 1;
const WINDOW_CHARS = 6000;
const SUMMARY_CHARS = 1500;

export interface History {
  messages: ChatMessage[];
  summary: string | null;
}

const firstSentence = (text: string): string =>
  (/^(.{1,200}?[.!?])(\s|$)/s.exec(text)?.[1] ?? text.slice(0, 200)).trim();

/**
 * The window before `beforeSeq`, from `loaded` — the conversation's latest HISTORY_FETCH
 * messages, read with the turn's start (beginTurn) — with older turns folded into the summary
 * when needed (the only case that queries).
 */
export async function loadHistory(
  sql: Sql,
  conversation: ConversationRow,
  beforeSeq: number,
  loaded: RecentMessage[],
): Promise<History> {
  if (beforeSeq <= 1) return { messages: [], summary: conversation.summary };
  const recent = loaded.filter((m) => m.seq < beforeSeq);
  const window: RecentMessage[] = [];
  let chars = 0;
  for (const m of [...recent].reverse()) {
    if (window.length >= WINDOW_MESSAGES || chars + m.content.length > WINDOW_CHARS) break;
    window.unshift(m);
    chars += m.content.length;
  }
  const oldestKept = window[0]?.seq ?? beforeSeq;
  let summary = conversation.summary;
  if (oldestKept - 1 > conversation.summarized_through) {
    const folded = await sql<MessageRow[]>`
      select role, content, seq from messages
      where conversation_id = ${conversation.id} and seq > ${conversation.summarized_through} and seq < ${oldestKept}
      order by seq`;
    const lines = folded
      .filter((m) => m.role === 'user' || m.role === 'assistant' || m.role === 'agent')
      .map(
        (m) =>
          `${m.role === 'user' ? 'User asked' : m.role === 'agent' ? 'An agent said' : 'Assistant said'}: ${firstSentence(m.content)}`,
      );
    summary = [summary, ...lines].filter(Boolean).join('\n').slice(-SUMMARY_CHARS);
    await sql`update conversations set summary = ${summary}, summarized_through = ${oldestKept - 1} where id = ${conversation.id}`;
  }
  return {
    summary,
    messages: window
      .filter((m) => m.role === 'user' || m.role === 'assistant' || m.role === 'agent')
      .map((m) => ({ role: m.role === 'user' ? 'user' : 'assistant', content: m.content })),
  };
}
