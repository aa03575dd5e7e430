/**
 * `POST /api/v1/projects/:id/identity-secret/rotate`: a new identity secret at once; user_hash
 * values made with the previous one still open sessions during the grace period (24 h unless
 * `grace_hours` says otherwise, 0 ending it at once), never after; the previous secret is never
 * shown again. Owners and admins rotate; agents are refused; other tenants get 404.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { userHash } from '../src/end-users';
import { call, expectEnvelope, testSql } from './support/http';
import { auth, createTenant, ownerToken, postJson, type Tenant } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

const USER = 'customer-user-7';

interface Rotated {
  identity_secret: string;
  previous_identity_secret_expires_at: string | null;
}

const rotate = (t: Tenant, body?: unknown, token = t.owner): Promise<Response> =>
  call(
    `/api/v1/projects/${t.projectId}/identity-secret/rotate`,
    body === undefined ? { method: 'POST', headers: auth(token) } : postJson(token, body),
  );

async function rotated(t: Tenant, body?: unknown): Promise<Rotated> {
  const res = await rotate(t, body);
  if (res.status !== 200) throw new Error(`rotation failed: ${res.status} ${await res.text()}`);
  return res.json<Rotated>();
}

/**
 * The status of opening a verified session with a user_hash made with `secret`, from the
 * tenant's own client address (refusals count as failed authentications of that address).
 */
async function signIn(t: Tenant, secret: string): Promise<number> {
  const body = { user_id: USER, user_hash: await userHash(secret, USER) };
  const from = { 'cf-connecting-ip': `2001:db8:3::${t.userId.slice(0, 4)}:${t.userId.slice(4, 8)}` };
  return (await call('/api/v1/auth/session', postJson(t.publishableKey, body, from))).status;
}

async function member(t: Tenant, role: 'admin' | 'agent'): Promise<string> {
  const userId = crypto.randomUUID();
  const res = await call(`/api/v1/projects/${t.projectId}/members`, postJson(t.owner, { user_id: userId, role }));
  expect(res.status).toBe(201);
  return ownerToken({ userId });
}

