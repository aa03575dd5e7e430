/**
 * JSON Web Tokens with jose: owners' Supabase Auth access tokens (asymmetric keys from the
 * project's JWKS, or the legacy HS256 secret when configured) and Parley's own end-user session
 * tokens (HS256 with SESSION_SECRET). Issuer, audience and expiry are always checked.
 */
import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { recall, remember } from '../lru';

const ASYMMETRIC = ['ES256', 'RS256', 'EdDSA'];

// Deliberate isolate-level cache: one JWKS fetcher per issuer URL; jose caches the keys and
// refetches on an unknown `kid` (at most every 30 s). Issuers include each project's
// `end_user_supabase_url`, which owners set freely, so the cache keeps only the JWKS_ISSUERS_MAX
// most recently used (an evicted issuer's keys are fetched again on its next token).
const jwksCache = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
export const JWKS_ISSUERS_MAX = 100;

/** The JWKS fetcher of a Supabase project, cached per isolate (least recently used evicted). */
export function jwks(supabaseUrl: string): ReturnType<typeof createRemoteJWKSet> {
  const url = `${supabaseUrl.replace(/\/$/, '')}/auth/v1/.well-known/jwks.json`;
  let set = recall(jwksCache, url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), {
      timeoutDuration: 3000,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
    remember(jwksCache, url, set, JWKS_ISSUERS_MAX);
  }
  return set;
}

/** How many issuers' JWKS fetchers this isolate holds (at most JWKS_ISSUERS_MAX). */
export function jwksCacheSize(): number {
  return jwksCache.size;
}

export class InvalidTokenError extends Error {}

export interface SupabaseAuthOptions {
  supabaseUrl: string;
  /** Legacy HS256 secret; HS256 tokens are refused when absent. */
  jwtSecret?: string;
  audience?: string;
}

export interface SupabaseClaims extends JWTPayload {
  sub: string;
  email?: string;
  role?: string;
}

/** Verifies a Supabase Auth access token; throws InvalidTokenError for anything not valid. */
export async function verifySupabaseToken(token: string, opts: SupabaseAuthOptions): Promise<SupabaseClaims> {
  const issuer = `${opts.supabaseUrl.replace(/\/$/, '')}/auth/v1`;
  const audience = opts.audience ?? 'authenticated';
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw new InvalidTokenError('malformed token');
  }
  try {
    const { payload } =
      alg === 'HS256'
        ? opts.jwtSecret
          ? await jwtVerify(token, new TextEncoder().encode(opts.jwtSecret), {
              algorithms: ['HS256'],
              issuer,
              audience,
              requiredClaims: ['exp'],
            })
          : failHs256()
        : await jwtVerify(token, jwks(opts.supabaseUrl), {
            algorithms: ASYMMETRIC,
            issuer,
            audience,
            requiredClaims: ['exp'],
          });
    if (typeof payload.sub !== 'string' || payload.sub.length === 0)
      throw new InvalidTokenError('token has no subject');
    return payload as SupabaseClaims;
  } catch (err) {
    throw asInvalid(err);
  }
}

function failHs256(): never {
  throw new InvalidTokenError('HS256 tokens are not accepted (no legacy JWT secret configured)');
}

function asInvalid(err: unknown): InvalidTokenError {
  if (err instanceof InvalidTokenError) return err;
  if (err instanceof errors.JWTExpired) return new InvalidTokenError('token expired');
  if (err instanceof errors.JWKSNoMatchingKey) return new InvalidTokenError('unknown signing key');
  if (err instanceof errors.JOSEError) return new InvalidTokenError('invalid token');
  // Network trouble fetching the JWKS and the like: still a refusal, never a 500.
  return new InvalidTokenError('token could not be verified');
}

const SESSION_ISSUER = 'parley';
const SESSION_AUDIENCE = 'parley:session';

export interface SessionClaims {
  endUserId: string;
  projectId: string;
  expiresAt: Date;
}

export async function signSession(
  secret: string,
  claims: { endUserId: string; projectId: string },
  ttlSeconds: number,
): Promise<{ token: string; expiresAt: Date }> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ pid: claims.projectId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(SESSION_ISSUER)
    .setAudience(SESSION_AUDIENCE)
    .setSubject(claims.endUserId)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
  return { token, expiresAt: new Date((now + ttlSeconds) * 1000) };
}

export async function verifySession(token: string, secret: string): Promise<SessionClaims> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      issuer: SESSION_ISSUER,
      audience: SESSION_AUDIENCE,
    });
    if (typeof payload.sub !== 'string' || typeof payload.pid !== 'string' || typeof payload.exp !== 'number') {
      throw new InvalidTokenError('session token is missing claims');
    }
    return { endUserId: payload.sub, projectId: payload.pid, expiresAt: new Date(payload.exp * 1000) };
  } catch (err) {
    throw asInvalid(err);
  }
}

/** Whether an (unverified) JWT claims to be one of Parley's session tokens. */
export function looksLikeSession(token: string): boolean {
  const payload = token.split('.')[1];
  if (!payload) return false;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { iss?: unknown };
    return json.iss === SESSION_ISSUER;
  } catch {
    return false;
  }
}
