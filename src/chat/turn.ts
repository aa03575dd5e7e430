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
import { cacheKey, DEFAULT_CACHE_TTL_SECONDS, isPersonal, readCache, writeCache, type CachedAnswer } from './cache';
import { GUARD_REFUSAL, buildPrompt, guardDeltas, protectedStrings } from './guard';
import { EXTRACTIVE_MODEL, extractiveAnswer } from './extractive';
import { groundingScore } from './grounding';
import { HISTORY_FETCH, loadHistory } from './history';
import { citationsFrom, retrieve, standaloneQuery } from './retrieve';
import { classifyWithModel, decideRules, type Complete } from './route';
import { isFollowUp } from './standalone-query';
import { openTicket } from './tickets';
import { beginTurn, storeAnswer, type BegunTurn } from './turn-sql';
import type { ChatMessage, ChatProvider, Citation, Passage, RouteDecision, Usage } from './types';

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
  /** The project's knowledge version (answer cache) and embedding models (retrieval). */
  knowledge: { version: string; embeddingModels: string[] };
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

/**
 * A short non-streaming completion through the provider, for routing and query rewriting. Its
 * tokens are reported to `spend`, so they count toward the turn's usage and the daily budget.
 */
function completer(
  deps: TurnDeps,
  model: string | undefined,
  spend: (usage: Usage) => void,
  signal?: AbortSignal,
): Complete | undefined {
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
    if (result.usage) spend(result.usage);
    if (result.degraded) throw new Error('provider degraded');
    return text;
  };
}

async function emitText(sink: TurnSink, text: string): Promise<void> {
  for (const piece of text.match(/\S+\s*/g) ?? [text]) await sink.delta(piece);
}

export interface StartedTurn extends BegunTurn {
  deps: TurnDeps;
  input: TurnInput;
  started: number;
  /** The fast rules' verdict on the message (the model may refine a `question`). */
  rules: RouteDecision;
  /** What a new conversation's first turn started alongside beginTurn (see lookAhead). */
  ahead?: LookAhead;
  /** The provider's admission check, started alongside beginTurn; released if nothing is generated. */
  prepared?: { release(): Promise<void> };
}

/**
 * A new conversation has no history to rewrite its question with, and its first question is the
 * only one that may be answered from the cache: so its search and its cache lookup need not wait
 * for the conversation to be stored. Both are read-only, so a turn refused by beginTurn or
 * answered without knowledge (small talk, a handoff) only wastes them.
 */
interface LookAhead {
  passages: Promise<Passage[]>;
  /** The answer cache's key and entry, when the question may be cached. */
  cache?: Promise<{ key: string; hit: CachedAnswer | undefined }>;
}

function lookAhead(deps: TurnDeps, input: TurnInput): LookAhead {
  const passages = search(deps, input, standaloneQuery([], input.message), input.knowledge.embeddingModels);
  passages.catch(() => {});
  if (!mayCache(input)) return { passages };
  const cache = (async () => {
    const key = await cacheKey(input.projectId, input.knowledge.version, input.message);
    return { key, hit: await readCache(deps.redis, key) };
  })();
  cache.catch(() => {});
  return { passages, cache };
}

/** The answer cache: a new conversation's question (no history from the client either), nothing personal. */
function mayCache(input: TurnInput): boolean {
  return (
    !input.conversationId &&
    !input.history?.length &&
    !isPersonal(input.message) &&
    (input.settings.cache_ttl_seconds ?? DEFAULT_CACHE_TTL_SECONDS) > 0
  );
}

/**
 * The part of a turn that can still fail with a plain HTTP error (budget spent, unknown or
 * closed conversation): done before a streaming response is committed. One round trip checks
 * the budget, continues or creates the conversation, stores the user's message and reads what
 * the rest of the turn needs (see beginTurn).
 */
