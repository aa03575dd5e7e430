/**
 * An end user's data: found by the customer's own user id, exported whole, erased with
 * everything that hangs off it — each audited, and never reachable from another tenant.
 */
import { describe, expect, it } from 'vitest';
import { call, expectEnvelope } from './support/http';
import { auth, createTenant, openSession, postJson, type Tenant } from './support/tenants';

const from = (t: Tenant) => ({ 'cf-connecting-ip': `2001:db8::${t.userId.slice(0, 4)}:${t.userId.slice(4, 8)}` });
const get = (t: Tenant, path: string, token = t.owner) =>
  call(`/api/v1/projects/${t.projectId}${path}`, { headers: auth(token, from(t)) });
const del = (t: Tenant, path: string, token = t.owner) =>
  call(`/api/v1/projects/${t.projectId}${path}`, { method: 'DELETE', headers: auth(token, from(t)) });

interface Export {
  end_user: { id: string; kind: string; external_id: string };
  conversations: { id: string; messages: { role: string; content: string }[]; tickets: { reason: string }[] }[];
}

async function customerWithHistory(tenant: Tenant, userId: string): Promise<string> {
  let conversation_id: string | undefined;
  for (const message of ['Hello', 'I want to talk to a human']) {
    const res = await call('/api/v1/chat', postJson(tenant.secretKey, { message, user_id: userId, conversation_id }));
    expect(res.status).toBe(200);
    conversation_id = (await res.json<{ conversation_id: string }>()).conversation_id;
  }
  const found = await get(tenant, `/end-users?external_id=${encodeURIComponent(userId)}`);
  const { data } = await found.json<{ data: { id: string; kind: string }[] }>();
  expect(data).toHaveLength(1);
  expect(data[0]?.kind).toBe('verified');
  return data[0]!.id;
}

describe('end-user data', () => {
  it('exports everything about one end user, and audits it', async () => {
    const tenant = await createTenant();
    const id = await customerWithHistory(tenant, 'cust-42');
    // Another end user's conversation is not part of the export.
    const session = (await openSession(tenant)).body!.token;
    await call('/api/v1/chat', postJson(session, { message: 'Someone else asking' }));

    for (const token of [tenant.owner, tenant.secretKey]) {
      const res = await get(tenant, `/end-users/${id}/export`, token);
      expect(res.status).toBe(200);
      const body = await res.json<Export>();
      expect(body.end_user).toMatchObject({ id, kind: 'verified', external_id: 'cust-42' });
      expect(body.conversations).toHaveLength(1);
      const contents = body.conversations[0]!.messages.map((m) => m.content);
      expect(contents).toContain('I want to talk to a human');
      expect(contents).not.toContain('Someone else asking');
      expect(body.conversations[0]!.tickets).toHaveLength(1);
    }
    const audit = await get(tenant, '/audit?action=data.exported');
    const entries = (await audit.json<{ data: { target_id: string; actor_type: string }[] }>()).data;
    expect(entries.map((e) => [e.target_id, e.actor_type])).toEqual([
      [id, 'secret_key'],
      [id, 'owner'],
    ]);
  });

  it('erases the end user with their conversations, messages and tickets, and audits it', async () => {
    const tenant = await createTenant();
    const id = await customerWithHistory(tenant, 'cust-erase');
    const tickets = async () => (await (await get(tenant, '/tickets')).json<{ data: unknown[] }>()).data.length;
    expect(await tickets()).toBe(1);

    expect((await del(tenant, `/end-users/${id}`)).status).toBe(204);
    await expectEnvelope(await get(tenant, `/end-users/${id}/export`), 404, 'not_found');
    await expectEnvelope(await del(tenant, `/end-users/${id}`), 404, 'not_found');
    expect(await tickets()).toBe(0);
    const inbox = await (await get(tenant, `/conversations?end_user_id=${id}`)).json<{ data: unknown[] }>();
    expect(inbox.data).toHaveLength(0);
    const audit = await (await get(tenant, '/audit?action=data.erased')).json<{ data: { target_id: string }[] }>();
    expect(audit.data.map((e) => e.target_id)).toEqual([id]);
  });

  it('refuses other tenants (404), publishable keys and sessions (403), and non-ids (404)', async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    const id = await customerWithHistory(tenant, 'cust-private');
    const session = (await openSession(tenant)).body!.token;
    const path = `/end-users/${id}/export`;
    await expectEnvelope(await get(tenant, path, other.owner), 404, 'not_found');
    await expectEnvelope(await get(tenant, path, other.secretKey), 404, 'not_found');
    await expectEnvelope(await del(tenant, `/end-users/${id}`, other.owner), 404, 'not_found');
    await expectEnvelope(await get(tenant, path, tenant.publishableKey), 403, 'forbidden');
    await expectEnvelope(await get(tenant, path, session), 403, 'forbidden');
    await expectEnvelope(await get(tenant, '/end-users/not-a-uuid/export'), 404, 'not_found');
    // Other's own copy of the same id answers 404 as well: the id belongs to the tenant.
    await expectEnvelope(await get(other, path), 404, 'not_found');
    expect((await get(tenant, path)).status).toBe(200);
  });
});
