/**
 * Embeddings: the local embedder's vectors, the OpenAI embedder through the official SDK against
 * the fake OpenAI server (batching, order, retries, fallback), and the fake's own wire format —
 * embeddings and chat completions, streamed and not — as the `openai` client sees it.
 */
import OpenAI from 'openai';
import { describe, expect, it, vi } from 'vitest';
import {
  EMBEDDING_DIMENSIONS,
  LOCAL_EMBEDDING_MODEL,
  embedderFor,
  embedWithModel,
  fallbackEmbedder,
  localEmbedder,
  openaiEmbedder,
  planBatches,
  type FallbackEvent,
} from '../src/ai/embeddings';
import { fakeOpenAIUrl, healthyKey, recordedRequests, scenarioKey } from './support/fake-openai';

const dot = (a: number[], b: number[]): number => a.reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);
const norm = (a: number[]): number => Math.sqrt(dot(a, a));

const REFUND =
  'Refund policy: you can request a refund within 30 days of purchase. Refunds are paid back to the original card.';
const SHIPPING = 'Shipping: orders leave our warehouse within two business days and arrive by courier.';

describe('local embedder', () => {
  const local = localEmbedder();

  it('is deterministic, 512-dimensional and unit length, even for texts without words', async () => {
    const texts = [REFUND, SHIPPING, '', '?!', 'Café crème'];
    const [first, second] = [await local.embed(texts), await local.embed(texts)];
    expect(first).toEqual(second);
    expect(local.model).toBe(LOCAL_EMBEDDING_MODEL);
    for (const v of first) {
      expect(v).toHaveLength(EMBEDDING_DIMENSIONS);
      expect(norm(v)).toBeCloseTo(1, 6);
    }
    expect(first[0]).not.toEqual(first[1]);
    const [accented, plain] = await local.embed(['Café crème', 'cafe CREME']);
    expect(accented).toEqual(plain);
  });

  it('puts a question nearer the paragraph that shares its words', async () => {
    const [query, refund, shipping] = await local.embed(['What is your refund policy?', REFUND, SHIPPING]);
    expect(dot(query!, refund!)).toBeGreaterThan(dot(query!, shipping!) + 0.2);
    // Inflections still meet through shared character trigrams.
    const [shipped, refunded] = await local.embed(['When will my order be shipped?', 'Can I get refunded?']);
    expect(dot(shipped!, shipping!)).toBeGreaterThan(dot(shipped!, refund!));
    expect(dot(refunded!, refund!)).toBeGreaterThan(dot(refunded!, shipping!));
  });

  it('is what embedderFor picks without an OpenAI key (blank counts as none)', async () => {
    expect(embedderFor({}).model).toBe(LOCAL_EMBEDDING_MODEL);
    expect(embedderFor({ OPENAI_API_KEY: '  ' }).model).toBe(LOCAL_EMBEDDING_MODEL);
    expect(await embedWithModel(embedderFor({}), ['hello'])).toMatchObject({ model: LOCAL_EMBEDDING_MODEL });
  });
});

