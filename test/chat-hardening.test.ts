/**
 * The turn's edges: a model that fails mid-answer still yields an answer (never a 5xx), the
 * OpenAI-compatible API continues conversations and respects the project's caps, answers to
 * requests carrying client history are never cached, a secret key acting for an end user meets
 * that end user's limits, and owners see the questions their knowledge could not answer.
 */
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { chatter, readEvents, type ChatAnswer } from './support/chat';
import { fakeOpenAIUrl, healthyKey, recordedRequests, scenarioKey } from './support/fake-openai';
import { call, callWithEnv, expectEnvelope } from './support/http';
import { auth, createTenant, openSession, postJson, type Tenant } from './support/tenants';
import { parleyOpenAI } from './support/openai-client';

/**
 * The fake OpenAI server on a lane of this file's own: the circuit breaker is keyed by base URL
 * and shared through Redis, so this file's failures never open another file's breaker.
 */
const baseUrl = () => fakeOpenAIUrl('chat-hardening');
const withModel = (key: string) => ({ OPENAI_API_KEY: key, OPENAI_BASE_URL: baseUrl(), OPENAI_TIMEOUT_MS: '2000' });

const from = (t: Tenant) => ({ 'cf-connecting-ip': `2001:db8::${t.userId.slice(0, 4)}:${t.userId.slice(4, 8)}` });

describe('a model that fails mid-answer', () => {
  it('JSON: answers 200 from the knowledge, marked degraded, instead of a 5xx', async () => {
    const { token } = await chatter();
    const key = await scenarioKey({ only: 'chat', dropAfterTokens: 3 });
    const res = await callWithEnv(
      withModel(key),
      '/api/v1/chat',
      postJson(token, { message: 'Can I return an item?' }),
    );
    expect(res.status).toBe(200);
    const body = await res.json<ChatAnswer>();
    expect(body.message.degraded).toBe(true);
    expect(body.message.content).toContain('30 days');
    expect(body.message.citations.length).toBeGreaterThan(0);
    expect((await recordedRequests(key)).requests.some((r) => r.outcome === 'dropped')).toBe(true);
  });

  it('SSE: keeps what was streamed, continues from the knowledge and ends with done, not error', async () => {
    const { token } = await chatter();
    const key = await scenarioKey({ only: 'chat', dropAfterTokens: 3 });
    const res = await callWithEnv(
      withModel(key),
      '/api/v1/chat',
      postJson(token, { message: 'How long does delivery take?', stream: true }),
    );
    const events = await readEvents(res);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('meta');
    expect(names).not.toContain('error');
    expect(names.at(-1)).toBe('done');
    expect(events.at(-1)?.data).toMatchObject({ degraded: true });
    const text = events
      .filter((e) => e.event === 'delta')
      .map((e) => String(e.data.text))
      .join('');
    expect(text).toContain('three to five');
  });
});

describe('the SSE event sequence', () => {
  it('is the same for replies that cite nothing: meta, delta…, citations (empty), done', async () => {
    const { token } = await chatter();
    for (const message of ['Hello', 'I want to talk to a human']) {
      const events = await readEvents(await call('/api/v1/chat', postJson(token, { message, stream: true })));
      const names = events.map((e) => e.event);
      expect(names[0]).toBe('meta');
      expect(names.slice(-2)).toEqual(['citations', 'done']);
      expect(names.slice(1, -2).every((n) => n === 'delta')).toBe(true);
      expect(events.at(-2)?.data).toEqual({ citations: [] });
    }
  });
});

const openai = parleyOpenAI;

interface Parley {
  parley: { conversation_id: string; handoff: boolean; ticket_id?: string };
}

