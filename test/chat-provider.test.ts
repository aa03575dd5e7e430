/**
 * Chat generation against the fake OpenAI server through the official SDK: streaming, usage,
 * retries before the first token, timeouts, mid-stream failures, client disconnects; the Redis
 * circuit breaker (opening, probing, closing, its Upstash cost, Redis down); the resilient
 * provider's degraded answers; the fault suite (half the calls failing, every chat answered);
 * and the extractive answerer that serves offline and degraded mode.
 */
import { describe, expect, inject, it, vi } from 'vitest';
import { redisBreaker, type RedisBreakerOptions } from '../src/chat/breaker';
import { EXTRACTIVE_MODEL, NOT_FOUND_ANSWER, extractiveProvider } from '../src/chat/extractive';
import { buildPrompt } from '../src/chat/guard';
import { ProviderStreamError, openaiProvider, type OpenAIProviderOptions } from '../src/chat/openai-provider';
import { providerFor, resilientProvider } from '../src/chat/resilient';
import type { ChatProvider, GenerateOptions, Generation, Passage } from '../src/chat/types';
import { createRedis } from '../src/redis';
import { fakeOpenAIUrl, healthyKey, recordedRequests, scenarioKey, type RecordedRequest } from './support/fake-openai';

const baseURL = fakeOpenAIUrl();
const redisConfig = { UPSTASH_REDIS_REST_URL: inject('upstashUrl'), UPSTASH_REDIS_REST_TOKEN: inject('upstashToken') };

function passage(n: number, content: string, similarity = 0.6): Passage {
  return {
    chunkId: `chunk-${n}`,
    documentId: `doc-${n}`,
    sourceId: 'source-1',
    title: `Help article ${n}`,
    url: `https://help.example.com/${n}`,
    page: null,
    headingPath: [],
    content,
    similarity,
    score: 1 / (60 + n),
  };
}

const PASSAGES = [
  passage(
    1,
    'Refund policy\nRefunds are accepted within 30 days of purchase. Refunds go back to the original payment method. ' +
      'Gift cards cannot be refunded.',
    0.71,
  ),
  passage(2, 'Shipping takes five business days within the country. International shipping takes two weeks.', 0.42),
  passage(3, 'Our support team is open on weekdays from 9 to 5. Call us or write to the help desk.', 0.3),
];
const QUESTION = 'How many days do I have to ask for refunds?';
const MESSAGES = buildPrompt({ persona: 'You are the Acme help assistant.', passages: PASSAGES, question: QUESTION });
const CONTEXT = { question: QUESTION, passages: PASSAGES };

interface Collected {
  text: string;
  deltas: string[];
  result: Awaited<Generation['result']>;
}

async function collect(generation: Generation): Promise<Collected> {
  const deltas: string[] = [];
  for await (const d of generation.deltas) deltas.push(d);
  return { text: deltas.join(''), deltas, result: await generation.result };
}

const openai = (apiKey: string, opts: Partial<OpenAIProviderOptions> = {}) =>
  openaiProvider({ apiKey, baseURL, timeoutMs: 2_000, maxRetries: 2, ...opts });

/** A breaker of its own (unique namespace), so parallel tests never trip each other's. */
const breaker = (opts: Partial<RedisBreakerOptions> = {}) =>
  redisBreaker({
    redis: createRedis(redisConfig),
    target: baseURL,
    namespace: `test-${crypto.randomUUID()}`,
    ...opts,
  });

const resilient = (primary: ChatProvider, opts: Partial<RedisBreakerOptions> = {}) =>
  resilientProvider({ primary, fallback: extractiveProvider({ degraded: true }), breaker: breaker(opts) });

const generate = (provider: ChatProvider, opts: GenerateOptions = {}) =>
  provider.generate(MESSAGES, CONTEXT, opts).then(collect);