describe('OpenAI embedder against the fake OpenAI', () => {
  const baseURL = fakeOpenAIUrl();

  it('embeds through the SDK default (base64) at 512 dimensions', async () => {
    const apiKey = healthyKey();
    const embedder = openaiEmbedder({ apiKey, baseURL });
    const vectors = await embedder.embed(['What is your refund policy?', REFUND, SHIPPING]);
    expect(vectors).toHaveLength(3);
    for (const v of vectors) {
      expect(v).toHaveLength(512);
      expect(norm(v)).toBeCloseTo(1, 4);
    }
    expect(dot(vectors[0]!, vectors[1]!)).toBeGreaterThan(dot(vectors[0]!, vectors[2]!));
    const { requests } = await recordedRequests(apiKey);
    expect(requests).toEqual([
      expect.objectContaining({
        path: '/v1/embeddings',
        status: 200,
        model: 'text-embedding-3-small',
        inputs: 3,
        dimensions: 512,
        encodingFormat: 'base64',
      }),
    ]);
    expect(await embedder.embed([])).toEqual([]);
  });

  it('splits inputs into requests within the limits and returns vectors in input order', async () => {
    const texts = Array.from({ length: 10 }, (_, i) => `chunk number ${i} about topic ${i * 7}`);
    const apiKey = healthyKey();
    const batched = await openaiEmbedder({ apiKey, baseURL, maxBatchSize: 4 }).embed(texts);
    const one = openaiEmbedder({ apiKey: healthyKey(), baseURL });
    const singles = await Promise.all(texts.map(async (t) => (await one.embed([t]))[0]));
    expect(batched).toEqual(singles);
    const sizes = (await recordedRequests(apiKey)).requests.map((r) => r.inputs);
    expect(sizes.sort()).toEqual([2, 4, 4]);

    // Over OpenAI's 2,048 inputs per request, even when asked for bigger batches.
    const many = Array.from({ length: 2050 }, (_, i) => `t${i}`);
    const manyKey = healthyKey();
    expect(await openaiEmbedder({ apiKey: manyKey, baseURL, maxBatchSize: 5000 }).embed(many)).toHaveLength(2050);
    expect((await recordedRequests(manyKey)).requests.map((r) => r.inputs).sort()).toEqual([2, 2048]);

    // By estimated tokens: 150 ASCII characters count as 50 tokens.
    expect(planBatches(Array(5).fill('x'.repeat(150)), 100, 100)).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
  });

  it('runs at most 4 requests at once', async () => {
    const apiKey = await scenarioKey({ latencyMs: 100 });
    const texts = Array.from({ length: 12 }, (_, i) => `text ${i}`);
    const vectors = await openaiEmbedder({ apiKey, baseURL, maxBatchSize: 1 }).embed(texts);
    expect(vectors).toEqual(await openaiEmbedder({ apiKey: healthyKey(), baseURL }).embed(texts));
    const log = await recordedRequests(apiKey);
    expect(log.requests).toHaveLength(12);
    expect(log.maxInFlight).toBeLessThanOrEqual(4);
    expect(log.maxInFlight).toBeGreaterThan(1);
  });

  it('retries 429 and 500 answers, then succeeds', async () => {
    const apiKey = await scenarioKey({ failFirst: 2, failWith: [429, 500], retryAfterMs: 0 });
    const onFallback = vi.fn();
    const embedder = fallbackEmbedder(openaiEmbedder({ apiKey, baseURL, maxRetries: 2 }), localEmbedder(), onFallback);
    const result = await embedWithModel(embedder, [REFUND]);
    expect(result.model).toBe('text-embedding-3-small');
    expect(onFallback).not.toHaveBeenCalled();
    const { requests } = await recordedRequests(apiKey);
    expect(requests.map((r) => [r.status, r.outcome])).toEqual([
      [429, 'fault'],
      [500, 'fault'],
      [200, 'ok'],
    ]);
  });

  it('falls back to the local embedder when the provider is down, and reports it', async () => {
    const apiKey = await scenarioKey({ failEvery: 1, failWith: [503], retryAfterMs: 0 });
    const events: FallbackEvent[] = [];
    const embedder = fallbackEmbedder(openaiEmbedder({ apiKey, baseURL, maxRetries: 1 }), localEmbedder(), (e) =>
      events.push(e),
    );
    expect(embedder.model).toBe('text-embedding-3-small');
    const result = await embedWithModel(embedder, [REFUND, SHIPPING]);
    expect(result.model).toBe(LOCAL_EMBEDDING_MODEL);
    expect(result.vectors).toEqual(await localEmbedder().embed([REFUND, SHIPPING]));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      primaryModel: 'text-embedding-3-small',
      fallbackModel: LOCAL_EMBEDDING_MODEL,
      count: 2,
    });
    expect(events[0]?.error).toBeInstanceOf(OpenAI.APIError);
    expect((events[0]?.error as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((await recordedRequests(apiKey)).requests.map((r) => r.status)).toEqual([503, 503]);
  });

  it('falls back when the provider hangs past the timeout, but not when the caller aborts', async () => {
    const apiKey = await scenarioKey({ hang: true });
    const onFallback = vi.fn();
    const embedder = fallbackEmbedder(
      openaiEmbedder({ apiKey, baseURL, timeoutMs: 200, maxRetries: 0 }),
      localEmbedder(),
      onFallback,
    );
    expect((await embedWithModel(embedder, ['hello'])).model).toBe(LOCAL_EMBEDDING_MODEL);
    expect(onFallback.mock.calls[0]?.[0].error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);

    const slow = fallbackEmbedder(openaiEmbedder({ apiKey, baseURL, timeoutMs: 5000 }), localEmbedder(), onFallback);
    await expect(slow.embed(['hello'], { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect((await recordedRequests(apiKey)).requests.every((r) => r.outcome === 'hang')).toBe(true);
  });

  it('embedderFor uses OpenAI with the configured model, and falls back on a rejected key', async () => {
    const large = embedderFor({
      OPENAI_API_KEY: healthyKey(),
      OPENAI_BASE_URL: baseURL,
      OPENAI_EMBEDDING_MODEL: 'text-embedding-3-large',
    });
    const result = await embedWithModel(large, ['hello']);
    expect(result).toMatchObject({ model: 'text-embedding-3-large' });
    expect(result.vectors[0]).toHaveLength(512);

    const onFallback = vi.fn();
    const wrong = embedderFor({ OPENAI_API_KEY: 'sk-wrong-key', OPENAI_BASE_URL: baseURL }, { onFallback });
    expect((await embedWithModel(wrong, ['hello'])).model).toBe(LOCAL_EMBEDDING_MODEL);
    expect(onFallback.mock.calls[0]?.[0].error).toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