describe('rotating the identity secret', () => {
  it('issues a new secret; the old one verifies for 24 h by default, alongside the new', async () => {
    const t = await createTenant();
    const before = Date.now();
    const next = await rotated(t);
    expect(next.identity_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(next.identity_secret).not.toBe(t.identitySecret);
    const expires = new Date(next.previous_identity_secret_expires_at ?? 0).getTime();
    expect(expires).toBeGreaterThan(before + 24 * 3600_000 - 60_000);
    expect(expires).toBeLessThan(Date.now() + 24 * 3600_000 + 60_000);

    expect(await signIn(t, t.identitySecret)).toBe(201);
    expect(await signIn(t, next.identity_secret)).toBe(201);
    expect(await signIn(t, 'f'.repeat(64))).toBe(401);
  });

  it('readers show the new secret and never the old one again', async () => {
    const t = await createTenant();
    const next = await rotated(t, { grace_hours: 48 });
    const admin = await member(t, 'admin');
    const agent = await member(t, 'agent');
    const reads = [
      await call(`/api/v1/projects/${t.projectId}`, { headers: auth(t.owner) }),
      await call(`/api/v1/projects/${t.projectId}`, { headers: auth(admin) }),
      await call('/api/v1/projects', { headers: auth(t.owner) }),
      await call(`/api/v1/projects/${t.projectId}/audit`, { headers: auth(t.owner) }),
    ];
    for (const res of reads) {
      expect(res.status).toBe(200);
      expect(await res.text()).not.toContain(t.identitySecret);
    }
    const project = await call(`/api/v1/projects/${t.projectId}`, { headers: auth(t.owner) });
    expect((await project.json<{ identity_secret: string }>()).identity_secret).toBe(next.identity_secret);
    const listed = await call('/api/v1/projects', { headers: auth(agent) });
    expect((await listed.json<{ data: { identity_secret: string | null }[] }>()).data).toEqual([
      expect.objectContaining({ identity_secret: null }),
    ]);

    const audit = await call(`/api/v1/projects/${t.projectId}/audit?action=identity_secret.rotated`, {
      headers: auth(t.owner),
    });
    const text = await audit.text();
    expect(text).not.toContain(next.identity_secret);
    expect(JSON.parse(text)).toMatchObject({ data: [{ metadata: { grace_hours: 48 }, target_id: t.projectId }] });
  });

  it('with grace_hours 0 the old secret stops at once (a leaked secret)', async () => {
    const t = await createTenant();
    const next = await rotated(t, { grace_hours: 0 });
    expect(next.previous_identity_secret_expires_at).toBeNull();
    expect(await signIn(t, t.identitySecret)).toBe(401);
    expect(await signIn(t, next.identity_secret)).toBe(201);
  });

  it('the old secret stops once the grace period is over', async () => {
    const t = await createTenant();
    const next = await rotated(t, { grace_hours: 1 });
    expect(await signIn(t, t.identitySecret)).toBe(201);
    await sql`update projects set previous_identity_secret_expires_at = now() - interval '1 second'
              where id = ${t.projectId}`;
    expect(await signIn(t, t.identitySecret)).toBe(401);
    expect(await signIn(t, next.identity_secret)).toBe(201);
  });

  it('a second rotation ends the first one’s grace: only the last two secrets verify', async () => {
    const t = await createTenant();
    const second = await rotated(t);
    const third = await rotated(t);
    expect(await signIn(t, t.identitySecret)).toBe(401);
    expect(await signIn(t, second.identity_secret)).toBe(201);
    expect(await signIn(t, third.identity_secret)).toBe(201);
  });

  it('a verified user stays the same end user across the rotation', async () => {
    const t = await createTenant();
    const session = async (secret: string) => {
      const body = { user_id: USER, user_hash: await userHash(secret, USER) };
      const res = await call('/api/v1/auth/session', postJson(t.publishableKey, body));
      return (await res.json<{ end_user_id: string }>()).end_user_id;
    };
    const before = await session(t.identitySecret);
    const next = await rotated(t);
    expect(await session(next.identity_secret)).toBe(before);
  });

  it('validates grace_hours', async () => {
    const t = await createTenant();
    for (const body of [{ grace_hours: -1 }, { grace_hours: 169 }, { grace_hours: 1.5 }, { grace_hours: '24' }]) {
      const refused = await expectEnvelope(await rotate(t, body), 400, 'validation_failed');
      expect(refused.error.details?.map((d) => d.path)).toEqual(['grace_hours']);
    }
    await expectEnvelope(await rotate(t, { grace: 1 }), 400, 'validation_failed');
    // Nothing was rotated.
    expect(await signIn(t, t.identitySecret)).toBe(201);
    const [row] = await sql`select previous_identity_secret from projects where id = ${t.projectId}`;
    expect(row?.previous_identity_secret).toBeNull();
  });
});

describe('who may rotate', () => {
  it('owners and admins; agents are refused 403, project keys 403, other tenants 404', async () => {
    const t = await createTenant();
    const other = await createTenant();
    const agent = await member(t, 'agent');
    await expectEnvelope(await rotate(t, {}, agent), 403, 'forbidden');
    for (const key of [t.secretKey, t.publishableKey]) await expectEnvelope(await rotate(t, {}, key), 403, 'forbidden');
    await expectEnvelope(await rotate(t, {}, other.owner), 404, 'not_found');
    // Nothing changed: the original secret is still the only one.
    expect(await signIn(t, t.identitySecret)).toBe(201);
    const [row] = await sql`select previous_identity_secret from projects where id = ${t.projectId}`;
    expect(row?.previous_identity_secret).toBeNull();

    const admin = await member(t, 'admin');
    const res = await rotate(t, { grace_hours: 0 }, admin);
    expect(res.status).toBe(200);
    expect(await signIn(t, t.identitySecret)).toBe(401);
    // The other tenant's secret was never touched.
    expect(await signIn(other, other.identitySecret)).toBe(201);
  });
});
