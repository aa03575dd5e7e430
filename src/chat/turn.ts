/**
 * One chat turn, in order: budget check → conversation (created if new) → the user's message
 * stored before any model call → route (rules; the model's classification where enabled) →
 * handoff and tickets → answer cache → standalone query → hybrid retrieval → prompt with the
 * passages as untrusted data → generation (resilient provider) through the output guard →
 * grounding grade → the assistant message stored with citations, grounding, model, usage,
 * latency, route and cache flag → usage counters. Events go to a sink as they happen, so the
 * same turn serves JSON and Server-Sent Events.
 */
import type { Redis } from '@upstash/redis/cloudflare';
import type { Sql } from 'postgres';
import type { Embedder } from '../ai/embeddings';
import type { ProjectSettings } from '../projects/schemas';
import { cacheKey, DEFAULT_CACHE_TTL_SECONDS, isPersonal, readCache, writeCache } from './cache';
import { GUARD_REFUSAL, buildPrompt, guardDeltas, protectedStrings } from './guard';
import { EXTRACTIVE_MODEL, extractiveAnswer } from './extractive';
import { groundingScore } from './grounding';
import { loadHistory } from './history';
import { citationsFrom, retrieve, standaloneQuery } from './retrieve';
import { decideRoute, type Complete } from './route';
import { isFollowUp } from './standalone-query';
import { appendMessage, createConversation, findConversation, type ConversationRow, type MessageRow } from './store';
import { openTicket } from './tickets';
import type { ChatMessage, ChatProvider, Citation, Passage, RouteDecision, Usage } from './types';
import { assertWithinBudget, recordUsage } from './usage';
import { AppError } from '../errors';

export const DEFAULT_PERSONA = 'You are a helpful, concise support assistant for this business.';
/** Answers grounded below this offer a human, unless the project sets `grounding_threshold`. */
export const DEFAULT_GROUNDING_THRESHOLD = 0.25;
/** Largest answer in tokens when the project sets no `max_tokens`. */
export const DEFAULT_MAX_TOKENS = 600;
const UNGROUNDED_STREAK_FOR_OFFER = 2;
const HUMAN_OFFER = 'If you like, I can connect you with a person from our team — just say "talk to a human".';

export interface TurnDeps {
  sql: Sql;
  redis: Redis;
  provider: ChatProvider;
  /** Whether `provider` is a real model (classification and follow-up rewriting use it). */
  providerIsModel: boolean;
  embedders: (model: string) => Embedder | undefined;
}

export interface TurnInput {
  projectId: string;
  settings: ProjectSettings;
  endUserId: string;
  conversationId?: string;
  message: string;
  /** Earlier turns supplied by the client (OpenAI-style requests); otherwise the stored history. */
  history?: ChatMessage[];
  signal?: AbortSignal;
}

export interface TurnSink {
  /**
   * Deltas reach the client as they are sent (SSE): text already sent cannot be taken back.
   * A collecting sink (JSON responses) leaves it unset.
   */
  live?: boolean;
  meta(e: { conversation_id: string; message_id: string }): void | Promise<void>;
  delta(text: string): void | Promise<void>;
  citations(citations: Citation[]): void | Promise<void>;
}

export interface TurnOutcome {
  conversationId: string;
  messageId: string;
  content: string;
  citations: Citation[];
  grounding: number;
  handoff: boolean;
  ticketId?: string;
  usage?: Usage;
  degraded: boolean;
  cached: boolean;
  route: RouteDecision['route'];
}

/** A short non-streaming completion through the provider, for routing and query rewriting. */
function completer(deps: TurnDeps, model: string | undefined, signal?: AbortSignal): Complete | undefined {
  if (!deps.providerIsModel) return undefined;
  return async (prompt) => {
    const generation = await deps.provider.generate(
      [{ role: 'user', content: prompt }],
      { question: prompt, passages: [] },
      { model, maxTokens: 60, temperature: 0, signal },
    );
    let text = '';
    for await (const delta of generation.deltas) text += delta;
    const result = await generation.result;
    if (result.degraded) throw new Error('provider degraded');
    return text;
  };
}

