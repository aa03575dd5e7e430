/**
 * Tickets and the project's conversations, for the project's people. Conversations and tickets
 * are made with the domain functions (the chat endpoint is not needed for that) for an end user
 * of a fresh tenant; the owner routes are then exercised through the Worker.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { appendMessage, createConversation, findConversation } from '../src/chat/store';
import { openTicket } from '../src/chat/tickets';
import type { Priority } from '../src/chat/types';
import { call, expectEnvelope, testSql } from './support/http';
import { auth, createTenant, openSession, ownerToken, postJson, type Tenant } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

interface Ticket {
  id: string;
  conversation_id: string;
  status: string;
  priority: string;
  reason: string;
  assignee_id: string | null;
  resolved_at: string | null;
}
interface Message {
  id: string;
  role: string;
  content: string;
  author_id: string | null;
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

// Each tenant's owner calls from its own address, so the suite never draws on the shared
// per-IP owner limit of "local".
const from = (userId: string) => ({ 'cf-connecting-ip': `2001:db8::${userId.slice(0, 4)}:${userId.slice(4, 8)}` });
const get = (t: Tenant, path: string, token = t.owner) =>
  call(`/api/v1/projects/${t.projectId}${path}`, { headers: auth(token, from(t.userId)) });
const patch = (t: Tenant, path: string, body: unknown, token = t.owner) =>
  call(`/api/v1/projects/${t.projectId}${path}`, { ...postJson(token, body, from(t.userId)), method: 'PATCH' });
const post = (t: Tenant, path: string, body: unknown, token = t.owner) =>
  call(`/api/v1/projects/${t.projectId}${path}`, postJson(token, body, from(t.userId)));

async function endUser(tenant: Tenant): Promise<string> {
  const { body } = await openSession(tenant);
  if (!body) throw new Error('session not opened');
  return body.end_user_id;
}

/** A conversation with one user message, handed over with a ticket. */
async function handedOver(
  tenant: Tenant,
  endUserId: string,
  priority: Priority = 'normal',
  question = 'Where is my order?',
) {
  const conversation = await createConversation(sql, tenant.projectId, endUserId, question);
  await appendMessage(sql, tenant.projectId, conversation.id, { role: 'user', content: question });
  const ticket = await openTicket(sql, {
    projectId: tenant.projectId,
    conversationId: conversation.id,
    reason: 'Asked to talk to a person',
    priority,
  });
  return { conversation, ticket };
}

/** Adds a project member directly in SQL and returns their owner token. */
async function addMember(tenant: Tenant, role: 'admin' | 'agent'): Promise<{ userId: string; token: string }> {
  const userId = crypto.randomUUID();
  await sql`insert into project_members (project_id, user_id, role) values (${tenant.projectId}, ${userId}, ${role})`;
  return { userId, token: await ownerToken({ userId }) };
}

