/**
 * `/api/v1/projects/:id/members`: any member lists; owners add, change and remove anyone; admins
 * add admins and agents, change and remove agents, and may leave; agents may only leave; the
 * last owner can be neither removed nor demoted; other tenants' projects and people answer 404.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { addRefusal, changeRefusal } from '../src/projects/member-rules';
import { call, expectEnvelope, testSql } from './support/http';
import { auth, createTenant, ownerToken, postJson, type Tenant } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());

interface Member {
  user_id: string;
  role: 'owner' | 'admin' | 'agent';
  created_at: string;
}

interface Person {
  userId: string;
  token: string;
}

/** The member routes of one tenant's project, called from the tenant's own client address. */
function team(t: Tenant) {
  const from = { 'cf-connecting-ip': `2001:db8:2::${t.userId.slice(0, 4)}:${t.userId.slice(4, 8)}` };
  const path = (userId?: string) => `/api/v1/projects/${t.projectId}/members${userId ? `/${userId}` : ''}`;
  return {
    list: (token: string, query = '') => call(`${path()}${query}`, { headers: auth(token, from) }),
    add: (token: string, body: unknown) => call(path(), postJson(token, body, from)),
    change: (token: string, userId: string, body: unknown) =>
      call(path(userId), { ...postJson(token, body, from), method: 'PATCH' }),
    remove: (token: string, userId: string) => call(path(userId), { method: 'DELETE', headers: auth(token, from) }),
  };
}

/** A new user the tenant's owner adds with `role`. */
async function join(t: Tenant, role: Member['role']): Promise<Person> {
  const userId = crypto.randomUUID();
  const res = await team(t).add(t.owner, { user_id: userId, role });
  expect(res.status).toBe(201);
  return { userId, token: await ownerToken({ userId }) };
}

async function roles(t: Tenant): Promise<Record<string, string>> {
  const rows = await sql<{ user_id: string; role: string }[]>`
    select user_id, role from project_members where project_id = ${t.projectId}`;
  return Object.fromEntries(rows.map((r) => [r.user_id, r.role]));
}