export async function startTurn(deps: TurnDeps, input: TurnInput): Promise<StartedTurn> {
  const started = Date.now();
  // Messages the rules already answer without knowledge (greetings, handoff requests, abuse)
  // start nothing ahead.
  const rules = decideRules(input.message);
  const question = rules.route === 'question';
  const ahead = question && !input.conversationId && !input.history?.length ? lookAhead(deps, input) : undefined;
  const prepared = question ? deps.provider.prepare?.() : undefined;
  let begun;
  try {
    begun = await beginTurn(deps.sql, {
      projectId: input.projectId,
      endUserId: input.endUserId,
      conversationId: input.conversationId,
      message: input.message,
      budget: input.settings.daily_token_budget,
      recentLimit: HISTORY_FETCH,
    });
  } catch (err) {
    await prepared?.release();
    throw err;
  }
  return { ...begun, deps, input, started, rules, ahead, prepared };
}

async function search(deps: TurnDeps, input: TurnInput, query: string, models: string[]): Promise<Passage[]> {
  const { passages } = await retrieve(deps.sql, {
    projectId: input.projectId,
    query,
    embedders: deps.embedders,
    topK: input.settings.top_k,
    minSimilarity: input.settings.min_similarity,
    models,
  });
  return passages;
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
  // The conversation's run of ungrounded answers, stored with the answer (question turns only).
  let streak: number | undefined = undefined;
  // Tokens of the short calls before the answer (classification, follow-up rewriting).
  const side: Usage = { prompt_tokens: 0, completion_tokens: 0 };
  const spend = (u: Usage): void => {
    side.prompt_tokens += u.prompt_tokens;
    side.completion_tokens += u.completion_tokens;
  };
  const sendCitations = async (citations: Citation[]): Promise<void> => {
    citationsSent = true;
    await sink.citations(citations);
  };
  const finish = async (
    o: Omit<TurnOutcome, 'conversationId' | 'messageId'>,
    model: string | null,
  ): Promise<TurnOutcome> => {
    // Answers that called no model give the provider's admission back (no-op after a generation).
    await turn.prepared?.release();
    if (side.prompt_tokens + side.completion_tokens > 0) o = { ...o, usage: plus(o.usage, side) };
    if (!citationsSent) await sendCitations(o.citations);
    const stored = await storeAnswer(sql, input.projectId, conversation.id, {
      id: answerId,
      ungroundedStreak: streak,
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

  const decision = await classifyWithModel(
    turn.rules,
    input.message,
    settings.classify_with_model ? completer(deps, settings.model, spend, input.signal) : undefined,
  );
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

  // Only a new conversation's question is cached, and its lookup and search started with the
  // turn (lookAhead); a continued conversation searches now, with its history. The provider's
  // admission check runs meanwhile (startTurn).
  const found = (async () => {
    const history = input.history
      ? { messages: input.history.slice(-8), summary: null }
      : await loadHistory(sql, conversation, userMessage.seq, turn.recent);
    if (turn.ahead) return { history, query: standaloneQuery([], input.message), passages: await turn.ahead.passages };
    const query = await standalone(deps, history.messages, input.message, settings.model, spend, input.signal);
    return { history, query, passages: await search(deps, input, query, input.knowledge.embeddingModels) };
  })();
  const looked = await turn.ahead?.cache?.catch(() => undefined);
  const key = looked?.key;
  const hit = looked?.hit;
  if (hit) {
    found.catch(() => {});
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
  let history, query, passages;
  try {
    ({ history, query, passages } = await found);
  } catch (err) {
    await turn.prepared?.release();
    throw err;
  }

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
  streak = ungrounded ? conversation.ungrounded_streak + 1 : 0;
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

const plus = (a: Usage | undefined, b: Usage): Usage => ({
  prompt_tokens: (a?.prompt_tokens ?? 0) + b.prompt_tokens,
  completion_tokens: (a?.completion_tokens ?? 0) + b.completion_tokens,
});

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
  spend: (usage: Usage) => void,
  signal?: AbortSignal,
): Promise<string> {
  const fallback = standaloneQuery(
    history.map((h) => ({ role: h.role === 'user' ? 'user' : 'assistant', content: h.content })),
    message,
  );
  const complete = completer(deps, model, spend, signal);
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
