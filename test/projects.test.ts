import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, expectEnvelope, testSql } from './support/http';
import { auth, createTenant, ownerToken, postJson } from './support/tenants';
import { addSource, settled } from './support/sources';

const patch = (token: string, body: unknown): RequestInit => ({ ...postJson(token, body), method: 'PATCH' });

describe('projects', () => {
  it('an owner creates, reads, lists, changes and deletes a project', async () => {
    const owner = await ownerToken();
    const created = await call(
      '/api/v1/projects',
      postJson(owner, { name: 'Acme', allowed_origins: ['https://acme.example'], settings: { greeting: 'Hi!' } }),
    );
    expect(created.status).toBe(201);
    const project = await created.json<{
      id: string;
      name: string;
      role: string;
      identity_secret: string;
      settings: Record<string, unknown>;
    }>();
    expect(project).toMatchObject({ name: 'Acme', role: 'owner', settings: { greeting: 'Hi!' } });
    expect(project.identity_secret).toMatch(/^[0-9a-f]{64}$/);

    const read = await call(`/api/v1/projects/${project.id}`, { headers: auth(owner) });
    expect((await read.json<{ name: string }>()).name).toBe('Acme');

    const changed = await call(
      `/api/v1/projects/${project.id}`,
      patch(owner, { name: 'Acme 2', settings: { persona: 'Be brief', greeting: null } }),
    );
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ name: 'Acme 2', settings: { persona: 'Be brief' } });

    const list = await call('/api/v1/projects', { headers: auth(owner) });
    expect((await list.json<{ data: { id: string }[] }>()).data.map((p) => p.id)).toEqual([project.id]);

    expect((await call(`/api/v1/projects/${project.id}`, { method: 'DELETE', headers: auth(owner) })).status).toBe(204);
    await expectEnvelope(await call(`/api/v1/projects/${project.id}`, { headers: auth(owner) }), 404, 'not_found');
  });

  it("deleting a project removes its uploaded files too, and nobody else's", async () => {
    const tenant = await createTenant();
    const other = await createTenant();
    for (const t of [tenant, other])
      await settled(t, await addSource(t, { type: 'text', title: 'T', content: 'Hello there.' }));
    const files = async (projectId: string) =>
      (await env.UPLOADS.list({ prefix: `projects/${projectId}/` })).objects.length;
    expect(await files(tenant.projectId)).toBeGreaterThan(0);
    const res = await call(`/api/v1/projects/${tenant.projectId}`, { method: 'DELETE', headers: auth(tenant.owner) });
    expect(res.status).toBe(204);
    // The files go after the response (waitUntil).
    await expect.poll(() => files(tenant.projectId), { timeout: 5000 }).toBe(0);
    expect(await files(other.projectId)).toBeGreaterThan(0);
  });

  it('pages never skip rows created in the same transaction (one now())', async () => {
    const tenant = await createTenant();
    const sql = testSql();
    await sql.begin(async (tx) => {
      for (let i = 0; i < 7; i++) {
        await tx`insert into end_users (project_id, kind, external_id) values (${tenant.projectId}, 'verified', ${`u${i}`})`;
      }
    });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(
        `/api/v1/projects/${tenant.projectId}/end-users?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        { headers: auth(tenant.owner) },
      );
      const body = await res.json<{ data: { external_id: string }[]; next_cursor: string | null }>();
      seen.push(...body.data.map((u) => u.external_id));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6']);
  });

  it('lists page by page with next_cursor', async () => {
    const owner = await ownerToken();
    for (let i = 0; i < 5; i++) await call('/api/v1/projects', postJson(owner, { name: `P${i}` }));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await call(`/api/v1/projects?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { headers: auth(owner) });
      const body = await res.json<{ data: { name: string }[]; next_cursor: string | null }>();
      expect(body.data.length).toBeLessThanOrEqual(2);
      seen.push(...body.data.map((p) => p.name));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(['P4', 'P3', 'P2', 'P1', 'P0']);
    await expectEnvelope(
      await call('/api/v1/projects?cursor=garbage', { headers: auth(owner) }),
      400,
      'validation_failed',
    );
  });

  it('validates input with details', async () => {
    const owner = await ownerToken();
    const res = await call(
      '/api/v1/projects',
      postJson(owner, { name: '', allowed_origins: ['https://ok.example/path'], settings: { nope: 1 } }),
    );
    const body = await expectEnvelope(res, 400, 'validation_failed');
    expect(body.error.details?.map((d) => d.path)).toEqual(expect.arrayContaining(['name', 'allowed_origins[0]']));
  });

  it('records owner actions in the audit log', async () => {
    const tenant = await createTenant();
    await call(`/api/v1/projects/${tenant.projectId}`, patch(tenant.owner, { name: 'Renamed' }));
    await call(`/api/v1/projects/${tenant.projectId}/keys/${tenant.secretKeyId}`, {
      method: 'DELETE',
      headers: auth(tenant.owner),
    });
    const res = await call(`/api/v1/projects/${tenant.projectId}/audit`, {
      headers: auth(tenant.owner, { 'x-request-id': 'audit-check-0001' }),
    });
    const { data } = await res.json<{ data: { action: string; actor_id: string; target_id: string }[] }>();
    expect(data.map((e) => e.action)).toEqual([
      'key.revoked',
      'project.updated',
      'key.created',
      'key.created',
      'project.created',
    ]);
    expect(data.every((e) => e.actor_id === tenant.userId)).toBe(true);
    const filtered = await call(`/api/v1/projects/${tenant.projectId}/audit?action=key.created`, {
      headers: auth(tenant.owner),
    });
    expect((await filtered.json<{ data: unknown[] }>()).data).toHaveLength(2);
  });
});

