/**
 * Generation that always answers: the model provider behind a circuit breaker, with the
 * extractive answerer as the degraded-mode fallback, and `providerFor()` — the one place that
 * picks the provider from configuration.
 *
 * `resilientProvider({ primary, fallback, breaker })`:
 * - breaker open → the fallback answers (constructed with `degraded: true`, so the turn is
 *   marked degraded), without calling the primary;
 * - otherwise the primary is tried; if it fails before its first delta (after its own retries
 *   and timeouts), the failure is recorded and the fallback answers. Failures that say nothing
 *   about the provider's health (400/401/403/404/422: a bad model name, a bad key) fall back too
 *   but are not counted, so one misconfigured project cannot open the breaker for everyone;
 * - the first delta counts as success (it closes a half-open breaker);
 * - a failure after deltas were sent cannot be taken back: the deltas iterator throws it (the
 *   caller ends the stream with an SSE `error` event) and it counts as a breaker failure;
 * - the caller's abort (client gone) is never a provider failure and is rethrown as is.
 */
import { log } from '../http/logger';
import { createRedis } from '../redis';
import type { Config } from '../config';
import { redisBreaker, type BreakerPermit, type CircuitBreaker, type RedisBreakerOptions } from './breaker';
import { extractiveProvider } from './extractive';
import { openaiProvider } from './openai-provider';
import type { ChatProvider, GenerateOptions, Generation } from './types';

export interface ResilientOptions {
  primary: ChatProvider;
  /** Answers when the primary cannot; construct it degraded (`extractiveProvider({ degraded: true })`). */
  fallback: ChatProvider;
  breaker: CircuitBreaker;
}

/** Whether an error says the provider is unhealthy: no HTTP status (timeouts, connections, broken streams), 408, 409, 429 or 5xx. */
export function isProviderFault(err: unknown): boolean {
  const status =
    typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number'
      ? err.status
      : undefined;
  return status === undefined || status === 408 || status === 409 || status === 429 || status >= 500;
}

export function resilientProvider({ primary, fallback, breaker }: ResilientOptions): ChatProvider {
  const failed = async (permit: BreakerPermit, err: unknown, opts: GenerateOptions, sent: number): Promise<void> => {
    const fault = isProviderFault(err);
    if (fault) await breaker.failure(permit);
    log(
      sent === 0 ? 'warn' : 'error',
      sent === 0 ? 'model provider failed; answering in degraded mode' : 'model provider failed mid-answer',
      {
        provider: primary.name,
        model: opts.model,
        deltas_sent: sent,
        counted: fault,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      },
    );
  };

  // A permit asked for ahead of time by prepare(), taken by the next generate().
  let prepared: Promise<BreakerPermit> | undefined;
  return {
    name: `resilient(${primary.name})`,
    prepare() {
      const permit = (prepared ??= breaker.acquire());
      return {
        release: async () => {
          if (prepared !== permit) return; // generate() took it
          prepared = undefined;
          await breaker.release(await permit);
        },
      };
    },
    async generate(messages, context, opts): Promise<Generation> {
      const pending = prepared ?? breaker.acquire();
      prepared = undefined;
      const permit = await pending;
      if (!permit.allowed) return fallback.generate(messages, context, opts);

      let generation: Generation;
      let chunks: AsyncIterator<string>;
      let first: IteratorResult<string>;
      try {
        generation = await primary.generate(messages, context, opts);
        chunks = generation.deltas[Symbol.asyncIterator]();
        first = await chunks.next();
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        await failed(permit, err, opts, 0);
        return fallback.generate(messages, context, opts);
      }
      // The provider answered, so it is healthy, even if the answer is empty.
      await breaker.success(permit);
      if (first.done) {
        log('warn', 'model provider returned an empty answer; answering in degraded mode', { provider: primary.name });
        return fallback.generate(messages, context, opts);
      }

      const firstDelta = first.value;
      async function* rest(): AsyncGenerator<string> {
        let sent = 0;
        try {
          yield firstDelta;
          sent++;
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
            yield next.value;
            sent++;
          }
        } catch (err) {
          // After a delta, a later failure is the caller's to report; a half-open permit was closed already.
          if (!opts.signal?.aborted) await failed({ ...permit, state: 'closed' }, err, opts, sent);
          throw err;
        } finally {
          // The consumer left early: let the primary cut its upstream call.
          await chunks.return?.();
        }
      }
      return { deltas: rest(), result: generation.result };
    },
  };
}

export interface ProviderForOptions {
  /** Each attempt's limit to response headers, and the longest silence on the stream, in ms (see openaiProvider). Default 10 000. */
  timeoutMs?: number;
  /** Retries before the first token. Default 2. */
  maxRetries?: number;
  /** Breaker settings; `redis` defaults to a client with a 300 ms timeout and no retries. */
  breaker?: Partial<Omit<RedisBreakerOptions, 'target'>>;
}

type ProviderConfig = Pick<
  Config,
  'OPENAI_API_KEY' | 'OPENAI_BASE_URL' | 'UPSTASH_REDIS_REST_URL' | 'UPSTASH_REDIS_REST_TOKEN' | 'ENVIRONMENT'
>;

/**
 * The chat provider for this configuration: no OPENAI_API_KEY → the extractive answerer (not
 * degraded: it is the configured mode, and `npm run dev` works offline); with a key → OpenAI
 * (or OPENAI_BASE_URL) behind a Redis circuit breaker, the extractive answerer as degraded
 * fallback. The breaker is keyed by base URL and namespaced by ENVIRONMENT unless told otherwise.
 */
export function providerFor(config: ProviderConfig, options: ProviderForOptions = {}): ChatProvider {
  if (!config.OPENAI_API_KEY) return extractiveProvider({ degraded: false });
  const baseURL = config.OPENAI_BASE_URL;
  return resilientProvider({
    primary: openaiProvider({
      apiKey: config.OPENAI_API_KEY,
      baseURL,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxRetries: options.maxRetries ?? 2,
    }),
    fallback: extractiveProvider({ degraded: true }),
    breaker: redisBreaker({
      redis: createRedis(config, { timeoutMs: 300 }),
      namespace: config.ENVIRONMENT,
      ...options.breaker,
      target: baseURL ?? 'https://api.openai.com/v1',
    }),
  });
}