describe('listing and adding members', () => {
  it('an owner adds members; any member lists them, newest first, page by page', async () => {
    const t = await createTenant();
    const members = team(t);
    const adminId = crypto.randomUUID();
    const added = await members.add(t.owner, { user_id: adminId.toUpperCase(), role: 'admin' });
    expect(added.status).toBe(201);
    expect(await added.json()).toEqual({ user_id: adminId, role: 'admin', created_at: expect.any(String) });
    const agent = await join(t, 'agent');

    const listed = await members.list(agent.token);
    expect(listed.status).toBe(200);
    const body = await listed.json<{ data: Member[]; next_cursor: string | null }>();
    expect(body.data.map((m) => [m.user_id, m.role])).toEqual([
      [agent.userId, 'agent'],
      [adminId, 'admin'],
      [t.userId, 'owner'],
    ]);
    expect(body.next_cursor).toBeNull();

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await members.list(t.owner, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const page = await res.json<{ data: Member[]; next_cursor: string | null }>();
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((m) => m.user_id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(body.data.map((m) => m.user_id));
  });

  it('adding someone who is already a member is a 409 conflict, whatever the role', async () => {
    const t = await createTenant();
    const agent = await join(t, 'agent');
    for (const role of ['agent', 'admin']) {
      await expectEnvelope(await team(t).add(t.owner, { user_id: agent.userId, role }), 409, 'conflict');
    }
    await expectEnvelope(await team(t).add(t.owner, { user_id: t.userId, role: 'owner' }), 409, 'conflict');
    expect((await roles(t))[agent.userId]).toBe('agent');
  });

  it('validates the body and answers 404 for a user id in the path that is not a uuid', async () => {
    const t = await createTenant();
    const members = team(t);
    const cases: [unknown, string[]][] = [
      [{ user_id: 'not-a-uuid', role: 'agent' }, ['user_id']],
      [{ user_id: crypto.randomUUID(), role: 'superuser' }, ['role']],
      [{ user_id: crypto.randomUUID() }, ['role']],
      [{ role: 'agent' }, ['user_id']],
      [{ user_id: crypto.randomUUID(), role: 'agent', email: 'x@example.com' }, ['(root)']],
    ];
    for (const [body, paths] of cases) {
      const refused = await expectEnvelope(await members.add(t.owner, body), 400, 'validation_failed');
      expect(
        refused.error.details?.map((d) => d.path),
        JSON.stringify(body),
      ).toEqual(paths);
    }
    const agent = await join(t, 'agent');
    const badRole = await expectEnvelope(
      await members.change(t.owner, agent.userId, { role: 'root' }),
      400,
      'validation_failed',
    );
    expect(badRole.error.details?.map((d) => d.path)).toEqual(['role']);
    await expectEnvelope(await members.change(t.owner, 'not-a-uuid', { role: 'admin' }), 404, 'not_found');
    await expectEnvelope(await members.remove(t.owner, 'not-a-uuid'), 404, 'not_found');
    await expectEnvelope(await members.list(t.owner, '?limit=0'), 400, 'validation_failed');
    expect(Object.keys(await roles(t))).toHaveLength(2);
  });
});

describe('who may change whom', () => {
  it('owners change and remove anyone, owners included', async () => {
    const t = await createTenant();
    const members = team(t);
    const [admin, agent, coOwner] = [await join(t, 'admin'), await join(t, 'agent'), await join(t, 'owner')];
    const promoted = await members.change(t.owner, agent.userId, { role: 'owner' });
    expect(await promoted.json()).toMatchObject({ user_id: agent.userId, role: 'owner' });
    expect((await members.change(t.owner, admin.userId, { role: 'agent' })).status).toBe(200);
    expect((await members.remove(t.owner, coOwner.userId)).status).toBe(204);
    expect((await members.remove(t.owner, admin.userId)).status).toBe(204);
    expect(await roles(t)).toEqual({ [t.userId]: 'owner', [agent.userId]: 'owner' });
  });

  it('admins add admins and agents but not owners, change and remove agents only, and may leave', async () => {
    const t = await createTenant();
    const members = team(t);
    const admin = await join(t, 'admin');
    const otherAdmin = await join(t, 'admin');
    const agent = await join(t, 'agent');

    expect((await members.add(admin.token, { user_id: crypto.randomUUID(), role: 'agent' })).status).toBe(201);
    expect((await members.add(admin.token, { user_id: crypto.randomUUID(), role: 'admin' })).status).toBe(201);
    await expectEnvelope(
      await members.add(admin.token, { user_id: crypto.randomUUID(), role: 'owner' }),
      403,
      'forbidden',
    );
    await expectEnvelope(await members.change(admin.token, agent.userId, { role: 'owner' }), 403, 'forbidden');
    await expectEnvelope(await members.change(admin.token, otherAdmin.userId, { role: 'agent' }), 403, 'forbidden');
    await expectEnvelope(await members.change(admin.token, t.userId, { role: 'agent' }), 403, 'forbidden');
    await expectEnvelope(await members.change(admin.token, admin.userId, { role: 'owner' }), 403, 'forbidden');
    await expectEnvelope(await members.remove(admin.token, otherAdmin.userId), 403, 'forbidden');
    await expectEnvelope(await members.remove(admin.token, t.userId), 403, 'forbidden');

    expect((await members.change(admin.token, agent.userId, { role: 'admin' })).status).toBe(200);
    const newAgent = await join(t, 'agent');
    expect((await members.remove(admin.token, newAgent.userId)).status).toBe(204);
    expect((await members.remove(admin.token, admin.userId)).status).toBe(204);
    // Gone: the project is now as unknown to them as to anyone else.
    await expectEnvelope(await members.list(admin.token), 404, 'not_found');
    expect((await roles(t))[t.userId]).toBe('owner');
  });

  it('agents list members and may only leave', async () => {
    const t = await createTenant();
    const members = team(t);
    const agent = await join(t, 'agent');
    const colleague = await join(t, 'agent');
    expect((await members.list(agent.token)).status).toBe(200);
    await expectEnvelope(
      await members.add(agent.token, { user_id: crypto.randomUUID(), role: 'agent' }),
      403,
      'forbidden',
    );
    await expectEnvelope(await members.change(agent.token, agent.userId, { role: 'admin' }), 403, 'forbidden');
    await expectEnvelope(await members.remove(agent.token, colleague.userId), 403, 'forbidden');
    expect((await members.remove(agent.token, agent.userId)).status).toBe(204);
    expect(Object.keys(await roles(t)).sort()).toEqual([t.userId, colleague.userId].sort());
  });

  it('a user id that is not a member of the project answers 404', async () => {
    const t = await createTenant();
    const stranger = crypto.randomUUID();
    await expectEnvelope(await team(t).change(t.owner, stranger, { role: 'agent' }), 404, 'not_found');
    await expectEnvelope(await team(t).remove(t.owner, stranger), 404, 'not_found');
  });

  it('records every change in the audit log', async () => {
    const t = await createTenant();
    const agent = await join(t, 'agent');
    await team(t).change(t.owner, agent.userId, { role: 'admin' });
    await team(t).remove(t.owner, agent.userId);
    const res = await call(`/api/v1/projects/${t.projectId}/audit?limit=3`, { headers: auth(t.owner) });
    const { data } = await res.json<{ data: { action: string; target_id: string; metadata: object }[] }>();
    expect(data).toMatchObject([
      { action: 'member.removed', target_id: agent.userId, metadata: { role: 'admin' } },
      { action: 'member.updated', target_id: agent.userId, metadata: { from: 'agent', to: 'admin' } },
      { action: 'member.added', target_id: agent.userId, metadata: { role: 'agent' } },
    ]);
  });
});

describe('the last owner', () => {
  it('can be neither removed nor demoted, by themselves or anyone', async () => {
    const t = await createTenant();
    const members = team(t);
    const admin = await join(t, 'admin');
    const demoted = await expectEnvelope(await members.change(t.owner, t.userId, { role: 'admin' }), 409, 'conflict');
    expect(demoted.error.message).toMatch(/last owner cannot be demoted/);
    const removed = await expectEnvelope(await members.remove(t.owner, t.userId), 409, 'conflict');
    expect(removed.error.message).toMatch(/last owner cannot be removed/);
    await expectEnvelope(await members.remove(admin.token, t.userId), 403, 'forbidden');
    // Setting the role an owner already has is no demotion.
    expect((await members.change(t.owner, t.userId, { role: 'owner' })).status).toBe(200);
    expect((await roles(t))[t.userId]).toBe('owner');
  });

  it('may leave once there is another owner, who then is the last', async () => {
    const t = await createTenant();
    const members = team(t);
    const heir = await join(t, 'owner');
    expect((await members.remove(t.owner, t.userId)).status).toBe(204);
    await expectEnvelope(await members.change(heir.token, heir.userId, { role: 'agent' }), 409, 'conflict');
    expect(await roles(t)).toEqual({ [heir.userId]: 'owner' });
  });

  it('two owners demoting each other, or both leaving, at once leave one owner', async () => {
    const t = await createTenant();
    const members = team(t);
    const other = await join(t, 'owner');
    const demotions = await Promise.all([
      members.change(t.owner, other.userId, { role: 'agent' }),
      members.change(other.token, t.userId, { role: 'agent' }),
    ]);
    // The loser is refused 409 (last owner) or, when the winner committed before its request was
    // authorized, 403 (it is an agent by then); either way exactly one demotion happens.
    expect(demotions.map((r) => r.status).sort()).toEqual([200, expect.toBeOneOf([403, 409])]);
    expect(Object.values(await roles(t)).sort()).toEqual(['agent', 'owner']);

    const u = await createTenant();
    const second = await join(u, 'owner');
    const leaving = await Promise.all([team(u).remove(u.owner, u.userId), team(u).remove(second.token, second.userId)]);
    expect(leaving.map((r) => r.status).sort()).toEqual([204, 409]);
    expect(Object.values(await roles(u))).toEqual(['owner']);
  });
});

describe('member rules (unit)', () => {
  const owner = { user_id: 'o', role: 'owner' as const };
  const admin = { user_id: 'd', role: 'admin' as const };
  const agent = { user_id: 'a', role: 'agent' as const };

  it('protect the last owner, and only the last', () => {
    expect(changeRefusal(owner, owner, 'remove', 1)?.code).toBe('conflict');
    expect(changeRefusal(owner, owner, { role: 'agent' }, 1)?.code).toBe('conflict');
    expect(changeRefusal(owner, owner, { role: 'owner' }, 1)).toBeUndefined();
    expect(changeRefusal(owner, owner, 'remove', 2)).toBeUndefined();
    expect(changeRefusal(owner, agent, 'remove', 1)).toBeUndefined();
  });

  it('limit admins to agents and themselves, and agents to leaving', () => {
    expect(changeRefusal(admin, agent, { role: 'admin' }, 1)).toBeUndefined();
    expect(changeRefusal(admin, agent, { role: 'owner' }, 1)?.code).toBe('forbidden');
    expect(changeRefusal(admin, admin, 'remove', 1)).toBeUndefined();
    expect(changeRefusal(admin, { ...admin, user_id: 'd2' }, 'remove', 1)?.code).toBe('forbidden');
    expect(changeRefusal(admin, owner, 'remove', 2)?.code).toBe('forbidden');
    expect(changeRefusal(agent, agent, 'remove', 1)).toBeUndefined();
    expect(changeRefusal(agent, agent, { role: 'admin' }, 1)?.code).toBe('forbidden');
    expect(addRefusal('admin', 'owner')?.code).toBe('forbidden');
    expect(addRefusal('admin', 'admin')).toBeUndefined();
    expect(addRefusal('agent', 'agent')?.code).toBe('forbidden');
  });
});

describe('tenancy', () => {
  it("another tenant's project and people answer 404, and nothing changes", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const aAgent = await join(a, 'agent');
    // B's owner on A's project: not found, as for a project that does not exist.
    await expectEnvelope(await team(a).list(b.owner), 404, 'not_found');
    await expectEnvelope(await team(a).add(b.owner, { user_id: b.userId, role: 'owner' }), 404, 'not_found');
    await expectEnvelope(await team(a).change(b.owner, aAgent.userId, { role: 'owner' }), 404, 'not_found');
    await expectEnvelope(await team(a).remove(b.owner, a.userId), 404, 'not_found');
    // A member of A is nobody in B; B's owner is nobody in A's project.
    await expectEnvelope(await team(b).list(aAgent.token), 404, 'not_found');
    await expectEnvelope(await team(a).change(a.owner, b.userId, { role: 'agent' }), 404, 'not_found');
    await expectEnvelope(await team(a).remove(a.owner, b.userId), 404, 'not_found');
    // Project keys are not people.
    for (const key of [a.secretKey, a.publishableKey]) {
      await expectEnvelope(await team(a).list(key), 403, 'forbidden');
    }
    expect(await roles(a)).toEqual({ [a.userId]: 'owner', [aAgent.userId]: 'agent' });
    expect(await roles(b)).toEqual({ [b.userId]: 'owner' });
  });
});
