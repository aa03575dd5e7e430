/**
 * Chat generation through the official `openai` SDK (OpenAI or any server speaking its API),
 * streamed: `chat.completions.create({ stream: true, stream_options: { include_usage: true } })`,
 * content chunks become deltas, the final usage chunk becomes `result.usage`.
 *
 * Failures and where they surface:
 * - Before the stream starts (429, 5xx, 408/409, connection errors, no response headers within
 *   `timeoutMs`): the SDK retries up to `maxRetries` times with exponential backoff and jitter
 *   (0.5 s, 1 s, … honouring `retry-after-ms`/`retry-after`), then `generate()` rejects.
 *   Retries happen only here, before any token: once text has been sent it cannot be unsent.
 * - After the headers: silence longer than `idleTimeoutMs` (before the first token or between
 *   chunks), a dropped connection or a stream that ends without a finish reason make the
 *   `deltas` iterator throw (`ProviderTimeoutError` / `ProviderStreamError`); `result` rejects
 *   with the same error. A caller that already forwarded text reports it as an error event.
 * - The caller's `signal` (client disconnect, deadline) aborts the upstream request at any
 *   point; the iterator then throws the signal's reason.
 * Leaving the iterator early (`break`) also aborts the upstream request; `result` then resolves
 * without usage. Iterate `deltas` (or abort): an unread stream keeps its connection open.
 */
import OpenAI from 'openai';
import type { ChatProvider, Generation, Usage } from './types';

export interface OpenAIProviderOptions {
  apiKey: string;
  /** Defaults to the SDK's `https://api.openai.com/v1`. */
  baseURL?: string;
  /** Model when the call names none (projects choose theirs). Default `gpt-4o-mini`. */
  defaultModel?: string;
  /** In ms: each attempt's limit to receive the response headers (the SDK's `timeout`). Default 10 000. */
  timeoutMs?: number;
  /**
   * In ms: the longest silence tolerated once the stream has started, before the first token
   * and between chunks. Default `timeoutMs`.
   */
  idleTimeoutMs?: number;
  /** Retries after the first attempt, before any token (429/5xx/timeouts). Default 2. */
  maxRetries?: number;
}

/** The provider went silent for longer than `idleTimeoutMs` after the stream had started. */
export class ProviderTimeoutError extends Error {
  override readonly name = 'ProviderTimeoutError';
}

/** The stream broke (connection dropped, ended without finishing) after it had started. */
export class ProviderStreamError extends Error {
  override readonly name = 'ProviderStreamError';
}

type GenerationResult = Awaited<Generation['result']>;

export function openaiProvider(options: OpenAIProviderOptions): ChatProvider {
  const defaultModel = options.defaultModel ?? 'gpt-4o-mini';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? timeoutMs;
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    timeout: timeoutMs,
    maxRetries: options.maxRetries ?? 2,
  });

  return {
    name: 'openai',
    async generate(messages, _context, opts): Promise<Generation> {
      const model = opts.model ?? defaultModel;
      // Ours: cut the stream on a stall or when the consumer leaves; the caller's signal joins it.
      const stop = new AbortController();
      const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
      const stream = await client.chat.completions.create(
        {
          model,
          messages,
          stream: true,
          stream_options: { include_usage: true },
          ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
          // max_completion_tokens: OpenAI's current name (max_tokens is refused by o-series models).
          ...(opts.maxTokens !== undefined ? { max_completion_tokens: opts.maxTokens } : {}),
        },
        { signal },
      );

      const settled = Promise.withResolvers<GenerationResult>();
      // Handled here so a caller reading only the deltas never leaves an unhandled rejection.
      settled.promise.catch(() => {});

      async function* deltas(): AsyncGenerator<string> {
        const chunks = stream[Symbol.asyncIterator]();
        let answeredModel = model;
        let usage: Usage | undefined;
        let finished = false;
        let sent = 0;
        let ended = false;
        const watchdog = silenceWatchdog(idleTimeoutMs, stop);
        try {
          for (;;) {
            const next = await Promise.race([chunks.next(), watchdog.silence]);
            watchdog.heard();
            if (next.done) break;
            const chunk = next.value;
            if (chunk.model) answeredModel = chunk.model;
            if (chunk.usage) {
              usage = { prompt_tokens: chunk.usage.prompt_tokens, completion_tokens: chunk.usage.completion_tokens };
            }
            const choice = chunk.choices[0];
            if (choice?.finish_reason) finished = true;
            const text = choice?.delta.content;
            if (text) {
              sent++;
              yield text;
            }
          }
          // The SDK ends an aborted stream silently, and a cut connection can look like an end.
          opts.signal?.throwIfAborted();
          if (!finished)
            throw new ProviderStreamError(`stream from ${model} ended after ${sent} deltas without finishing`);
          ended = true;
          settled.resolve({ model: answeredModel, usage, degraded: false });
        } catch (err) {
          ended = true;
          const failure = opts.signal?.aborted
            ? opts.signal.reason
            : stop.signal.aborted && stop.signal.reason instanceof ProviderTimeoutError
              ? stop.signal.reason
              : err instanceof ProviderStreamError
                ? err
                : new ProviderStreamError(`stream from ${model} broke after ${sent} deltas`, { cause: err });
          settled.reject(failure);
          throw failure;
        } finally {
          if (!ended) {
            // The consumer left early (`break`, or a guard stopped reading): cut the upstream call.
            settled.resolve({ model: answeredModel, usage, degraded: false });
          }
          watchdog.dispose();
          stop.abort();
        }
      }

      return { deltas: deltas(), result: settled.promise };
    },
  };
}

/**
 * Aborts the request once the stream stays silent for `ms`, and rejects `silence` then. One timer
 * for the whole stream, re-armed for the time left when it fires: a chunk costs a clock read,
 * not a timer of its own (a token arrives every few milliseconds).
 */
function silenceWatchdog(ms: number, stop: AbortController) {
  let last = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let fail: (err: Error) => void = () => {};
  const silence = new Promise<never>((_, reject) => (fail = reject));
  silence.catch(() => {});
  const check = (): void => {
    const quiet = Date.now() - last;
    if (quiet < ms) {
      timer = setTimeout(check, ms - quiet);
      return;
    }
    const err = new ProviderTimeoutError(`no data from the provider for ${ms} ms`);
    stop.abort(err);
    fail(err);
  };
  timer = setTimeout(check, ms);
  return {
    silence,
    heard: (): void => {
      last = Date.now();
    },
    dispose: (): void => clearTimeout(timer),
  };
}
