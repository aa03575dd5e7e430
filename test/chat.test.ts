import { afterAll, describe, expect, it } from 'vitest';
import { ask, readEvents } from './support/chat';
import { call, expectEnvelope, testSql } from './support/http';
import { addSource, settled } from './support/sources';
import { auth, createTenant, openSession, postJson, type Tenant } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

const KNOWLEDGE = `# Refunds

Refunds are issued within 14 days of purchase when the item is unused. Keep your receipt.

# Shipping

Orders ship within 2 business days. Express shipping arrives the next day.

# Warranty

Every device has a two-year warranty covering manufacturing defects.`;

async function tenantWithKnowledge(): Promise<{ tenant: Tenant; token: string; sourceId: string }> {
  const tenant = await createTenant();
  const sourceId = await addSource(tenant, { type: 'text', title: 'Help centre', content: KNOWLEDGE });
  await settled(tenant, sourceId);
  const session = await openSession(tenant);
  return { tenant, token: session.body!.token, sourceId };
}

describe('POST /api/v1/chat (no OpenAI key: the local extractive provider)', () => {
  it('answers a question from the knowledge with a citation, as JSON', async () => {
    const { token, sourceId } = await tenantWithKnowledge();
    const { res, answer } = await ask(token, { message: 'How long do refunds take?' });
    expect(res.status).toBe(200);
    expect(answer?.message.content).toContain('14 days');
    expect(answer?.message.citations[0]).toMatchObject({ source_id: sourceId, title: 'Help centre' });
    expect(answer?.message.grounding).toBeGreaterThan(0.3);
    expect(answer?.handoff).toBe(false);
  });

  it('streams meta, deltas, citations and done as Server-Sent Events', async () => {
    const { token } = await tenantWithKnowledge();
    const res = await call('/api/v1/chat', postJson(token, { message: 'When do orders ship?', stream: true }));
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await readEvents(res);
    const names = events.map((e) => e.event);
    expect(names[0]).toBe('meta');
    expect(names.filter((n) => n === 'delta').length).toBeGreaterThan(1);
    expect(names.slice(-2)).toEqual(['citations', 'done']);
    const text = events
      .filter((e) => e.event === 'delta')
      .map((e) => e.data.text)
      .join('');
    expect(text).toContain('2 business days');
    const meta = events[0]!.data as { conversation_id: string; message_id: string };
    const stored = await sql`select content from messages where id = ${meta.message_id}`;
    expect(stored[0]?.content).toBe(text);
  });

  it('a follow-up continues the conversation and the history is readable', async () => {
    const { token } = await tenantWithKnowledge();
    const first = await ask(token, { message: 'What does the warranty cover?' });
    const second = await ask(token, {
      message: 'How long does it last?',
      conversation_id: first.answer!.conversation_id,
    });
    expect(second.answer?.conversation_id).toBe(first.answer?.conversation_id);
    expect(second.answer?.message.content.toLowerCase()).toContain('two-year');
    const read = await call(`/api/v1/conversations/${first.answer!.conversation_id}`, { headers: auth(token) });
    const conversation = await read.json<{ messages: { role: string }[] }>();
    expect(conversation.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });

  it('"I want to talk to a human" opens a ticket the owner sees and can answer', async () => {
    const { tenant, token } = await tenantWithKnowledge();
    const { answer } = await ask(token, { message: 'I want to talk to a human' });
    expect(answer?.handoff).toBe(true);
    expect(answer?.ticket_id).toBeDefined();
    const tickets = await call(`/api/v1/projects/${tenant.projectId}/tickets`, { headers: auth(tenant.owner) });
    expect((await tickets.json<{ data: { id: string }[] }>()).data.map((t) => t.id)).toContain(answer!.ticket_id);
    const reply = await call(
      `/api/v1/projects/${tenant.projectId}/tickets/${answer!.ticket_id}/messages`,
      postJson(tenant.owner, { content: 'Hi, this is Sam from support.' }),
    );
    expect(reply.status).toBe(201);
    // While a person has the conversation, the bot does not answer over them.
    const next = await ask(token, { message: 'How long do refunds take?', conversation_id: answer!.conversation_id });
    expect(next.answer?.handoff).toBe(true);
    expect(next.answer?.message.content).not.toContain('14 days');
    const read = await call(`/api/v1/conversations/${answer!.conversation_id}`, { headers: auth(token) });
    expect(
      (await read.json<{ messages: { role: string; content: string }[] }>()).messages.some(
        (m) => m.role === 'agent' && m.content.includes('Sam'),
      ),
    ).toBe(true);
  });

  it('serves a repeated first-turn question from the cache until the knowledge changes', async () => {
    const { tenant, token, sourceId } = await tenantWithKnowledge();
    // Letters only: four digits in a row would make the question "personal" (never cached).
    const tag = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => String.fromCharCode(97 + (b % 26))).join(
      '',
    );
    const question = `Is there an express shipping option ${tag}?`;
    await ask(token, { message: question });
    const other = (await openSession(tenant)).body!.token;
    await ask(other, { message: question });
    const rows = await sql<
      { cached: boolean }[]
    >`select cached from messages where project_id = ${tenant.projectId} and role = 'assistant' order by created_at`;
    expect(rows.map((r) => r.cached)).toEqual([false, true]);
    // A knowledge change (re-sync with new content) makes the cached answer unreachable.
    await sql`update projects set knowledge_version = knowledge_version + 1 where id = ${tenant.projectId}`;
    await ask(other, { message: question });
    const after = await sql<
      { cached: boolean }[]
    >`select cached from messages where project_id = ${tenant.projectId} and role = 'assistant' order by created_at`;
    expect(after.map((r) => r.cached)).toEqual([false, true, false]);
    expect(sourceId).toBeDefined();
  });

  it('refuses bad input and foreign conversations with the envelope', async () => {
    const { tenant, token } = await tenantWithKnowledge();
    await expectEnvelope((await ask(token, { message: '' })).res, 400, 'validation_failed');
    await expectEnvelope((await ask(token, { message: 'x'.repeat(4001) })).res, 400, 'validation_failed');
    await expectEnvelope(
      (await ask(token, { message: 'hi', conversation_id: crypto.randomUUID() })).res,
      404,
      'not_found',
    );
    const first = await ask(token, { message: 'When do orders ship?' });
    const stranger = (await openSession(tenant)).body!.token;
    await expectEnvelope(
      (await ask(stranger, { message: 'hi', conversation_id: first.answer!.conversation_id })).res,
      404,
      'not_found',
    );
    await expectEnvelope((await ask(tenant.publishableKey, { message: 'hi' })).res, 403, 'forbidden');
    await expectEnvelope((await ask(tenant.secretKey, { message: 'hi' })).res, 400, 'validation_failed');
    const viaKey = await ask(tenant.secretKey, { message: 'When do orders ship?', user_id: 'customer-42' });
    expect(viaKey.res.status).toBe(200);
  });

  it('records feedback and enforces the daily token budget', async () => {
    const { tenant, token } = await tenantWithKnowledge();
    const { answer } = await ask(token, { message: 'How long do refunds take?' });
    const fb = await call(
      `/api/v1/conversations/${answer!.conversation_id}/messages/${answer!.message.id}/feedback`,
      postJson(token, { rating: 'down', comment: 'too short' }),
    );
    expect(fb.status).toBe(200);
    await call(`/api/v1/projects/${tenant.projectId}`, {
      method: 'PATCH',
      headers: { ...auth(tenant.owner), 'content-type': 'application/json' },
      body: JSON.stringify({ settings: { daily_token_budget: 10 } }),
    });
    await sql`insert into usage_daily (project_id, day, turns, prompt_tokens, completion_tokens) values (${tenant.projectId}, (now() at time zone 'utc')::date, 1, 10, 5)
              on conflict (project_id, day) do update set prompt_tokens = 10, completion_tokens = 5`;
    const stored = async () =>
      (await sql<{ n: number }[]>`select count(*)::int as n from messages where project_id = ${tenant.projectId}`)[0]!
        .n;
    const before = await stored();
    const res = (await ask(token, { message: 'How long do refunds take?' })).res;
    await expectEnvelope(res, 429, 'budget_exceeded');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    // Refused before anything is written: no conversation, no message, new or continued.
    const next = await ask(token, { message: 'And shipping?', conversation_id: answer!.conversation_id });
    await expectEnvelope(next.res, 429, 'budget_exceeded');
    expect(await stored()).toBe(before);
  });
});
