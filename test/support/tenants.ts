/**
 * Tenants for tests: each test makes its own owner, project and keys through the public API,
 * so no test depends on another's rows.
 */
import { env } from 'cloudflare:workers';
import { SignJWT } from 'jose';
import { inject } from 'vitest';
import { TEST_SUPABASE_JWT_SECRET } from './constants';
import { call } from './http';

export interface OwnerTokenOptions {
  userId?: string;
  expiresIn?: number;
  issuer?: string;
  audience?: string;
  secret?: string;
}

/** An HS256 Supabase access token signed with the legacy secret the test Worker trusts. */
export async function ownerToken(opts: OwnerTokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'authenticated', email: 'owner@example.com' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.userId ?? crypto.randomUUID())
    .setIssuer(opts.issuer ?? `${env.SUPABASE_URL}/auth/v1`)
    .setAudience(opts.audience ?? 'authenticated')
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expiresIn ?? 3600))
    .sign(new TextEncoder().encode(opts.secret ?? TEST_SUPABASE_JWT_SECRET));
}

/** An ES256 token from the fake Supabase Auth (its key is in the JWKS unless `unpublished`). */
export async function asymmetricToken(
  claims: Record<string, unknown>,
  opts: { expiresIn?: number; key?: 'published' | 'unpublished'; issuer?: string; audience?: string } = {},
): Promise<string> {
  const res = await fetch(`${inject('supabaseUrl')}/__sign`, {
    method: 'POST',
    body: JSON.stringify({ claims, ...opts }),
  });
  return (await res.json<{ token: string }>()).token;
}

export const auth = (token: string, extra: Record<string, string> = {}): Record<string, string> => ({
  authorization: `Bearer ${token}`,
  ...extra,
});

export function postJson(token: string, body: unknown, extra: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { ...auth(token, extra), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  };
}

export interface Tenant {
  userId: string;
  owner: string;
  projectId: string;
  identitySecret: string;
  secretKey: string;
  secretKeyId: string;
  publishableKey: string;
  publishableKeyId: string;
}

/**
 * A fresh owner with one project, one secret and one publishable key. The setup requests come
 * from the owner's own client address (an IPv6 documentation address), as separate owners'
 * would: otherwise every tenant of every test file draws on the one per-IP owner limit of "local".
 */
export async function createTenant(project: Record<string, unknown> = {}): Promise<Tenant> {
  const userId = crypto.randomUUID();
  const owner = await ownerToken({ userId });
  const from = { 'cf-connecting-ip': `2001:db8::${userId.slice(0, 4)}:${userId.slice(4, 8)}` };
  const created = await call(
    '/api/v1/projects',
    postJson(owner, { name: `Tenant ${userId.slice(0, 8)}`, ...project }, from),
  );
  if (created.status !== 201) throw new Error(`project creation failed: ${created.status} ${await created.text()}`);
  const { id: projectId, identity_secret: identitySecret } = await created.json<{
    id: string;
    identity_secret: string;
  }>();
  const keys = `/api/v1/projects/${projectId}/keys`;
  const sk = await call(keys, postJson(owner, { type: 'secret', name: 'server' }, from));
  const pk = await call(keys, postJson(owner, { type: 'publishable', name: 'widget' }, from));
  const secret = await sk.json<{ id: string; key: string }>();
  const publishable = await pk.json<{ id: string; key: string }>();
  return {
    userId,
    owner,
    projectId,
    identitySecret,
    secretKey: secret.key,
    secretKeyId: secret.id,
    publishableKey: publishable.key,
    publishableKeyId: publishable.id,
  };
}

/** Opens an anonymous end-user session with a publishable key. */
export async function openSession(
  tenant: Tenant,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const res = await call('/api/v1/auth/session', postJson(tenant.publishableKey, body, headers));
  return {
    res,
    body:
      res.status === 201
        ? await res.json<{ token: string; end_user_id: string; expires_at: string; visitor_id?: string }>()
        : undefined,
  };
}
