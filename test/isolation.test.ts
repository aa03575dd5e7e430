/**
 * Tenants never see each other. Every project-scoped route × every credential that is not A's
 * owner gets the documented refusal — another owner 404 (the same answer as an id that does not
 * exist, so nothing leaks), a project key or end-user session 403 (owner-only routes) — and
 * tenant A's project is exactly as it was afterwards.
 */
import { describe, expect, it } from 'vitest';
import { call, expectEnvelope, type ErrorEnvelope } from './support/http';
import { auth, createTenant, openSession, postJson, type Tenant } from './support/tenants';

const VICTIM_NAME = 'Victim A';

interface Route {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** The ids of a key and of a member (a user id) are A's own, or random ones. */
  path: (projectId: string, keyId: string, userId: string) => string;
  /** A body that would succeed for A's owner: refusals must not depend on a bad body. */
  body?: unknown;
  /** Whether the route names a key as well as a project. */
  key?: true;
}

const ROUTES: Route[] = [
  { name: 'GET /projects/:id', method: 'GET', path: (p) => `/api/v1/projects/${p}` },
  { name: 'PATCH /projects/:id', method: 'PATCH', path: (p) => `/api/v1/projects/${p}`, body: { name: 'Hijacked' } },
  { name: 'DELETE /projects/:id', method: 'DELETE', path: (p) => `/api/v1/projects/${p}` },
  { name: 'GET /projects/:id/audit', method: 'GET', path: (p) => `/api/v1/projects/${p}/audit` },
  {
    name: 'POST /projects/:id/keys',
    method: 'POST',
    path: (p) => `/api/v1/projects/${p}/keys`,
    body: { type: 'secret', name: 'backdoor' },
  },
  { name: 'GET /projects/:id/keys', method: 'GET', path: (p) => `/api/v1/projects/${p}/keys` },
  {
    name: 'DELETE /projects/:id/keys/:key_id',
    method: 'DELETE',
    path: (p, k) => `/api/v1/projects/${p}/keys/${k}`,
    key: true,
  },
  {
    name: 'POST /projects/:id/keys/:key_id/rotate',
    method: 'POST',
    path: (p, k) => `/api/v1/projects/${p}/keys/${k}/rotate`,
    body: { grace_seconds: 0 },
    key: true,
  },
  {
    name: 'POST /projects/:id/identity-secret/rotate',
    method: 'POST',
    path: (p) => `/api/v1/projects/${p}/identity-secret/rotate`,
    body: { grace_hours: 0 },
  },
  { name: 'GET /projects/:id/members', method: 'GET', path: (p) => `/api/v1/projects/${p}/members` },
  {
    name: 'POST /projects/:id/members',
    method: 'POST',
    path: (p) => `/api/v1/projects/${p}/members`,
    body: { user_id: '6f0c1bd4-5a0e-4c1e-9a57-0d3c8a4f2b10', role: 'owner' },
  },
  {
    name: 'PATCH /projects/:id/members/:user_id',
    method: 'PATCH',
    path: (p, _k, u) => `/api/v1/projects/${p}/members/${u}`,
    body: { role: 'owner' },
  },
  {
    name: 'DELETE /projects/:id/members/:user_id',
    method: 'DELETE',
    path: (p, _k, u) => `/api/v1/projects/${p}/members/${u}`,
  },
];
const KEY_ROUTES = ROUTES.filter((r) => r.key);

/** Two tenants, each with an open end-user session. */
interface World {
  a: Tenant;
  b: Tenant;
  aSession: string;
  bSession: string;
}

interface Refusal {
  name: string;
  token: (w: World) => string;
  status: 403 | 404;
  code: 'forbidden' | 'not_found';
}