const requestsOf = async (key: string): Promise<RecordedRequest[]> => (await recordedRequests(key)).requests;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('openai provider (official SDK against the fake)', () => {
  it('streams the answer as deltas and reports usage and the model', async () => {
    const key = healthyKey();
    const { text, deltas, result } = await generate(openai(key), { model: 'gpt-4.1-mini', temperature: 0.2 });
    expect(text).toContain('Refunds are accepted within 30 days of purchase.');
    expect(deltas.length).toBeGreaterThan(3);
    expect(result).toMatchObject({ model: 'gpt-4.1-mini', degraded: false });
    expect(result.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(result.usage?.completion_tokens).toBe(deltas.length);
    expect(await requestsOf(key)).toMatchObject([
      { path: '/v1/chat/completions', stream: true, model: 'gpt-4.1-mini', outcome: 'ok', messages: MESSAGES.length },
    ]);
  });

  it('uses the default model and honours max tokens', async () => {
    const key = healthyKey();
    const { deltas, result } = await generate(openai(key), { maxTokens: 3 });
    expect(deltas).toHaveLength(3);
    expect(result).toMatchObject({ model: 'gpt-4o-mini', usage: { completion_tokens: 3 } });
  });

  it('retries 429 and 500 before the first token, then streams', async () => {
    const key = await scenarioKey({ failFirst: 2, failWith: [429, 500], only: 'chat' });
    const { text } = await generate(openai(key));
    expect(text).toContain('30 days');
    const log = await requestsOf(key);
    expect(log.map((r) => [r.outcome, r.status])).toEqual([
      ['fault', 429],
      ['fault', 500],
      ['ok', 200],
    ]);
  });

  it('rejects once its retries are spent', async () => {
    const key = await scenarioKey({ failEvery: 1, failWith: [503], only: 'chat' });
    await expect(openai(key, { maxRetries: 1 }).generate(MESSAGES, CONTEXT, {})).rejects.toMatchObject({ status: 503 });
    expect(await requestsOf(key)).toHaveLength(2);
  });

  it('a stream that breaks after some tokens fails from the deltas iterator', async () => {
    const key = await scenarioKey({ dropAfterTokens: 2 });
    const generation = await openai(key).generate(MESSAGES, CONTEXT, {});
    const got: string[] = [];
    const read = async () => {
      for await (const d of generation.deltas) got.push(d);
    };
    await expect(read()).rejects.toBeInstanceOf(ProviderStreamError);
    expect(got).toHaveLength(2);
    await expect(generation.result).rejects.toBeInstanceOf(ProviderStreamError);
    expect(await requestsOf(key)).toHaveLength(1); // Never retried after tokens were sent.
  });

  it('a client disconnect stops the upstream call', async () => {
    const reply = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    const key = await scenarioKey({ ttftMs: 20, tokenDelayMs: 30, reply });
    const client = new AbortController();
    const generation = await openai(key).generate(MESSAGES, CONTEXT, { signal: client.signal });
    let received = 0;
    const read = async () => {
      for await (const _ of generation.deltas) if (++received === 3) client.abort(new Error('client went away'));
    };
    await expect(read()).rejects.toThrow('client went away');
    let record = (await requestsOf(key))[0];
    for (let i = 0; i < 50 && record?.outcome !== 'disconnected'; i++) {
      await sleep(20);
      record = (await requestsOf(key))[0];
    }
    expect(record).toMatchObject({ outcome: 'disconnected', stream: true });
    expect(record?.tokensSent).toBeLessThan(10);
  });
});

describe('resilient provider', () => {
  it('a hanging provider hits the timeout and the answer comes from the passages, degraded', async () => {
    const key = await scenarioKey({ hang: true, only: 'chat' });
    const started = Date.now();
    const { text, deltas, result } = await generate(resilient(openai(key, { timeoutMs: 200, maxRetries: 1 })));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result).toEqual({ model: EXTRACTIVE_MODEL, degraded: true });
    expect(text).toContain('Refunds are accepted within 30 days of purchase. [1]');
    expect(deltas.length).toBeGreaterThan(3);
    expect((await requestsOf(key)).map((r) => r.outcome)).toEqual(['hang', 'hang']);
  });

  it('a provider that answers headers but no token in time falls back too', async () => {
    const key = await scenarioKey({ ttftMs: 3_000 });
    const { result } = await generate(resilient(openai(key, { idleTimeoutMs: 200 })));
    expect(result).toMatchObject({ model: EXTRACTIVE_MODEL, degraded: true });
  });

  it('a request the provider refuses (unknown model) falls back without counting against the breaker', async () => {
    const key = healthyKey();
    const provider = resilient(openai(key), { failureThreshold: 1 });
    expect((await generate(provider, { model: 'no-such-model' })).result.degraded).toBe(true);
    expect((await generate(provider)).result.degraded).toBe(false);
    expect(await requestsOf(key)).toHaveLength(2);
  });

  it('a failure after deltas were sent is reported as an error, not replaced', async () => {
    const key = await scenarioKey({ dropAfterTokens: 3 });
    const generation = await resilient(openai(key)).generate(MESSAGES, CONTEXT, {});
    const got: string[] = [];
    const read = async () => {
      for await (const d of generation.deltas) got.push(d);
    };
    await expect(read()).rejects.toBeInstanceOf(ProviderStreamError);
    expect(got).toHaveLength(3);
  });

  it('the breaker opens after repeated failures, probes once after the cool-down and closes on success', async () => {
    // The first 4 requests fail; the provider is healthy afterwards.
    const key = await scenarioKey({ failFirst: 4, failWith: [500], only: 'chat' });
    const provider = resilient(openai(key, { maxRetries: 0 }), { failureThreshold: 3, cooldownMs: 400 });
    const reached = async () => (await requestsOf(key)).length;

    for (let i = 0; i < 3; i++) expect((await generate(provider)).result.degraded).toBe(true);
    expect(await reached()).toBe(3);
    // Open: answered in degraded mode without calling the provider.
    for (let i = 0; i < 3; i++) expect((await generate(provider)).result.degraded).toBe(true);
    expect(await reached()).toBe(3);

    // Half-open: one probe among concurrent calls; it fails (request 4), so the breaker re-opens.
    await sleep(450);
    const burst = await Promise.all([generate(provider), generate(provider), generate(provider)]);
    expect(burst.every((g) => g.result.degraded)).toBe(true);
    expect(await reached()).toBe(4);
    expect((await generate(provider)).result.degraded).toBe(true);
    expect(await reached()).toBe(4);

    // Next probe succeeds: closed again, every call reaches the provider.
    await sleep(450);
    expect((await generate(provider)).result).toMatchObject({ degraded: false, model: 'gpt-4o-mini' });
    expect((await generate(provider)).result.degraded).toBe(false);
    expect(await reached()).toBe(6);
  });

  it('prepare() asks the breaker ahead; the next generate uses that answer, and release() gives a probe back', async () => {
    const key = await scenarioKey({ failFirst: 1, failWith: [500], only: 'chat' });
    const namespace = `test-${crypto.randomUUID()}`;
    const opts = { namespace, failureThreshold: 1, cooldownMs: 200, cacheMs: 0 };
    const provider = resilient(openai(key, { maxRetries: 0 }), opts);
    expect((await generate(provider)).result.degraded).toBe(true); // opens the breaker
    await sleep(250);

    // Half-open: a prepared permit claims the probe; released unused, another call may probe.
    const unused = resilient(openai(key, { maxRetries: 0 }), opts).prepare!();
    await unused.release();
    const probe = resilient(openai(key, { maxRetries: 0 }), opts);
    const prepared = probe.prepare!();
    expect((await generate(probe)).result).toMatchObject({ degraded: false });
    await prepared.release(); // taken by generate: nothing to give back
    expect(await requestsOf(key)).toHaveLength(2);
  });

  it('the breaker state is shared through Redis, not the isolate', async () => {
    const key = await scenarioKey({ failEvery: 1, failWith: [500], only: 'chat' });
    const namespace = `test-${crypto.randomUUID()}`;
    const tripping = resilient(openai(key, { maxRetries: 0 }), { namespace, failureThreshold: 2 });
    await generate(tripping);
    await generate(tripping);
    // Another breaker object on the same key, with no isolate cache: it reads the open state from Redis.
    const other = resilient(openai(key, { maxRetries: 0 }), { namespace, cacheMs: 0 });
    expect((await generate(other)).result.degraded).toBe(true);
    expect(await requestsOf(key)).toHaveLength(2);
  });

  it('costs one Upstash request per isolate and second while healthy, none while this isolate knows it is open', async () => {
    const stats = async () => {
      const res = await fetch(inject('upstashStatsUrl'), {
        headers: { authorization: `Bearer ${inject('upstashToken')}` },
      });
      return (await res.json<{ requests: number }>()).requests;
    };
    // Parallel test files only add requests: the smallest delta of a few tries is this call's own.
    const cost = async (provider: () => ChatProvider, calls = 1) => {
      let best = Infinity;
      for (let i = 0; i < 5; i++) {
        const p = provider();
        const before = await stats();
        for (let c = 0; c < calls; c++) await generate(p);
        best = Math.min(best, (await stats()) - before);
      }
      return best;
    };
    // A breaker of its own each time: its first call asks Redis, the next ones within a second don't.
    expect(await cost(() => resilient(openai(healthyKey())))).toBe(1);
    expect(await cost(() => resilient(openai(healthyKey())), 4)).toBe(1);
    expect(await cost(() => resilient(openai(healthyKey()), { cacheMs: 0 }), 3)).toBe(3);

    const failing = await scenarioKey({ failEvery: 1, failWith: [500], only: 'chat' });
    const open = resilient(openai(failing, { maxRetries: 0 }), { failureThreshold: 1, cooldownMs: 60_000 });
    await generate(open);
    expect(await cost(() => open)).toBe(0);
  });

  it('lets calls through (fail-open) with a warning when Redis is unreachable', async () => {
    const warn = vi.spyOn(console, 'warn');
    const deadRedis = createRedis({ ...redisConfig, UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1' }, { timeoutMs: 300 });
    const provider = resilientProvider({
      primary: openai(healthyKey()),
      fallback: extractiveProvider({ degraded: true }),
      breaker: redisBreaker({ redis: deadRedis, target: baseURL }),
    });
    const { result, text } = await generate(provider);
    expect(result.degraded).toBe(false);
    expect(text).toContain('30 days');
    const warnings = warn.mock.calls.map(([line]) => String(line)).filter((l) => l.includes('fail-open'));
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    warn.mockRestore();
  });

  it('fault suite: with half the calls failing (500, 429, hangs), every chat gets an answer', async () => {
    const key = await scenarioKey({ failRate: 0.5, failWith: [500, 429, 'hang'], only: 'chat' });
    // Hangs time out after 300 ms; a slow chunk on a loaded machine is not a fault here.
    const provider = resilient(openai(key, { timeoutMs: 300, idleTimeoutMs: 5_000, maxRetries: 1 }), {
      cooldownMs: 300,
    });
    const outcomes: Collected[] = [];
    // Five at a time, like concurrent chats in one isolate.
    for (let batch = 0; batch < 4; batch++) {
      outcomes.push(...(await Promise.all(Array.from({ length: 5 }, () => generate(provider)))));
    }
    expect(outcomes).toHaveLength(20);
    for (const { text } of outcomes) expect(text.trim().length).toBeGreaterThan(10);
    const log = await requestsOf(key);
    expect(log.some((r) => r.outcome === 'fault' || r.outcome === 'hang')).toBe(true);
    expect(log.some((r) => r.outcome === 'ok')).toBe(true);
    const degraded = outcomes.filter((o) => o.result.degraded).length;
    console.log(
      JSON.stringify({ fault_suite: { answers: 20, degraded, model: 20 - degraded, provider_requests: log.length } }),
    );
  });
});

describe('extractive provider', () => {
  it('quotes the matching sentences with citations, streamed in several deltas', async () => {
    const { text, deltas, result } = await generate(extractiveProvider());
    expect(result).toEqual({ model: EXTRACTIVE_MODEL, degraded: false });
    expect(text).toBe('Refunds are accepted within 30 days of purchase. [1]');
    expect(deltas.length).toBeGreaterThan(4);

    const shipping = await extractiveProvider({ degraded: true })
      .generate([], { question: 'How long does international shipping take?', passages: PASSAGES }, {})
      .then(collect);
    expect(shipping.text).toBe(
      'Shipping takes five business days within the country. [2] International shipping takes two weeks. [2]',
    );
    expect(shipping.result.degraded).toBe(true);
  });

  it('says plainly when nothing relevant was found', async () => {
    const unrelated = { question: 'Do you sell garden furniture?', passages: PASSAGES };
    expect((await extractiveProvider().generate([], unrelated, {}).then(collect)).text).toBe(NOT_FOUND_ANSWER);
    const none = { question: QUESTION, passages: [] };
    expect((await extractiveProvider().generate([], none, {}).then(collect)).text).toBe(NOT_FOUND_ANSWER);
  });
});

describe('providerFor', () => {
  const config = { ...redisConfig, ENVIRONMENT: 'development' as const, OPENAI_BASE_URL: baseURL };

  it('without an OpenAI key answers extractively, not degraded (offline dev)', async () => {
    const provider = providerFor({ ...config, OPENAI_API_KEY: undefined });
    expect(provider.name).toBe('local-extractive');
    expect((await generate(provider)).result).toEqual({ model: EXTRACTIVE_MODEL, degraded: false });
  });

  it('with a key generates through OpenAI behind the breaker', async () => {
    const key = healthyKey();
    const provider = providerFor(
      { ...config, OPENAI_API_KEY: key },
      { breaker: { namespace: `test-${crypto.randomUUID()}` } },
    );
    expect(provider.name).toBe('resilient(openai)');
    const { result, text } = await generate(provider);
    expect(result).toMatchObject({ model: 'gpt-4o-mini', degraded: false });
    expect(text).toContain('30 days');
    expect(await requestsOf(key)).toHaveLength(1);
  });
});