describe('openTicket', () => {
  it('hands the conversation over, once: a second escalation returns the same ticket, raising its priority', async () => {
    const tenant = await createTenant();
    const { conversation, ticket } = await handedOver(tenant, await endUser(tenant));
    expect(ticket).toMatchObject({ status: 'open', priority: 'normal', created: true });
    expect((await findConversation(sql, tenant.projectId, conversation.id))?.status).toBe('handoff');

    const again = { projectId: tenant.projectId, conversationId: conversation.id };
    const urgent = await openTicket(sql, { ...again, reason: 'Mentions self-harm', priority: 'urgent' });
    expect(urgent).toMatchObject({ id: ticket.id, created: false, priority: 'urgent', reason: 'Mentions self-harm' });
    const lower = await openTicket(sql, { ...again, reason: 'Asked again', priority: 'low' });
    expect(lower).toMatchObject({ id: ticket.id, priority: 'urgent', reason: 'Mentions self-harm' });
  });

  it('is idempotent under concurrent escalations of one conversation', async () => {
    const tenant = await createTenant();
    const conversation = await createConversation(sql, tenant.projectId, await endUser(tenant), 'Hi');
    const clients = [testSql(), testSql(), testSql()];
    try {
      const opened = await Promise.all(
        clients.map((client) =>
          openTicket(client, {
            projectId: tenant.projectId,
            conversationId: conversation.id,
            reason: 'Human',
            priority: 'normal',
          }),
        ),
      );
      expect(new Set(opened.map((t) => t.id)).size).toBe(1);
      expect(opened.filter((t) => t.created)).toHaveLength(1);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it("refuses another project's conversation", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    const conversation = await createConversation(sql, a.projectId, await endUser(a), 'Hi');
    await expect(
      openTicket(sql, { projectId: b.projectId, conversationId: conversation.id, reason: 'x', priority: 'normal' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect((await findConversation(sql, a.projectId, conversation.id))?.status).toBe('active');
  });
});

describe('tickets API', () => {
  it('lists newest first, filters by status and priority, and pages with next_cursor', async () => {
    const tenant = await createTenant();
    const user = await endUser(tenant);
    const made: string[] = [];
    for (const priority of ['low', 'high', 'normal', 'high', 'urgent'] as const) {
      made.push((await handedOver(tenant, user, priority)).ticket.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(tenant, `/tickets?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      const body: Page<Ticket> = await res.json<Page<Ticket>>();
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((t) => t.id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...made].reverse());

    const high = await (await get(tenant, '/tickets?priority=high')).json<Page<Ticket>>();
    expect(high.data.map((t) => t.id)).toEqual([made[3], made[1]]);
    await patch(tenant, `/tickets/${made[0]}`, { status: 'resolved' });
    const open = await (await get(tenant, '/tickets?status=open')).json<Page<Ticket>>();
    expect(open.data).toHaveLength(4);
    const resolved = await (await get(tenant, '/tickets?status=resolved')).json<Page<Ticket>>();
    expect(resolved.data.map((t) => t.id)).toEqual([made[0]]);

    await expectEnvelope(await get(tenant, '/tickets?status=closed'), 400, 'validation_failed');
    await expectEnvelope(await get(tenant, '/tickets?cursor=garbage'), 400, 'validation_failed');
  });

  it("shows a ticket with its conversation's messages", async () => {
    const tenant = await createTenant();
    const { ticket, conversation } = await handedOver(
      tenant,
      await endUser(tenant),
      'high',
      'My card was charged twice',
    );
    const res = await get(tenant, `/tickets/${ticket.id}`);
    expect(res.status).toBe(200);
    const body = await res.json<Ticket & { conversation: { id: string; status: string }; messages: Message[] }>();
    expect(body).toMatchObject({
      id: ticket.id,
      priority: 'high',
      status: 'open',
      reason: 'Asked to talk to a person',
    });
    expect(body.conversation).toMatchObject({ id: conversation.id, status: 'handoff' });
    expect(body.messages.map((m) => [m.role, m.content])).toEqual([['user', 'My card was charged twice']]);
    await expectEnvelope(await get(tenant, `/tickets/${crypto.randomUUID()}`), 404, 'not_found');
    await expectEnvelope(await get(tenant, '/tickets/not-a-uuid'), 404, 'not_found');
  });

  it('changes priority and assignee; a non-member assignee is a 400 on assignee_id', async () => {
    const tenant = await createTenant();
    const { ticket } = await handedOver(tenant, await endUser(tenant));
    const agent = await addMember(tenant, 'agent');

    const assigned = await patch(tenant, `/tickets/${ticket.id}`, { assignee_id: agent.userId, priority: 'high' });
    expect(assigned.status).toBe(200);
    expect(await assigned.json()).toMatchObject({ status: 'assigned', assignee_id: agent.userId, priority: 'high' });

    const stranger = await createTenant();
    for (const assignee_id of [crypto.randomUUID(), stranger.userId]) {
      const res = await patch(tenant, `/tickets/${ticket.id}`, { assignee_id });
      const body = await expectEnvelope(res, 400, 'validation_failed');
      expect(body.error.details).toEqual([{ path: 'assignee_id', message: 'not a member of this project' }]);
    }

    const unassigned = await patch(tenant, `/tickets/${ticket.id}`, { assignee_id: null });
    expect(await unassigned.json()).toMatchObject({ status: 'open', assignee_id: null });
    await expectEnvelope(
      await patch(tenant, `/tickets/${ticket.id}`, { status: 'assigned' }),
      400,
      'validation_failed',
    );
    await expectEnvelope(await patch(tenant, `/tickets/${ticket.id}`, {}), 400, 'validation_failed');
    await expectEnvelope(await patch(tenant, `/tickets/${ticket.id}`, { priority: 'asap' }), 400, 'validation_failed');
    await expectEnvelope(await patch(tenant, `/tickets/${ticket.id}`, { owner: 'me' }), 400, 'validation_failed');
  });

  it("a member's removal returns their unresolved tickets to the queue; resolved ones keep their assignee", async () => {
    const tenant = await createTenant();
    const agent = await addMember(tenant, 'agent');
    const { ticket: open } = await handedOver(tenant, await endUser(tenant));
    const { ticket: done } = await handedOver(tenant, await endUser(tenant));
    expect((await patch(tenant, `/tickets/${open.id}`, { assignee_id: agent.userId })).status).toBe(200);
    expect((await patch(tenant, `/tickets/${done.id}`, { assignee_id: agent.userId, status: 'resolved' })).status).toBe(
      200,
    );

    const removed = await call(`/api/v1/projects/${tenant.projectId}/members/${agent.userId}`, {
      method: 'DELETE',
      headers: auth(tenant.owner, from(tenant.userId)),
    });
    expect(removed.status).toBe(204);
    expect(await (await get(tenant, `/tickets/${open.id}`)).json()).toMatchObject({
      status: 'open',
      assignee_id: null,
    });
    expect(await (await get(tenant, `/tickets/${done.id}`)).json()).toMatchObject({
      status: 'resolved',
      assignee_id: agent.userId,
    });
  });

  it("stores an agent's reply with role agent and takes the open ticket", async () => {
    const tenant = await createTenant();
    const { ticket } = await handedOver(tenant, await endUser(tenant));
    const agent = await addMember(tenant, 'agent');

    const res = await post(
      tenant,
      `/tickets/${ticket.id}/messages`,
      { content: '  Hi, I am Sam. Let me check.  ' },
      agent.token,
    );
    expect(res.status).toBe(201);
    const message = await res.json<Message>();
    expect(message).toMatchObject({ role: 'agent', content: 'Hi, I am Sam. Let me check.', author_id: agent.userId });

    const shown = await (await get(tenant, `/tickets/${ticket.id}`)).json<Ticket & { messages: Message[] }>();
    expect(shown).toMatchObject({ status: 'assigned', assignee_id: agent.userId });
    expect(shown.messages.map((m) => m.role)).toEqual(['user', 'agent']);
    expect(shown.messages[1]).toMatchObject({ id: message.id, author_id: agent.userId });

    // The owner replying too does not take the ticket from the agent.
    await post(tenant, `/tickets/${ticket.id}/messages`, { content: 'Owner here.' });
    expect(await (await get(tenant, `/tickets/${ticket.id}`)).json()).toMatchObject({ assignee_id: agent.userId });

    await expectEnvelope(
      await post(tenant, `/tickets/${ticket.id}/messages`, { content: '   ' }),
      400,
      'validation_failed',
    );
    await expectEnvelope(
      await post(tenant, `/tickets/${ticket.id}/messages`, { content: 'x'.repeat(4001) }),
      400,
      'validation_failed',
    );
  });

  it('resolving returns the conversation to the bot; reopening hands it back', async () => {
    const tenant = await createTenant();
    const { ticket, conversation } = await handedOver(tenant, await endUser(tenant));
    const resolved = await (await patch(tenant, `/tickets/${ticket.id}`, { status: 'resolved' })).json<Ticket>();
    expect(resolved.status).toBe('resolved');
    expect(new Date(resolved.resolved_at ?? 0).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect((await findConversation(sql, tenant.projectId, conversation.id))?.status).toBe('active');
    await expectEnvelope(await post(tenant, `/tickets/${ticket.id}/messages`, { content: 'late' }), 409, 'conflict');

    // A new escalation opens a new ticket; the old one then cannot be reopened beside it.
    const next = await openTicket(sql, {
      projectId: tenant.projectId,
      conversationId: conversation.id,
      reason: 'Asked again',
      priority: 'normal',
    });
    expect(next).toMatchObject({ created: true });
    expect(next.id).not.toBe(ticket.id);
    await expectEnvelope(await patch(tenant, `/tickets/${ticket.id}`, { status: 'open' }), 409, 'conflict');

    await patch(tenant, `/tickets/${next.id}`, { status: 'resolved' });
    const reopened = await (await patch(tenant, `/tickets/${next.id}`, { status: 'open' })).json<Ticket>();
    expect(reopened).toMatchObject({ status: 'open', resolved_at: null });
    expect((await findConversation(sql, tenant.projectId, conversation.id))?.status).toBe('handoff');
  });
});

describe("the project's conversations", () => {
  it('lists them with filters (status, end user, dates) and pages; shows one with its messages', async () => {
    const tenant = await createTenant();
    const [alice, bob] = [await endUser(tenant), await endUser(tenant)];
    const first = await createConversation(sql, tenant.projectId, alice, 'Opening hours');
    const second = (await handedOver(tenant, bob, 'normal', 'Refund please')).conversation;
    const third = await createConversation(sql, tenant.projectId, alice, 'Shipping');
    await sql`update conversations set created_at = '2025-01-15T10:00:00Z' where id = ${first.id}`;

    const ids = async (query: string) =>
      (await (await get(tenant, `/conversations${query}`)).json<Page<{ id: string }>>()).data.map((c) => c.id);
    expect(await ids('')).toEqual([third.id, second.id, first.id]);
    expect(await ids('?status=handoff')).toEqual([second.id]);
    expect(await ids(`?end_user_id=${alice}`)).toEqual([third.id, first.id]);
    expect(await ids('?from=2025-01-15&to=2025-01-15')).toEqual([first.id]);
    expect(await ids('?to=2025-01-15T09:59:59Z')).toEqual([]);
    expect(await ids('?from=2025-01-16')).toEqual([third.id, second.id]);
    const firstPage = await (await get(tenant, '/conversations?limit=2')).json<Page<{ id: string }>>();
    expect(firstPage.data.map((c) => c.id)).toEqual([third.id, second.id]);
    expect(await ids(`?limit=2&cursor=${firstPage.next_cursor}`)).toEqual([first.id]);

    for (const bad of ['?from=yesterday', '?from=2025-02-01&to=2025-01-01', '?end_user_id=bob', '?status=open']) {
      await expectEnvelope(await get(tenant, `/conversations${bad}`), 400, 'validation_failed');
    }

    const res = await get(tenant, `/conversations/${second.id}`);
    expect(res.status).toBe(200);
    const body = await res.json<{ id: string; end_user_id: string; status: string; messages: Message[] }>();
    expect(body).toMatchObject({ id: second.id, end_user_id: bob, status: 'handoff' });
    expect(body.messages.map((m) => m.content)).toEqual(['Refund please']);
    await expectEnvelope(await get(tenant, `/conversations/${crypto.randomUUID()}`), 404, 'not_found');
  });
});

describe('isolation', () => {
  it("another tenant's owner gets 404 for A's tickets and conversations; keys and sessions get 403", async () => {
    const [a, b] = await Promise.all([createTenant(), createTenant()]);
    const { ticket, conversation } = await handedOver(a, await endUser(a));
    const paths = [`/tickets/${ticket.id}`, `/conversations/${conversation.id}`, `/tickets`, `/conversations`];

    // B's owner, through B's own project: A's ids do not exist there.
    for (const path of paths.slice(0, 2)) await expectEnvelope(await get(b, path), 404, 'not_found');
    await expectEnvelope(await patch(b, `/tickets/${ticket.id}`, { status: 'resolved' }), 404, 'not_found');
    await expectEnvelope(await post(b, `/tickets/${ticket.id}/messages`, { content: 'hi' }), 404, 'not_found');
    expect((await (await get(b, '/tickets')).json<Page<Ticket>>()).data).toEqual([]);
    expect((await (await get(b, '/conversations')).json<Page<unknown>>()).data).toEqual([]);

    // B's owner, through A's project: not a member, so the project itself is not found.
    for (const path of paths) await expectEnvelope(await get(a, path, b.owner), 404, 'not_found');
    await expectEnvelope(await patch(a, `/tickets/${ticket.id}`, { status: 'resolved' }, b.owner), 404, 'not_found');
    await expectEnvelope(await post(a, `/tickets/${ticket.id}/messages`, { content: 'hi' }, b.owner), 404, 'not_found');

    // A's own keys and an end-user session are not people of the project.
    const session = (await openSession(a)).body?.token ?? '';
    for (const token of [a.secretKey, a.publishableKey, session]) {
      for (const path of paths) await expectEnvelope(await get(a, path, token), 403, 'forbidden');
      await expectEnvelope(await post(a, `/tickets/${ticket.id}/messages`, { content: 'hi' }, token), 403, 'forbidden');
    }

    // Nothing changed in A.
    const after = await (await get(a, `/tickets/${ticket.id}`)).json<Ticket & { messages: Message[] }>();
    expect(after).toMatchObject({ status: 'open', assignee_id: null });
    expect(after.messages.map((m) => m.role)).toEqual(['user']);
  });

  it('admins and agents of the project may work tickets', async () => {
    const tenant = await createTenant();
    const { ticket } = await handedOver(tenant, await endUser(tenant));
    for (const role of ['admin', 'agent'] as const) {
      const member = await addMember(tenant, role);
      expect((await get(tenant, `/tickets/${ticket.id}`, member.token)).status).toBe(200);
      expect((await get(tenant, '/conversations', member.token)).status).toBe(200);
    }
  });

  it('lists the project for an agent without the identity secret that vouches for end users', async () => {
    const tenant = await createTenant();
    const agent = await addMember(tenant, 'agent');
    const admin = await addMember(tenant, 'admin');
    const listed = async (token: string) => {
      const res = await call('/api/v1/projects', { headers: auth(token, from(tenant.userId)) });
      const body = await res.json<{ data: { id: string; role: string; identity_secret: string | null }[] }>();
      return body.data.find((p) => p.id === tenant.projectId);
    };
    expect(await listed(agent.token)).toMatchObject({ role: 'agent', identity_secret: null });
    expect((await listed(admin.token))?.identity_secret).toMatch(/.{16,}/);
    expect((await get(tenant, '', agent.token)).status).toBe(403);
  });
});