/** Every credential other than A's owner, used on A's project and key ids. */
const FOREIGN: Refusal[] = [
  { name: "B's owner token", token: (w) => w.b.owner, status: 404, code: 'not_found' },
  { name: "B's secret key", token: (w) => w.b.secretKey, status: 403, code: 'forbidden' },
  { name: "B's publishable key", token: (w) => w.b.publishableKey, status: 403, code: 'forbidden' },
  { name: 'a B end-user session', token: (w) => w.bSession, status: 403, code: 'forbidden' },
  { name: "A's own secret key", token: (w) => w.a.secretKey, status: 403, code: 'forbidden' },
  { name: "A's own publishable key", token: (w) => w.a.publishableKey, status: 403, code: 'forbidden' },
  { name: 'an A end-user session', token: (w) => w.aSession, status: 403, code: 'forbidden' },
];

async function world(): Promise<World> {
  const a = await createTenant({ name: VICTIM_NAME });
  const b = await createTenant({ name: 'Attacker B' });
  const aSession = (await openSession(a)).body?.token;
  const bSession = (await openSession(b)).body?.token;
  if (!aSession || !bSession) throw new Error('could not open end-user sessions');
  return { a, b, aSession, bSession };
}

function send(
  route: Route,
  token: string,
  projectId: string,
  keyId: string,
  userId: string = crypto.randomUUID(),
): Promise<Response> {
  const path = route.path(projectId, keyId, userId);
  if (route.body === undefined) return call(path, { method: route.method, headers: auth(token) });
  return call(path, { ...postJson(token, route.body), method: route.method });
}

