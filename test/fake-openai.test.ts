/**
 * The fake OpenAI server's wire format, proven through the official `openai` client and raw
 * HTTP: embeddings (shape, encodings, validation, auth) and chat completions, streamed and not,
 * with grounded answers, delays, disconnects and injected errors — what the chat code relies on.
 */
import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { fakeOpenAIUrl, healthyKey, recordedRequests, scenarioKey } from './support/fake-openai';

const baseURL = fakeOpenAIUrl();
const client = (apiKey = healthyKey(), maxRetries = 0) => new OpenAI({ apiKey, baseURL, maxRetries });
const post = (path: string, body: unknown, key: string | null = healthyKey()) =>
  fetch(`${baseURL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });

const CONTEXT =
  'Answer from the context below.\n' +
  'Context: Refunds are accepted within 30 days of purchase. Shipping takes five business days. ' +
  'Support is open on weekdays.';
const ASK: ChatCompletionMessageParam[] = [
  { role: 'system', content: CONTEXT },
  { role: 'user', content: 'How many days do I have to ask for refunds?' },
];

describe('fake OpenAI: embeddings wire format', () => {
  it('answers in the exact shape, as floats or as base64 Float32 LE', async () => {
    const res = await post('/embeddings', {
      model: 'text-embedding-3-small',
      input: ['a b', 'c'],
      dimensions: 8,
      encoding_format: 'float',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const body = await res.json<{ data: Array<{ embedding: number[] }> }>();
    expect(Object.keys(body).sort()).toEqual(['data', 'model', 'object', 'usage']);
    expect(body).toMatchObject({
      object: 'list',
      model: 'text-embedding-3-small',
      usage: { prompt_tokens: 2, total_tokens: 2 },
    });
    expect(body.data.map((d) => Object.keys(d).sort())).toEqual([
      ['embedding', 'index', 'object'],
      ['embedding', 'index', 'object'],
    ]);
    expect(body.data[0]).toMatchObject({ object: 'embedding', index: 0 });

    const b64 = await client().embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a b', 'c'],
      dimensions: 8,
      encoding_format: 'base64',
    });
    const bytes = Uint8Array.from(atob(b64.data[0]!.embedding as unknown as string), (c) => c.charCodeAt(0));
    const floats = Array.from(new Float32Array(bytes.buffer));
    expect(floats).toEqual(body.data[0]!.embedding);
    const native = await client().embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    expect(native.data[0]!.embedding).toHaveLength(1536);
  });

  it('rejects what OpenAI rejects, in its error format', async () => {
    const cases: Array<[unknown, number, string | null]> = [
      [{ input: 'x' }, 400, null],
      [{ model: 'text-embedding-3-small', input: [] }, 400, 'input'],
      [{ model: 'text-embedding-3-small', input: '' }, 400, 'input'],
      [{ model: 'text-embedding-3-small', input: Array(2049).fill('x') }, 400, 'input'],
      [{ model: 'text-embedding-ada-002', input: 'x', dimensions: 512 }, 400, 'dimensions'],
      [{ model: 'text-embedding-3-small', input: 'x', encoding_format: 'hex' }, 400, 'encoding_format'],
      [{ model: 'no-such-model', input: 'x' }, 404, null],
    ];
    for (const [body, status, param] of cases) {
      const res = await post('/embeddings', body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      const { error } = await res.json<{ error: Record<string, unknown> }>();
      expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
      expect(error.param).toBe(param);
    }
    const noKey = await post('/embeddings', { model: 'text-embedding-3-small', input: 'x' }, null);
    expect(noKey.status).toBe(401);
    await expect(
      client('sk-wrong').embeddings.create({ model: 'text-embedding-3-small', input: 'x' }),
    ).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
    const models = await client().models.list();
    expect(models.data.map((m) => m.id)).toContain('text-embedding-3-small');
  });
});

describe('fake OpenAI: chat completions through the openai client', () => {
  it('answers non-streaming with the context sentence that matches the question', async () => {
    const completion = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: ASK });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      finish_reason: 'stop',
      message: { role: 'assistant', content: 'Context: Refunds are accepted within 30 days of purchase.' },
    });
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
    const unrelated = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Who won the match?' }],
    });
    expect(unrelated.choices[0]?.message.content).toBe("I don't know.");
  });

  it('streams a role chunk, content deltas, a finish chunk and a usage chunk', async () => {
    const stream = await client().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: ASK,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0]?.id)).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('Context: Refunds are accepted within 30 days of purchase.');
    const withChoices = chunks.filter((c) => c.choices.length > 0);
    expect(withChoices.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(withChoices.length - 2);

    const limited = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: ASK, max_tokens: 2 });
    expect(limited.choices[0]).toMatchObject({ finish_reason: 'length', message: { content: 'Context: Refunds' } });
  });

  it('paces tokens and stops streaming when the client goes away', async () => {
    const reply = Array.from({ length: 30 }, (_, i) => `word${i}`).join(' ');
    const apiKey = await scenarioKey({ ttftMs: 50, tokenDelayMs: 40, reply });
    const stream = await client(apiKey).chat.completions.create({ model: 'gpt-4o-mini', messages: ASK, stream: true });
    const started = Date.now();
    let received = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) received++;
      if (received === 3) break; // Leaving the loop aborts the request.
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    let record = (await recordedRequests(apiKey)).requests[0];
    for (let i = 0; i < 50 && record?.outcome !== 'disconnected'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      record = (await recordedRequests(apiKey)).requests[0];
    }
    expect(record).toMatchObject({ outcome: 'disconnected', stream: true });
    expect(record?.tokensSent).toBeLessThan(10);
  });

  it('answers injected faults as OpenAI does, and can drop a stream midway', async () => {
    const limited = await scenarioKey({ failEvery: 1, failWith: [429], retryAfterMs: 1500, only: 'chat' });
    const err = await client(limited)
      .chat.completions.create({ model: 'gpt-4o-mini', messages: ASK })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const rate = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rate.code).toBe('rate_limit_exceeded');
    expect(rate.headers.get('retry-after')).toBe('2');
    expect(rate.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(
      (await client(limited).embeddings.create({ model: 'text-embedding-3-small', input: 'x' })).data,
    ).toHaveLength(1);

    const dropping = await scenarioKey({ dropAfterTokens: 2 });
    const stream = await client(dropping).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: ASK,
      stream: true,
    });
    const read = async () => {
      for await (const _ of stream) void _;
    };
    await expect(read()).rejects.toThrow();
    expect((await recordedRequests(dropping)).requests[0]).toMatchObject({ outcome: 'dropped', tokensSent: 2 });
  });
});
