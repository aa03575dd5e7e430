/**
 * `POST /api/v1/auth/session`: anonymous visitors, verified users (HMAC user_hash or a secret key
 * vouching), end users of the customer's own Supabase project, allowed origins, and the session
 * token it returns used as a credential.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { signSession } from '../src/auth/jwt';
import { call, expectEnvelope } from './support/http';
import { asymmetricToken, auth, createTenant, postJson, type Tenant } from './support/tenants';

interface Session {
  token: string;
  end_user_id: string;
  expires_at: string;
  identity: 'anonymous' | 'verified' | 'supabase';
  visitor_id?: string;
}

const session = (key: string, body: unknown, headers: Record<string, string> = {}) =>
  call('/api/v1/auth/session', postJson(key, body, headers));

async function opened(res: Response): Promise<Session> {
  if (res.status !== 201) throw new Error(`expected 201, got ${res.status} ${await res.text()}`);
  return res.json<Session>();
}

/** What the customer's server computes: hex HMAC-SHA256(identity secret, user id). */
async function userHash(secret: string, userId: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(userId));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function patchProject(t: Tenant, body: unknown): Promise<void> {
  const res = await call(`/api/v1/projects/${t.projectId}`, { ...postJson(t.owner, body), method: 'PATCH' });
  expect(res.status).toBe(200);
}

describe('anonymous sessions', () => {
  it('issue a visitor id when none is given, and keep the end user for the same visitor id', async () => {
    const t = await createTenant();
    const first = await opened(await session(t.publishableKey, {}));
    expect(first).toMatchObject({ identity: 'anonymous', visitor_id: expect.stringMatching(/^v_[0-9a-f]{32}$/) });
    expect(new Date(first.expires_at).getTime()).toBeGreaterThan(Date.now());

    const again = await opened(await session(t.publishableKey, { visitor_id: first.visitor_id }));
    expect(again).toMatchObject({
      identity: 'anonymous',
      visitor_id: first.visitor_id,
      end_user_id: first.end_user_id,
    });

    const stranger = await opened(await session(t.publishableKey, {}));
    expect(stranger.end_user_id).not.toBe(first.end_user_id);
    expect(stranger.visitor_id).not.toBe(first.visitor_id);
  });

  it('a client-chosen visitor id maps to one end user per project', async () => {
    const a = await createTenant();
    const b = await createTenant();
    const visitor_id = `visitor_${crypto.randomUUID().slice(0, 8)}`;
    const inA = await opened(await session(a.publishableKey, { visitor_id }));
    const inAAgain = await opened(await session(a.secretKey, { visitor_id }));
    const inB = await opened(await session(b.publishableKey, { visitor_id }));
    expect(inA).toMatchObject({ identity: 'anonymous', visitor_id });
    expect(inAAgain.end_user_id).toBe(inA.end_user_id);
    expect(inB.end_user_id).not.toBe(inA.end_user_id);
  });

  it('refuses a malformed visitor id', async () => {
    const t = await createTenant();
    const body = await expectEnvelope(
      await session(t.publishableKey, { visitor_id: 'short' }),
      400,
      'validation_failed',
    );
    expect(body.error.details?.map((d) => d.path)).toEqual(['visitor_id']);
  });
});

describe('verified users', () => {
  it('a correct user_hash gives a verified end user who is the same on every device', async () => {
    const t = await createTenant();
    const user_id = 'customer-user-42';
    const user_hash = await userHash(t.identitySecret, user_id);
    const laptop = await opened(await session(t.publishableKey, { user_id, user_hash }));
    expect(laptop.identity).toBe('verified');
    expect(laptop.visitor_id).toBeUndefined();
    const phone = await opened(await session(t.publishableKey, { user_id, user_hash: user_hash.toUpperCase() }));
    expect(phone).toMatchObject({ identity: 'verified', end_user_id: laptop.end_user_id });
  });

  it('refuses a wrong user_hash, one made for another user, or none, with a publishable key', async () => {
    const t = await createTenant();
    const other = await createTenant();
    const user_id = 'customer-user-42';
    const refusals = [
      { user_id, user_hash: '0'.repeat(64) },
      { user_id, user_hash: await userHash(t.identitySecret, 'customer-user-43') },
      { user_id, user_hash: await userHash(other.identitySecret, user_id) },
      { user_id },
    ];
    for (const body of refusals) {
      await expectEnvelope(await session(t.publishableKey, body), 401, 'unauthorized');
    }
  });

  it('a secret key vouches for user_id alone', async () => {
    const t = await createTenant();
    const user_id = 'server-side-user';
    const fromServer = await opened(await session(t.secretKey, { user_id }));
    expect(fromServer.identity).toBe('verified');
    // The widget proving the same user with user_hash reaches the same end user.
    const fromWidget = await opened(
      await session(t.publishableKey, { user_id, user_hash: await userHash(t.identitySecret, user_id) }),
    );
    expect(fromWidget.end_user_id).toBe(fromServer.end_user_id);
  });

  it('a verified user and an anonymous visitor with the same id are different end users', async () => {
    const t = await createTenant();
    const id = 'same_identifier_123';
    const verified = await opened(await session(t.secretKey, { user_id: id }));
    const anonymous = await opened(await session(t.secretKey, { visitor_id: id }));
    expect(anonymous.end_user_id).not.toBe(verified.end_user_id);
  });
});