async function conversationFor(deps: TurnDeps, input: TurnInput): Promise<ConversationRow> {
  if (!input.conversationId)
    return createConversation(deps.sql, input.projectId, input.endUserId, input.message.trim() || 'Conversation');
  const found = await findConversation(deps.sql, input.projectId, input.conversationId, input.endUserId);
  if (!found) throw new AppError('not_found', 'Conversation not found');
  if (found.status === 'closed') throw new AppError('conflict', 'This conversation is closed; start a new one');
  return found;
}

async function emitText(sink: TurnSink, text: string): Promise<void> {
  for (const piece of text.match(/\S+\s*/g) ?? [text]) await sink.delta(piece);
}

export interface StartedTurn {
  deps: TurnDeps;
  input: TurnInput;
  conversation: ConversationRow;
  userMessage: MessageRow;
  started: number;
}

/**
 * The part of a turn that can still fail with a plain HTTP error (budget spent, unknown or
 * closed conversation): done before a streaming response is committed. Stores the user's message.
 */
export async function startTurn(deps: TurnDeps, input: TurnInput): Promise<StartedTurn> {
  const started = Date.now();
  // An existing conversation is read while the budget is checked; a new one is only created
  // once the budget allows the turn.
  const existing = input.conversationId ? conversationFor(deps, input) : undefined;
  existing?.catch(() => {});
  await assertWithinBudget(deps.sql, input.projectId, input.settings.daily_token_budget);
  const conversation = await (existing ?? conversationFor(deps, input));
  const userMessage = await appendMessage(deps.sql, input.projectId, conversation.id, {
    role: 'user',
    content: input.message,
  });
  return { deps, input, conversation, userMessage, started };
}

export async function runTurn(deps: TurnDeps, input: TurnInput, sink: TurnSink): Promise<TurnOutcome> {
  return completeTurn(await startTurn(deps, input), sink);
}

