/**
 * Credential fuzzing: every malformed, forged, expired, revoked or orphaned credential is a 401
 * `unauthorized` with `WWW-Authenticate: Bearer…` on every kind of route — never a 500, never a
 * different code that would tell an attacker which check failed first. Valid look-alikes (an
 * ES256 token from the JWKS, a key of another project) are shown to be accepted or scoped.
 */
import { env } from 'cloudflare:workers';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { access } from '../src/auth/access';
import { signSession } from '../src/auth/jwt';
import { createBaseApp } from '../src/http/platform';
import { call, callApp, expectEnvelope } from './support/http';
import { asymmetricToken, auth, createTenant, openSession, ownerToken, postJson, type Tenant } from './support/tenants';
import { TEST_SUPABASE_JWT_SECRET } from './support/constants';

const b64url = (text: string): string => btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const ownerClaims = () => ({ sub: crypto.randomUUID(), role: 'authenticated', email: 'mallory@example.com' });
const supabaseIssuer = () => `${env.SUPABASE_URL}/auth/v1`;

async function revoke(t: Tenant, keyId: string): Promise<void> {
  const res = await call(`/api/v1/projects/${t.projectId}/keys/${keyId}`, { method: 'DELETE', headers: auth(t.owner) });
  expect(res.status).toBe(204);
}

async function endUserOf(t: Tenant): Promise<{ token: string; endUserId: string }> {
  const { body } = await openSession(t);
  if (!body) throw new Error('could not open a session');
  return { token: body.token, endUserId: body.end_user_id };
}

interface FuzzCase {
  name: string;
  /** The Authorization header to send (undefined: none), built against a fresh tenant. */
  authorization: (t: Tenant) => Promise<string | undefined> | string | undefined;
}