describe('Supabase end users', () => {
  it("a token of the customer's Supabase project gives a supabase end user, stable across tokens", async () => {
    const t = await createTenant();
    await patchProject(t, { settings: { end_user_supabase_url: inject('supabaseUrl') } });
    const sub = crypto.randomUUID();
    const first = await opened(await session(t.publishableKey, { supabase_token: await asymmetricToken({ sub }) }));
    expect(first.identity).toBe('supabase');
    const second = await opened(await session(t.publishableKey, { supabase_token: await asymmetricToken({ sub }) }));
    expect(second.end_user_id).toBe(first.end_user_id);
    const someoneElse = await opened(
      await session(t.publishableKey, { supabase_token: await asymmetricToken({ sub: crypto.randomUUID() }) }),
    );
    expect(someoneElse.end_user_id).not.toBe(first.end_user_id);
  });

  it('refuses tokens that do not verify against that project', async () => {
    const t = await createTenant();
    await patchProject(t, { settings: { end_user_supabase_url: inject('supabaseUrl') } });
    const sub = crypto.randomUUID();
    const forgeries = [
      await asymmetricToken({ sub }, { key: 'unpublished' }),
      await asymmetricToken({ sub }, { expiresIn: -60 }),
      await asymmetricToken({ sub }, { issuer: 'https://other.supabase.co/auth/v1' }),
      // An owner token of Parley's own Supabase (HS256) is not an end-user token of this project.
      t.owner,
      'not-a-token',
    ];
    for (const supabase_token of forgeries) {
      await expectEnvelope(await session(t.publishableKey, { supabase_token }), 401, 'unauthorized');
    }
  });

  it('answers 400 when the project does not accept Supabase tokens', async () => {
    const t = await createTenant();
    const token = await asymmetricToken({ sub: crypto.randomUUID() });
    await expectEnvelope(await session(t.publishableKey, { supabase_token: token }), 400, 'bad_request');
  });
});

describe('request validation', () => {
  it.each([
    ['visitor_id and user_id', { visitor_id: 'visitor_12345', user_id: 'u1' }],
    ['user_id and supabase_token', { user_id: 'u1', supabase_token: 'x.y.z' }],
    ['visitor_id and supabase_token', { visitor_id: 'visitor_12345', supabase_token: 'x.y.z' }],
    ['user_hash without user_id', { user_hash: 'a'.repeat(64) }],
    ['an unknown field', { email: 'someone@example.com' }],
  ])('%s → 400 validation_failed', async (_name, body) => {
    const t = await createTenant();
    await expectEnvelope(await session(t.secretKey, body), 400, 'validation_failed');
  });
});

describe('allowed origins', () => {
  it('a publishable key works only from the allowed origins', async () => {
    const t = await createTenant({ allowed_origins: ['https://shop.example'] });
    expect((await session(t.publishableKey, {}, { origin: 'https://shop.example' })).status).toBe(201);
    await expectEnvelope(await session(t.publishableKey, {}, { origin: 'https://evil.example' }), 403, 'forbidden');
    await expectEnvelope(
      await session(t.publishableKey, {}, { origin: 'https://shop.example.evil.example' }),
      403,
      'forbidden',
    );
    await expectEnvelope(await session(t.publishableKey, {}), 403, 'forbidden');
  });

  it('a secret key is server to server and is not held to origins', async () => {
    const t = await createTenant({ allowed_origins: ['https://shop.example'] });
    expect((await session(t.secretKey, {})).status).toBe(201);
    expect((await session(t.secretKey, {}, { origin: 'https://evil.example' })).status).toBe(201);
  });

  it('a project without allowed origins accepts any origin, or none', async () => {
    const t = await createTenant();
    for (const origin of ['https://shop.example', 'https://evil.example', 'http://localhost:3000']) {
      expect((await session(t.publishableKey, {}, { origin })).status).toBe(201);
    }
    expect((await session(t.publishableKey, {})).status).toBe(201);
  });

  it('origins changed with PATCH apply at once', async () => {
    const t = await createTenant();
    await patchProject(t, { allowed_origins: ['https://shop.example'] });
    await expectEnvelope(await session(t.publishableKey, {}, { origin: 'https://evil.example' }), 403, 'forbidden');
    expect((await session(t.publishableKey, {}, { origin: 'https://shop.example' })).status).toBe(201);
  });
});

describe('the session token', () => {
  it('authenticates: it is refused 403 (not 401) on owner routes', async () => {
    const t = await createTenant();
    const { token } = await opened(await session(t.publishableKey, {}));
    await expectEnvelope(await call('/api/v1/projects', { headers: auth(token) }), 403, 'forbidden');
    await expectEnvelope(await call(`/api/v1/projects/${t.projectId}`, { headers: auth(token) }), 403, 'forbidden');
    // It is not a project key either: it cannot open further sessions.
    await expectEnvelope(await session(token, {}), 403, 'forbidden');
  });

  it('expired or tampered is refused 401', async () => {
    const t = await createTenant();
    const { token, end_user_id } = await opened(await session(t.publishableKey, {}));
    const expired = await signSession(env.SESSION_SECRET, { endUserId: end_user_id, projectId: t.projectId }, -60);
    const [header, payload, signature] = token.split('.');
    const flipped = (s: string) => `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.at(-1)}`;
    const tampered = [
      `${header}.${payload}.${flipped(signature ?? '')}`,
      `${header}.${flipped(payload ?? '')}.${signature}`,
      `${header}.${payload}.`,
    ];
    for (const bad of [expired.token, ...tampered]) {
      await expectEnvelope(await call('/api/v1/projects', { headers: auth(bad) }), 401, 'unauthorized');
    }
  });
});