/** Asserts the refusal envelope and that the body carries nothing of tenant A. */
async function refused(
  res: Response,
  label: string,
  status: number,
  code: string,
  a: Tenant,
): Promise<ErrorEnvelope['error']> {
  const text = await res.clone().text();
  let body: ErrorEnvelope;
  try {
    body = await expectEnvelope(res, status, code);
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`);
  }
  expect(Object.keys(body), label).toEqual(['error']);
  for (const secret of [VICTIM_NAME, a.identitySecret, a.secretKey.slice(0, 9), a.publishableKey.slice(0, 9)]) {
    expect(text, label).not.toContain(secret);
  }
  return body.error;
}

/**
 * A's project, identity secret, members, keys and audit log are exactly what createTenant left,
 * and its keys still work.
 */
async function expectUntouched(a: Tenant): Promise<void> {
  const project = await call(`/api/v1/projects/${a.projectId}`, { headers: auth(a.owner) });
  expect(project.status).toBe(200);
  expect(await project.json()).toMatchObject({
    name: VICTIM_NAME,
    allowed_origins: [],
    settings: {},
    identity_secret: a.identitySecret,
  });

  const members = await call(`/api/v1/projects/${a.projectId}/members`, { headers: auth(a.owner) });
  expect((await members.json<{ data: unknown[] }>()).data).toEqual([
    { user_id: a.userId, role: 'owner', created_at: expect.any(String) },
  ]);

  const keys = await call(`/api/v1/projects/${a.projectId}/keys?include_inactive=true`, { headers: auth(a.owner) });
  const { data } = await keys.json<{ data: { id: string; revoked_at: string | null; expires_at: string | null }[] }>();
  expect(data.map((k) => k.id).sort()).toEqual([a.secretKeyId, a.publishableKeyId].sort());
  expect(data.every((k) => k.revoked_at === null && k.expires_at === null)).toBe(true);

  const audit = await call(`/api/v1/projects/${a.projectId}/audit`, { headers: auth(a.owner) });
  const entries = (await audit.json<{ data: { action: string }[] }>()).data.map((e) => e.action);
  expect(entries).toEqual(['key.created', 'key.created', 'project.created']);

  for (const key of [a.secretKey, a.publishableKey]) {
    expect((await call('/api/v1/auth/session', postJson(key, {}))).status).toBe(201);
  }
}

describe('tenant isolation', () => {
  it.each(ROUTES)('$name refuses every credential but the owner’s, and leaves A untouched', async (route) => {
    const w = await world();
    for (const cred of FOREIGN) {
      const label = `${cred.name} on ${route.name}`;
      const onA = await refused(
        await send(route, cred.token(w), w.a.projectId, w.a.secretKeyId, w.a.userId),
        label,
        cred.status,
        cred.code,
        w.a,
      );
      // The answer for A's real ids is the answer for ids that exist nowhere: nothing leaks.
      const onNothing = await refused(
        await send(route, cred.token(w), crypto.randomUUID(), crypto.randomUUID()),
        `${label} (random ids)`,
        cred.status,
        cred.code,
        w.a,
      );
      expect(onA.message, label).toBe(onNothing.message);
    }
    // Ids are matched case-insensitively for the owner, so upper case is no way around it either.
    await refused(
      await send(
        route,
        w.b.owner,
        w.a.projectId.toUpperCase(),
        w.a.secretKeyId.toUpperCase(),
        w.a.userId.toUpperCase(),
      ),
      `B's owner on ${route.name} with upper-case ids`,
      404,
      'not_found',
      w.a,
    );
    await expectUntouched(w.a);
  });

  it.each(KEY_ROUTES)('$name: a key of tenant B under A’s project is not found, for A’s owner', async (route) => {
    const w = await world();
    for (const keyId of [w.b.secretKeyId, w.b.publishableKeyId]) {
      const label = `A's owner, B's key ${keyId} on ${route.name}`;
      const foreign = await refused(await send(route, w.a.owner, w.a.projectId, keyId), label, 404, 'not_found', w.a);
      const missing = await refused(
        await send(route, w.a.owner, w.a.projectId, crypto.randomUUID()),
        `${label} (random key id)`,
        404,
        'not_found',
        w.a,
      );
      expect(foreign.message, label).toBe(missing.message);
    }
    // B's keys were neither revoked nor rotated, and A's project gained no key.
    for (const key of [w.b.secretKey, w.b.publishableKey]) {
      expect((await call('/api/v1/auth/session', postJson(key, {}))).status).toBe(201);
    }
    const bKeys = await call(`/api/v1/projects/${w.b.projectId}/keys?include_inactive=true`, {
      headers: auth(w.b.owner),
    });
    expect((await bKeys.json<{ data: unknown[] }>()).data).toHaveLength(2);
    await expectUntouched(w.a);
  });

  const BAD_IDS = [
    ['a random uuid', () => crypto.randomUUID()],
    ['a non-uuid', () => 'not-a-uuid'],
    ['a number', () => '42'],
    ['a uuid with trailing text', () => `${crypto.randomUUID()}x`],
    ['SQL', () => encodeURIComponent("' or '1'='1")],
  ] as const;

  it.each(ROUTES)('$name answers 404 for project ids that do not exist or are not uuids', async (route) => {
    const a = await createTenant({ name: VICTIM_NAME });
    for (const [what, id] of BAD_IDS) {
      await refused(
        await send(route, a.owner, id(), a.secretKeyId),
        `${what} as project id on ${route.name}`,
        404,
        'not_found',
        a,
      );
    }
    await expectUntouched(a);
  });

  it.each(KEY_ROUTES)('$name answers 404 for key ids that do not exist or are not uuids', async (route) => {
    const a = await createTenant({ name: VICTIM_NAME });
    for (const [what, id] of BAD_IDS) {
      await refused(
        await send(route, a.owner, a.projectId, id()),
        `${what} as key id on ${route.name}`,
        404,
        'not_found',
        a,
      );
    }
    await expectUntouched(a);
  });

  it("B's owner does not see A's project in their list", async () => {
    const w = await world();
    const list = await call('/api/v1/projects', { headers: auth(w.b.owner) });
    expect(list.status).toBe(200);
    const text = await list.text();
    expect(text).not.toContain(w.a.projectId);
    expect(text).not.toContain(w.a.identitySecret);
    expect(JSON.parse(text)).toMatchObject({ data: [{ id: w.b.projectId }] });
  });
});