const CASES: FuzzCase[] = [
  { name: 'no Authorization header', authorization: () => undefined },
  { name: 'Basic credentials', authorization: () => `Basic ${btoa('owner@example.com:hunter2')}` },
  { name: 'a valid owner token behind Basic', authorization: (t) => `Basic ${t.owner}` },
  { name: 'a valid owner token without a scheme', authorization: (t) => t.owner },
  { name: 'Bearer alone', authorization: () => 'Bearer' },
  { name: 'Bearer with an empty token', authorization: () => 'Bearer ' },
  { name: 'Bearer with only spaces', authorization: () => 'Bearer     ' },
  { name: 'Bearer with two tokens', authorization: (t) => `Bearer ${t.secretKey} ${t.secretKey}` },
  { name: 'garbage', authorization: () => 'Bearer garbage' },
  { name: 'null', authorization: () => 'Bearer null' },
  { name: 'three empty JWT parts', authorization: () => 'Bearer ..' },
  { name: 'JWT-shaped nonsense', authorization: () => 'Bearer aaa.bbb.ccc' },
  { name: 'JSON instead of a token', authorization: () => 'Bearer {"sub":"x"}' },
  { name: 'a 5000-character token', authorization: () => `Bearer ${'x'.repeat(5000)}` },
  { name: 'a 5000-character key look-alike', authorization: () => `Bearer sk_${'A'.repeat(4997)}` },
  { name: 'non-ASCII bytes', authorization: () => 'Bearer t\u00f6k\u00e9n\u00ff' },
  {
    name: 'alg none with an owner payload',
    authorization: () =>
      `Bearer ${new UnsecuredJWT(ownerClaims())
        .setIssuer(supabaseIssuer())
        .setAudience('authenticated')
        .setIssuedAt()
        .setExpirationTime('1h')
        .encode()}`,
  },
  {
    name: 'alg none with a session payload',
    authorization: async (t) =>
      `Bearer ${new UnsecuredJWT({ pid: t.projectId })
        .setIssuer('parley')
        .setAudience('parley:session')
        .setSubject((await endUserOf(t)).endUserId)
        .setIssuedAt()
        .setExpirationTime('1h')
        .encode()}`,
  },
  {
    name: 'HS256 signed with the wrong secret',
    authorization: async () => `Bearer ${await ownerToken({ secret: 'not-the-secret-0123456789abcdefghijklmn' })}`,
  },
  {
    name: 'HS256 with the wrong issuer',
    authorization: async () => `Bearer ${await ownerToken({ issuer: 'https://evil.supabase.co/auth/v1' })}`,
  },
  {
    name: 'HS256 with the wrong audience',
    authorization: async () => `Bearer ${await ownerToken({ audience: 'anon' })}`,
  },
  { name: 'HS256 expired', authorization: async () => `Bearer ${await ownerToken({ expiresIn: -60 })}` },
  {
    name: 'HS256 without an expiry',
    authorization: async () =>
      `Bearer ${await new SignJWT({ role: 'authenticated' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(crypto.randomUUID())
        .setIssuer(supabaseIssuer())
        .setAudience('authenticated')
        .setIssuedAt()
        .sign(new TextEncoder().encode(TEST_SUPABASE_JWT_SECRET))}`,
  },
  {
    name: 'HS256 whose subject is not a user id',
    authorization: async () => `Bearer ${await ownerToken({ userId: 'service_role' })}`,
  },
  {
    name: 'HS256 whose subject only looks like a uuid',
    authorization: async () => `Bearer ${await ownerToken({ userId: '-'.repeat(36) })}`,
  },
  { name: 'a truncated signature', authorization: (t) => `Bearer ${t.owner.slice(0, -6)}` },
  { name: 'no signature', authorization: (t) => `Bearer ${t.owner.slice(0, t.owner.lastIndexOf('.') + 1)}` },
  {
    name: 'a payload swapped under a valid signature',
    authorization: (t) => {
      const [header, , signature] = t.owner.split('.');
      const payload = b64url(JSON.stringify({ ...ownerClaims(), iss: supabaseIssuer(), aud: 'authenticated' }));
      return `Bearer ${header}.${payload}.${signature}`;
    },
  },
  {
    name: 'a header that is not JSON',
    authorization: (t) => `Bearer ${b64url('not json')}.${t.owner.split('.').slice(1).join('.')}`,
  },
  {
    name: 'a payload that is not JSON',
    authorization: (t) => `Bearer ${t.owner.split('.')[0]}.${b64url('not json')}.${t.owner.split('.')[2]}`,
  },
  {
    name: 'ES256 signed with an unpublished key (unknown kid)',
    authorization: async () => `Bearer ${await asymmetricToken(ownerClaims(), { key: 'unpublished' })}`,
  },
  {
    name: 'ES256 with the wrong issuer',
    authorization: async () =>
      `Bearer ${await asymmetricToken(ownerClaims(), { issuer: 'https://evil.supabase.co/auth/v1' })}`,
  },
  {
    name: 'ES256 with the wrong audience',
    authorization: async () => `Bearer ${await asymmetricToken(ownerClaims(), { audience: 'anon' })}`,
  },
  {
    name: 'ES256 expired',
    authorization: async () => `Bearer ${await asymmetricToken(ownerClaims(), { expiresIn: -60 })}`,
  },
  {
    name: 'ES256 by an attacker key under the published kid, key embedded',
    authorization: async () => {
      const attacker = await generateKeyPair('ES256', { extractable: true });
      const token = await new SignJWT(ownerClaims())
        .setProtectedHeader({ alg: 'ES256', kid: 'parley-test-key', jwk: await exportJWK(attacker.publicKey) })
        .setIssuer(supabaseIssuer())
        .setAudience('authenticated')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(attacker.privateKey);
      return `Bearer ${token}`;
    },
  },
  { name: 'an sk_ key that does not exist', authorization: () => `Bearer sk_${'A'.repeat(32)}` },
  { name: 'a pk_ key that does not exist', authorization: () => `Bearer pk_${'z'.repeat(32)}` },
  { name: 'a key with the wrong type prefix', authorization: (t) => `Bearer pk_${t.secretKey.slice(3)}` },
  { name: 'a key with the wrong case', authorization: (t) => `Bearer ${t.secretKey.toUpperCase()}` },
  {
    name: 'a revoked secret key',
    authorization: async (t) => {
      await revoke(t, t.secretKeyId);
      return `Bearer ${t.secretKey}`;
    },
  },
  {
    name: 'a revoked publishable key',
    authorization: async (t) => {
      await revoke(t, t.publishableKeyId);
      return `Bearer ${t.publishableKey}`;
    },
  },
  {
    name: 'a key rotated with no grace period',
    authorization: async (t) => {
      const res = await call(
        `/api/v1/projects/${t.projectId}/keys/${t.secretKeyId}/rotate`,
        postJson(t.owner, { grace_seconds: 0 }),
      );
      expect(res.status).toBe(201);
      return `Bearer ${t.secretKey}`;
    },
  },
  {
    name: 'a session token signed with the wrong secret',
    authorization: async (t) => {
      const { endUserId } = await endUserOf(t);
      const forged = await signSession(
        'not-the-session-secret-0123456789abcdef',
        { endUserId, projectId: t.projectId },
        3600,
      );
      return `Bearer ${forged.token}`;
    },
  },
  {
    name: 'an expired session token',
    authorization: async (t) => {
      const { endUserId } = await endUserOf(t);
      return `Bearer ${(await signSession(env.SESSION_SECRET, { endUserId, projectId: t.projectId }, -60)).token}`;
    },
  },
  {
    name: 'a session token with a tampered project id',
    authorization: async (t) => {
      const { token } = await endUserOf(t);
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(atob((payload ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as object;
      return `Bearer ${header}.${b64url(JSON.stringify({ ...claims, pid: crypto.randomUUID() }))}.${signature}`;
    },
  },
  {
    name: 'a session token naming an end user of another project',
    authorization: async (t) => {
      const other = await createTenant();
      const { endUserId } = await endUserOf(other);
      return `Bearer ${(await signSession(env.SESSION_SECRET, { endUserId, projectId: t.projectId }, 3600)).token}`;
    },
  },
  {
    name: 'a session token whose subject is not an end user id',
    authorization: async (t) =>
      `Bearer ${(await signSession(env.SESSION_SECRET, { endUserId: 'nobody', projectId: t.projectId }, 3600)).token}`,
  },
  {
    name: 'a session token whose project id is not a uuid',
    authorization: async (t) => {
      const { endUserId } = await endUserOf(t);
      return `Bearer ${(await signSession(env.SESSION_SECRET, { endUserId, projectId: 'project-1' }, 3600)).token}`;
    },
  },
  {
    name: 'a session token whose project was deleted',
    authorization: async (t) => {
      const { token } = await endUserOf(t);
      const res = await call(`/api/v1/projects/${t.projectId}`, { method: 'DELETE', headers: auth(t.owner) });
      expect(res.status).toBe(204);
      return `Bearer ${token}`;
    },
  },
];

/** One route per kind of caller: owner-only, key-only, and owner-only scoped to a project. */
const ROUTES = [
  {
    name: 'GET /projects',
    request: (_t: Tenant, h: Record<string, string>) => call('/api/v1/projects', { headers: h }),
  },
  {
    name: 'POST /auth/session',
    request: (_t: Tenant, h: Record<string, string>) =>
      call('/api/v1/auth/session', {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/json' },
        body: '{}',
      }),
  },
  {
    name: 'GET /projects/:id/keys',
    request: (t: Tenant, h: Record<string, string>) => call(`/api/v1/projects/${t.projectId}/keys`, { headers: h }),
  },
];

describe('credential fuzzing', () => {
  it.each(CASES)('$name → 401 unauthorized', async ({ authorization }) => {
    const tenant = await createTenant();
    const header = await authorization(tenant);
    // Each case from its own address: failed authentications are limited per IP (20 a minute),
    // and this suite fails on purpose far more often than one client may.
    const from = { 'cf-connecting-ip': `2001:db8:f::${crypto.randomUUID().slice(0, 4)}` };
    for (const route of ROUTES) {
      const res = await route.request(tenant, header === undefined ? from : { ...from, authorization: header });
      const text = await res.clone().text();
      try {
        await expectEnvelope(res, 401, 'unauthorized');
      } catch (err) {
        throw new Error(`${route.name}: ${(err as Error).message}`);
      }
      expect(res.headers.get('www-authenticate'), route.name).toMatch(/^Bearer/);
      expect(text, route.name).not.toContain(tenant.identitySecret);
    }
  });
});

describe('valid credentials next to the forgeries', () => {
  it('an ES256 token signed with the published key is accepted (the JWKS path works)', async () => {
    const sub = crypto.randomUUID();
    const token = await asymmetricToken({ sub, email: 'es256@example.com' });
    const created = await call('/api/v1/projects', postJson(token, { name: 'Via JWKS' }));
    expect(created.status).toBe(201);
    const { id } = await created.json<{ id: string }>();
    // A second token of the same user (the JWKS now cached) sees the project: same owner.
    const again = await asymmetricToken({ sub });
    const list = await call('/api/v1/projects', { headers: auth(again) });
    expect((await list.json<{ data: { id: string }[] }>()).data.map((p) => p.id)).toEqual([id]);
  });

  it('the Bearer scheme is case-insensitive', async () => {
    const tenant = await createTenant();
    const res = await call(`/api/v1/projects/${tenant.projectId}`, {
      headers: { authorization: `bearer ${tenant.owner}` },
    });
    expect(res.status).toBe(200);
  });

  it("another project's key on project A's owner routes is refused with 403 (keys never reach owner routes)", async () => {
    const a = await createTenant();
    const b = await createTenant();
    for (const key of [b.secretKey, b.publishableKey]) {
      await expectEnvelope(
        await call(`/api/v1/projects/${a.projectId}/keys`, { headers: auth(key) }),
        403,
        'forbidden',
      );
    }
  });

  it("on a route that accepts project keys, another project's key answers 404 and its own 200", async () => {
    // No public route takes a key *and* a project in its path yet; this is the rule access() applies.
    const app = createBaseApp();
    app.get(
      '/api/v1/projects/:id/probe',
      access({ principals: ['secret_key', 'publishable_key', 'session'], project: 'id' }),
      (c) => c.json({ project: c.get('projectId') }),
    );
    const a = await createTenant();
    const b = await createTenant();
    const bSession = (await endUserOf(b)).token;
    for (const credential of [b.secretKey, b.publishableKey, bSession]) {
      await expectEnvelope(
        await callApp(app, `/api/v1/projects/${a.projectId}/probe`, { headers: auth(credential) }),
        404,
        'not_found',
      );
    }
    const own = await callApp(app, `/api/v1/projects/${a.projectId}/probe`, { headers: auth(a.secretKey) });
    expect(own.status).toBe(200);
    expect(await own.json()).toEqual({ project: a.projectId });
  });
});