describe('OpenAI-compatible API', () => {
  it('continues a conversation given conversation_id: its handoff holds across calls', async () => {
    const { token } = await chatter();
    const client = openai(token);
    const create = (content: string, conversation_id?: string) =>
      client.chat.completions.create({
        model: 'parley',
        messages: [{ role: 'user', content }],
        ...(conversation_id ? { conversation_id } : {}),
      } as OpenAI.ChatCompletionCreateParamsNonStreaming) as unknown as Promise<OpenAI.ChatCompletion & Parley>;
    const first = await create('Can I return an item?');
    const id = first.parley.conversation_id;
    const escalated = await create('I want to talk to a human', id);
    expect(escalated.parley).toMatchObject({ conversation_id: id, handoff: true });
    expect(escalated.parley.ticket_id).toBeTruthy();
    const next = await create('How long does delivery take?', id);
    expect(next.parley).toMatchObject({ conversation_id: id, handoff: true });
    expect(next.choices[0]?.message.content).toContain('a person from our team has this conversation');
    await expect(create('Hello?', crypto.randomUUID())).rejects.toMatchObject({ status: 404 });
  });

  it("never answers longer than the project's max_tokens, whatever the request asks", async () => {
    const { tenant } = await chatter({ project: { settings: { max_tokens: 16 } } });
    const session = (await openSession(tenant)).body!.token;
    const long = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const key = await scenarioKey({ only: 'chat', reply: long });
    const res = await callWithEnv(
      withModel(key),
      '/v1/chat/completions',
      postJson(session, { model: 'parley', max_tokens: 4000, messages: [{ role: 'user', content: 'Returns?' }] }),
    );
    expect(res.status).toBe(200);
    const body = await res.json<{
      usage: { completion_tokens: number };
      choices: { message: { content: string } }[];
    }>();
    expect(body.usage.completion_tokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(16);
    expect(body.choices[0]?.message.content).not.toContain('word20');
  });

  it('caches first-turn answers but never one that depended on client-sent history', async () => {
    const { token } = await chatter();
    const key = healthyKey();
    const completions = async () =>
      (await recordedRequests(key)).requests.filter((r) => r.path.endsWith('/chat/completions')).length;
    const ask = (messages: { role: string; content: string }[]) =>
      callWithEnv(withModel(key), '/v1/chat/completions', postJson(token, { model: 'parley', messages }));
    const question = { role: 'user', content: 'How long does standard delivery take?' };
    expect((await ask([question])).status).toBe(200);
    const afterFirst = await completions();
    expect(afterFirst).toBeGreaterThan(0);
    expect((await ask([question])).status).toBe(200);
    expect(await completions()).toBe(afterFirst);
    const withHistory = [
      { role: 'user', content: 'I live abroad.' },
      { role: 'assistant', content: 'Noted.' },
      question,
    ];
    expect((await ask(withHistory)).status).toBe(200);
    expect(await completions()).toBeGreaterThan(afterFirst);
  });
});

describe('limits of an end user a secret key acts for', () => {
  it("applies the project's per-end-user limit to the user_id, per user", async () => {
    const tenant = await createTenant({ settings: { rate_limits: { end_user: { per_minute: 2 } } } });
    const chat = (user_id: string) => call('/api/v1/chat', postJson(tenant.secretKey, { message: 'Hello', user_id }));
    const user = `customer-${crypto.randomUUID()}`;
    expect((await chat(user)).status).toBe(200);
    expect((await chat(user)).status).toBe(200);
    const limited = await chat(user);
    await expectEnvelope(limited, 429, 'rate_limited');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await chat(`customer-${crypto.randomUUID()}`)).status).toBe(200);
  });
});

describe('questions the knowledge could not answer', () => {
  it('lists poorly grounded answers with their questions, to owners of the project only', async () => {
    const { tenant, token } = await chatter();
    for (const message of ['Can I return an item?', 'Do you sell gift cards for hamsters?']) {
      expect((await call('/api/v1/chat', postJson(token, { message }))).status).toBe(200);
    }
    const path = `/api/v1/projects/${tenant.projectId}/insights/low-grounding`;
    const res = await call(path, { headers: auth(tenant.owner, from(tenant)) });
    expect(res.status).toBe(200);
    const body = await res.json<{ data: { question: string; grounding: number }[]; next_cursor: string | null }>();
    expect(body.data.map((d) => d.question)).toEqual(['Do you sell gift cards for hamsters?']);
    expect(body.data[0]?.grounding).toBeLessThan(0.25);
    // Everything below 1 includes the well-answered question too.
    const all = await call(`${path}?below=1`, { headers: auth(tenant.owner, from(tenant)) });
    expect((await all.json<{ data: unknown[] }>()).data).toHaveLength(2);

    const other = await createTenant();
    await expectEnvelope(await call(path, { headers: auth(other.owner, from(other)) }), 404, 'not_found');
    await expectEnvelope(await call(path, { headers: auth(token) }), 403, 'forbidden');
    await expectEnvelope(
      await call(`${path}?below=2`, { headers: auth(tenant.owner, from(tenant)) }),
      400,
      'validation_failed',
    );
  });
});