describe('keys', () => {
  it('are shown once, listed without secrets, revoked at once', async () => {
    const tenant = await createTenant();
    expect(tenant.secretKey).toMatch(/^sk_[A-Za-z0-9_-]{32}$/);
    expect(tenant.publishableKey).toMatch(/^pk_[A-Za-z0-9_-]{32}$/);
    const list = await call(`/api/v1/projects/${tenant.projectId}/keys`, { headers: auth(tenant.owner) });
    const text = await list.text();
    expect(text).not.toContain(tenant.secretKey);
    expect(text).toContain(tenant.secretKey.slice(0, 9));

    // The secret key works (it can open sessions) until revoked, then fails at once.
    expect((await call('/api/v1/auth/session', postJson(tenant.secretKey, {}))).status).toBe(201);
    expect(
      (
        await call(`/api/v1/projects/${tenant.projectId}/keys/${tenant.secretKeyId}`, {
          method: 'DELETE',
          headers: auth(tenant.owner),
        })
      ).status,
    ).toBe(204);
    await expectEnvelope(await call('/api/v1/auth/session', postJson(tenant.secretKey, {})), 401, 'unauthorized');
  });

  it('rotate issues a replacement and keeps the old key for the grace period', async () => {
    const tenant = await createTenant();
    const res = await call(
      `/api/v1/projects/${tenant.projectId}/keys/${tenant.publishableKeyId}/rotate`,
      postJson(tenant.owner, { grace_seconds: 3600 }),
    );
    expect(res.status).toBe(201);
    const rotated = await res.json<{ key: string; replaces: string; old_key_expires_at: string }>();
    expect(rotated.replaces).toBe(tenant.publishableKeyId);
    expect(new Date(rotated.old_key_expires_at).getTime()).toBeGreaterThan(Date.now() + 3500_000);
    expect((await call('/api/v1/auth/session', postJson(tenant.publishableKey, {}))).status).toBe(201);
    expect((await call('/api/v1/auth/session', postJson(rotated.key, {}))).status).toBe(201);

    // A zero grace period ends the old key immediately.
    const again = await call(
      `/api/v1/projects/${tenant.projectId}/keys/${(await (await call(`/api/v1/projects/${tenant.projectId}/keys`, { headers: auth(tenant.owner) })).json<{ data: { id: string; prefix: string }[] }>()).data.find((k) => rotated.key.startsWith(k.prefix))?.id}/rotate`,
      postJson(tenant.owner, { grace_seconds: 0 }),
    );
    expect(again.status).toBe(201);
    await expectEnvelope(await call('/api/v1/auth/session', postJson(rotated.key, {})), 401, 'unauthorized');
  });
});
