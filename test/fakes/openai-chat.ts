/**
 * `POST /v1/chat/completions` of the fake OpenAI server, as a `chat.completion` object or as
 * server-sent `chat.completion.chunk`s (role chunk, content deltas, finish chunk, optional usage
 * chunk, `data: [DONE]`). The answer is deterministic: the sentence of the system, developer and
 * tool messages that shares the most words with the last user message, or "I don't know." when
 * none shares any — enough for tests to see whether an answer was grounded in the context given.
 */
import type { ServerResponse } from 'node:http';
import type { RecordedRequest, ScenarioKnobs } from '../support/openai-scenario.ts';
import { EMBEDDING_MODELS } from './openai-embeddings.ts';
import { countTokens, invalid, modelNotFound, pause, standardHeaders, words, type ApiFailure } from './openai-wire.ts';

export const CHAT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-5-mini', 'gpt-5-nano'];
export const NO_ANSWER = "I don't know.";

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool', 'function'];
const STOPWORDS = new Set(
  'and are can does for from has have how not that the this was what when where which who why will with you your'.split(
    ' ',
  ),
);

interface ChatRequest {
  model: string;
  messages: Array<{ role: string; text: string }>;
  stream: boolean;
  includeUsage: boolean;
  maxTokens?: number;
}

/** Parses a request body like OpenAI validates it. */
export function parseChat(
  body: Record<string, unknown>,
): { ok: true; request: ChatRequest } | { ok: false; failure: ApiFailure } {
  const fail = (failure: ApiFailure) => ({ ok: false as const, failure });
  const { model, messages, stream, stream_options: streamOptions } = body;
  if (typeof model !== 'string' || model === '') return fail(invalid('you must provide a model parameter'));
  if (EMBEDDING_MODELS.includes(model)) {
    return fail({
      ...modelNotFound(model),
      message:
        'This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you mean to use v1/completions?',
    });
  }
  if (!/^(gpt-|o\d|chatgpt-)/.test(model)) return fail(modelNotFound(model));
  if (!Array.isArray(messages) || messages.length === 0) {
    return fail(
      invalid(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
        'messages',
        'empty_array',
      ),
    );
  }
  const parsed: ChatRequest['messages'] = [];
  for (const [i, m] of messages.entries()) {
    const role = typeof m === 'object' && m !== null ? (m as { role?: unknown }).role : undefined;
    if (typeof role !== 'string' || !ROLES.includes(role)) {
      return fail(
        invalid(
          `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
          `messages[${i}].role`,
          'invalid_value',
        ),
      );
    }
    const text = contentText((m as { content?: unknown }).content);
    if (text === null)
      return fail(invalid(`Invalid type for 'messages[${i}].content'.`, `messages[${i}].content`, 'invalid_type'));
    parsed.push({ role, text });
  }
  const limit = body.max_completion_tokens ?? body.max_tokens;
  if (limit !== undefined && limit !== null && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) {
    return fail(invalid("Invalid 'max_tokens': integer below minimum value.", 'max_tokens', 'integer_below_min_value'));
  }
  const includeUsage =
    typeof streamOptions === 'object' &&
    streamOptions !== null &&
    (streamOptions as { include_usage?: unknown }).include_usage === true;
  return {
    ok: true,
    request: {
      model,
      messages: parsed,
      stream: stream === true,
      includeUsage,
      maxTokens: typeof limit === 'number' ? limit : undefined,
    },
  };
}

/** A string, an array of `{type:'text', text}` parts, or null (assistant messages with tool calls). */
function contentText(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) return null;
  const texts = content.map((p: unknown) =>
    typeof p === 'object' && p !== null && typeof (p as { text?: unknown }).text === 'string'
      ? (p as { text: string }).text
      : null,
  );
  return texts.every((t) => t !== null) ? texts.join('\n') : null;
}

/** The context sentence sharing the most (stemmed) words with the last user message. */
export function groundedAnswer(messages: ChatRequest['messages']): string {
  const question = messages.findLast((m) => m.role === 'user')?.text ?? '';
  const wanted = new Set(
    words(question)
      .filter((w) => w.length >= 3 && !STOPWORDS.has(w))
      .map(stem),
  );
  const context = messages
    .filter((m) => m.role === 'system' || m.role === 'developer' || m.role === 'tool')
    .map((m) => m.text);
  let best = { score: 0, sentence: NO_ANSWER };
  for (const sentence of context.join('\n').split(/(?<=[.!?])\s+|\n+/)) {
    const score = new Set(
      words(sentence)
        .map(stem)
        .filter((w) => wanted.has(w)),
    ).size;
    if (score > best.score) best = { score, sentence: sentence.trim() };
  }
  return best.sentence;
}

function stem(word: string): string {
  return word.length > 4 ? word.replace(/(ing|ed|es|s)$/, '') : word;
}

/** Answers one parsed request, honouring the scenario's delays; stops if the client leaves. */
export async function answerChat(
  res: ServerResponse,
  request: ChatRequest,
  knobs: ScenarioKnobs,
  signal: AbortSignal,
  record: RecordedRequest,
): Promise<void> {
  const full = (knobs.reply ?? groundedAnswer(request.messages)).match(/\s*\S+/g) ?? [];
  const tokens = request.maxTokens !== undefined ? full.slice(0, request.maxTokens) : full;
  const finishReason = tokens.length < full.length ? 'length' : 'stop';
  const promptTokens = request.messages.reduce((n, m) => n + countTokens(m.text) + 4, 0);
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: tokens.length,
    total_tokens: promptTokens + tokens.length,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
  const base = {
    id: `chatcmpl-fake${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  };
  const ttft = knobs.ttftMs ?? 0;
  const gap = knobs.tokenDelayMs ?? 0;

  if (!request.stream) {
    if (!(await pause(ttft + gap * Math.max(0, tokens.length - 1), signal))) return;
    record.tokensSent = tokens.length;
    const message = { role: 'assistant', content: tokens.join(''), refusal: null, annotations: [] };
    const text = JSON.stringify({
      ...base,
      object: 'chat.completion',
      choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
      usage,
    });
    res.writeHead(200, {
      ...standardHeaders(),
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
    return;
  }

  const extra = request.includeUsage ? { usage: null } : {};
  const send = (choices: unknown[], more: object = extra): void => {
    res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...more })}\n\n`);
  };
  const delta = (d: object, finish: string | null = null) => [
    { index: 0, delta: d, logprobs: null, finish_reason: finish },
  ];
  res.writeHead(200, {
    ...standardHeaders(),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  send(delta({ role: 'assistant', content: '', refusal: null }));
  record.tokensSent = 0;
  for (const [i, token] of tokens.entries()) {
    if (!(await pause(i === 0 ? ttft : gap, signal))) return;
    send(delta({ content: token }));
    record.tokensSent++;
    if (record.tokensSent === knobs.dropAfterTokens) {
      record.outcome = 'dropped';
      // After what was written has reached the client: a drop mid-stream, not before the headers.
      res.write('', () => setTimeout(() => res.destroy(), 20));
      return;
    }
  }
  send(delta({}, finishReason));
  if (request.includeUsage) send([], { usage });
  res.end('data: [DONE]\n\n');
}