export async function completeTurn(turn: StartedTurn, sink: TurnSink): Promise<TurnOutcome> {
  const { deps, input, conversation, userMessage, started } = turn;
  const { sql } = deps;
  const { settings } = input;

  // The answer's id is chosen now, so a streaming client learns it before the row exists.
  const answerId = crypto.randomUUID();
  // Every turn's event sequence is the same (meta, delta…, citations, done): replies that cite
  // nothing still send their (empty) citations.
  let citationsSent = false;
  const sendCitations = async (citations: Citation[]): Promise<void> => {
    citationsSent = true;
    await sink.citations(citations);
  };
  const finish = async (
    o: Omit<TurnOutcome, 'conversationId' | 'messageId'>,
    model: string | null,
  ): Promise<TurnOutcome> => {
    if (!citationsSent) await sendCitations(o.citations);
    const stored = await appendMessage(sql, input.projectId, conversation.id, {
      id: answerId,
      role: 'assistant',
      content: o.content,
      citations: o.citations,
      grounding: o.grounding,
      route: o.route,
      model,
      degraded: o.degraded,
      cached: o.cached,
      usage: o.usage ?? null,
      latencyMs: Date.now() - started,
    });
    await recordUsage(sql, input.projectId, o.usage, o.cached);
    return { ...o, conversationId: conversation.id, messageId: stored.id };
  };
  await sink.meta({ conversation_id: conversation.id, message_id: answerId });

  // While humans have the conversation, the bot does not talk over them.
  if (conversation.status === 'handoff' && !settings.answer_during_handoff) {
    const [ticket] = await sql<
      { id: string }[]
    >`select id from tickets where conversation_id = ${conversation.id} and status <> 'resolved' limit 1`;
    const content = 'Thanks — a person from our team has this conversation and will reply here.';
    await emitText(sink, content);
    return await finish(
      {
        content,
        citations: [],
        grounding: 0,
        handoff: true,
        ticketId: ticket?.id,
        degraded: false,
        cached: false,
        route: 'escalation',
      },
      null,
    );
  }

  const decision = await decideRoute(input.message, {
    complete: settings.classify_with_model ? completer(deps, settings.model, input.signal) : undefined,
  });
  const canned = cannedReply(decision);
  if (decision.route === 'escalation' || decision.route === 'complaint') {
    const ticket = await openTicket(sql, {
      projectId: input.projectId,
      conversationId: conversation.id,
      reason: decision.reason,
      priority: decision.priority,
    });
    const content =
      decision.route === 'complaint'
        ? "I'm sorry about this. I've passed your message to our team and a person will follow up here."
        : "I've asked a person from our team to take over; they will follow up here.";
    await emitText(sink, content);
    return await finish(
      {
        content,
        citations: [],
        grounding: 0,
        handoff: true,
        ticketId: ticket.id,
        degraded: false,
        cached: false,
        route: decision.route,
      },
      null,
    );
  }
  if (canned) {
    await emitText(sink, canned);
    return await finish(
      {
        content: canned,
        citations: [],
        grounding: 0,
        handoff: false,
        degraded: false,
        cached: false,
        route: decision.route,
      },
      null,
    );
  }

  // The answer cache: first turn (no history from the client either), nothing personal.
  const cacheable =
    userMessage.seq === 1 &&
    !input.history?.length &&
    !isPersonal(input.message) &&
    (settings.cache_ttl_seconds ?? DEFAULT_CACHE_TTL_SECONDS) > 0;
  const key = cacheable ? await answerKey(sql, input) : undefined;
  const hit = key ? await readCache(deps.redis, key) : undefined;
  if (hit) {
    await emitText(sink, hit.content);
    await sendCitations(hit.citations);
    return await finish(
      {
        content: hit.content,
        citations: hit.citations,
        grounding: hit.grounding,
        handoff: false,
        degraded: false,
        cached: true,
        route: 'question',
      },
      hit.model,
    );
  }

  const history = input.history
    ? { messages: input.history.slice(-8), summary: null }
    : await loadHistory(sql, conversation, userMessage.seq);
  const query = await standalone(deps, history.messages, input.message, settings.model, input.signal);
  const { passages } = await retrieve(sql, {
    projectId: input.projectId,
    query,
    embedders: deps.embedders,
    topK: settings.top_k,
    minSimilarity: settings.min_similarity,
  });

  const persona = settings.persona?.trim() || DEFAULT_PERSONA;
  const messages = buildPrompt({
    persona,
    passages,
    history: history.messages,
    summary: history.summary,
    question: input.message,
  });
  const generation = await deps.provider.generate(
    messages,
    { question: query, passages },
    {
      model: settings.model,
      temperature: settings.temperature,
      maxTokens: settings.max_tokens ?? DEFAULT_MAX_TOKENS,
      signal: input.signal,
    },
  );
  const secrets = protectedStrings(persona, settings.protected_terms);
  let content = '';
  let blocked = false;
  let interrupted = false;
  try {
    for await (const delta of guardDeltas(generation.deltas, secrets, { onBlocked: () => (blocked = true) })) {
      content += delta;
      await sink.delta(delta);
    }
  } catch (err) {
    // The model failed mid-answer (after its first token, so past the resilient provider's
    // fallback). A client that left is not a failure; otherwise the turn still ends with an
    // answer: the extractive one, after what was already streamed or instead of it.
    if (input.signal?.aborted) throw err;
    interrupted = true;
    const rescue = extractiveAnswer(query, passages).text;
    const text = sink.live && content ? `\n\n${rescue}` : rescue;
    content = sink.live ? content + text : text;
    if (sink.live) await sink.delta(text);
  }
  const result = interrupted
    ? { model: EXTRACTIVE_MODEL, usage: undefined, degraded: true }
    : await generation.result.catch(() => ({ model: 'unknown', usage: undefined, degraded: false }));
  const citations = blocked || content === GUARD_REFUSAL ? [] : citationsFrom(cited(content, passages), 240, query);
  const grounding = blocked ? 0 : groundingScore(content, passages);

  // Repeated answers without support, or one below the project's threshold, offer a human.
  const ungrounded = passages.length === 0 || grounding < (settings.grounding_threshold ?? DEFAULT_GROUNDING_THRESHOLD);
  const streak = ungrounded ? conversation.ungrounded_streak + 1 : 0;
  await sql`update conversations set ungrounded_streak = ${streak} where id = ${conversation.id}`;
  if (ungrounded && (streak >= UNGROUNDED_STREAK_FOR_OFFER || passages.length > 0)) {
    const offer = `${content.endsWith('\n') ? '' : '\n\n'}${HUMAN_OFFER}`;
    content += offer;
    await sink.delta(offer);
  }
  await sendCitations(citations);

  const outcome = await finish(
    {
      content,
      citations,
      grounding,
      handoff: false,
      usage: result.usage,
      degraded: result.degraded,
      cached: false,
      route: 'question',
    },
    result.model,
  );
  if (key && !result.degraded && !blocked && !ungrounded) {
    await writeCache(
      deps.redis,
      key,
      { content, citations, grounding, model: result.model },
      settings.cache_ttl_seconds ?? DEFAULT_CACHE_TTL_SECONDS,
    );
  }
  return outcome;
}

