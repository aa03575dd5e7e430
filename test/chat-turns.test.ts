/**
 * Turn branches end to end: SSE by Accept header, the bot answering during a handoff when the
 * project allows it, a human offered after repeated unanswered questions, the rolling summary,
 * the model's classification and query rewriting, and the end user's own conversation list.
 */
import { describe, expect, it } from 'vitest';
import { ask, chatter, readEvents } from './support/chat';
import { fakeOpenAIUrl, healthyKey, recordedRequests, scenarioKey } from './support/fake-openai';
import { call, callWithEnv, testSql } from './support/http';
import { auth, openSession, postJson } from './support/tenants';

const withModel = (key: string) => ({
  OPENAI_API_KEY: key,
  OPENAI_BASE_URL: fakeOpenAIUrl('chat-turns'),
});

describe('chat turns', () => {
  it('streams when the client asks with Accept: text/event-stream', async () => {
    const { token } = await chatter();
    const res = await call(
      '/api/v1/chat',
      postJson(token, { message: 'Can I return an item?' }, { accept: 'text/event-stream' }),
    );
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const names = (await readEvents(res)).map((e) => e.event);
    expect(names[0]).toBe('meta');
    expect(names.at(-1)).toBe('done');
  });

  it('keeps answering during a handoff when the project allows it', async () => {
    const { token } = await chatter({ project: { settings: { answer_during_handoff: true } } });
    const first = await ask(token, { message: 'I want to talk to a human' });
    expect(first.answer?.handoff).toBe(true);
    const next = await ask(token, { message: 'Can I return an item?', conversation_id: first.answer?.conversation_id });
    expect(next.answer?.message.content).toContain('30 days');
  });

  it('offers a person after repeated questions the knowledge cannot answer', async () => {
    const { token } = await chatter();
    const first = await ask(token, { message: 'Do you sell gift cards for hamsters?' });
    const conversation_id = first.answer?.conversation_id;
    const second = await ask(token, { message: 'Is there a loyalty programme for parrots?', conversation_id });
    expect(second.answer?.message.grounding).toBeLessThan(0.25);
    expect(second.answer?.message.content).toContain('talk to a human');
  });

  it('folds older turns into a rolling summary stored on the conversation', async () => {
    const { token } = await chatter();
    let conversation_id: string | undefined;
    for (let i = 0; i < 6; i++) {
      const { answer } = await ask(token, {
        message: `Question ${i}: how long does standard delivery take?`,
        conversation_id,
      });
      conversation_id = answer?.conversation_id;
    }
    const sql = testSql();
    const [row] = await sql<{ summary: string | null; summarized_through: number }[]>`
      select summary, summarized_through from conversations where id = ${conversation_id!}`;
    await sql.end();
    expect(row?.summarized_through).toBeGreaterThan(0);
    expect(row?.summary).toContain('Question 0');
  });

  it('lets the end user list and delete their own conversations', async () => {
    const { tenant, token } = await chatter();
    const a = await ask(token, { message: 'Can I return an item?' });
    const b = await ask(token, { message: 'How long does delivery take?' });
    const other = (await openSession(tenant)).body!.token;
    await ask(other, { message: 'Hello' });
    const list = await call('/api/v1/conversations', { headers: auth(token) });
    const ids = (await list.json<{ data: { id: string }[] }>()).data.map((c) => c.id);
    expect(ids.sort()).toEqual([a.answer!.conversation_id, b.answer!.conversation_id].sort());
    const gone = await call(`/api/v1/conversations/${a.answer!.conversation_id}`, {
      method: 'DELETE',
      headers: auth(token),
    });
    expect(gone.status).toBe(204);
    expect((await call(`/api/v1/conversations/${a.answer!.conversation_id}`, { headers: auth(token) })).status).toBe(
      404,
    );
  });
});

describe('with a model', () => {
  it('hands a message over when the model classifies it as a complaint (rules saw a question)', async () => {
    const { tenant, token } = await chatter({ project: { settings: { classify_with_model: true } } });
    const key = await scenarioKey({ only: 'chat', reply: 'complaint' });
    const res = await callWithEnv(
      withModel(key),
      '/api/v1/chat',
      postJson(token, { message: 'My parcel came two weeks late' }),
    );
    const body = await res.json<{ handoff: boolean; ticket_id?: string }>();
    expect(body.handoff).toBe(true);
    expect(body.ticket_id).toBeTruthy();
    // The classification call's tokens count toward the day's usage (and so the budget).
    const sql = testSql();
    const [usage] = await sql<{ prompt_tokens: number; completion_tokens: number }[]>`
      select prompt_tokens::int, completion_tokens::int from usage_daily where project_id = ${tenant.projectId}`;
    await sql.end();
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
  });

  it('rewrites a follow-up into a standalone query with one short model call before answering', async () => {
    const { token } = await chatter();
    const key = healthyKey();
    const chats = async () =>
      (await recordedRequests(key)).requests.filter((r) => r.path.endsWith('/chat/completions'));
    const first = await callWithEnv(
      withModel(key),
      '/api/v1/chat',
      postJson(token, { message: 'How long does standard delivery take?' }),
    );
    const conversation_id = (await first.json<{ conversation_id: string }>()).conversation_id;
    const before = (await chats()).length;
    const follow = await callWithEnv(
      withModel(key),
      '/api/v1/chat',
      postJson(token, { message: 'And what about returns?', conversation_id }),
    );
    expect(follow.status).toBe(200);
    const calls = await chats();
    expect(calls.length).toBe(before + 2);
    // The rewrite is a single user message; the answer carries the system prompt, passages and history.
    expect(calls.at(-2)?.messages).toBe(1);
    expect(calls.at(-1)?.messages).toBeGreaterThan(3);
  });
});