/** The cache key of a first-turn question under the project's current knowledge version. */
async function answerKey(sql: Sql, input: TurnInput): Promise<string> {
  const [row] = await sql<{ knowledge_version: string }[]>`
    select knowledge_version::text from projects where id = ${input.projectId}`;
  return cacheKey(input.projectId, row?.knowledge_version ?? '0', input.message);
}

/** Messages that need no retrieval: greetings, abuse, empty input, out-of-scope requests. */
function cannedReply(decision: RouteDecision): string | undefined {
  switch (decision.route) {
    case 'small_talk':
      return 'Hello! How can I help you today?';
    case 'abuse':
      return "I'm here to help with questions about our products and services. Let's keep it respectful.";
    case 'empty':
      return "I didn't catch that. Could you write your question in a few words?";
    case 'out_of_scope':
      return "That's outside what I can help with here. I can answer questions about our products and services.";
    default:
      return undefined;
  }
}

/** The passages the answer cites ([n] markers), or all of them when it cites none explicitly. */
function cited(answer: string, passages: Passage[]): Passage[] {
  const numbers = new Set([...answer.matchAll(/\[(\d{1,2})\]/g)].map((m) => Number(m[1])));
  const chosen = passages.filter((_, i) => numbers.has(i + 1));
  return chosen.length > 0 ? chosen : passages.slice(0, 3);
}

async function standalone(
  deps: TurnDeps,
  history: { role: string; content: string }[],
  message: string,
  model: string | undefined,
  signal?: AbortSignal,
): Promise<string> {
  const fallback = standaloneQuery(
    history.map((h) => ({ role: h.role === 'user' ? 'user' : 'assistant', content: h.content })),
    message,
  );
  const complete = completer(deps, model, signal);
  if (!complete || history.length === 0 || !isFollowUp(message)) return fallback;
  try {
    const transcript = history
      .slice(-4)
      .map((h) => `${h.role}: ${h.content.slice(0, 500)}`)
      .join('\n');
    const rewritten = (
      await complete(
        `Rewrite the last user message as one standalone search query, using the conversation for context. Answer with the query only.\n\n${transcript}\nuser: ${message}`,
      )
    ).trim();
    return rewritten && rewritten.length < 400 ? rewritten : fallback;
  } catch {
    return fallback;
  }
}
