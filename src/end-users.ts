/**
 * End users and their identities. A verified user (HMAC user_hash, a secret key vouching, or a
 * Supabase JWT) maps to one end_user per project, so they keep the same id across devices.
 */
import type { Sql } from 'postgres';

export type EndUserKind = 'anonymous' | 'verified' | 'supabase';

export async function upsertEndUser(
  sql: Sql,
  projectId: string,
  kind: EndUserKind,
  externalId: string,
): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    insert into end_users (project_id, kind, external_id) values (${projectId}, ${kind}, ${externalId})
    on conflict (project_id, kind, external_id) do update set last_seen_at = now()
    returning id`;
  if (!row) throw new Error('upsert returned no row');
  return row.id;
}

/** Hex HMAC-SHA256(secret, userId): what a customer's backend computes as `user_hash`. */
export async function userHash(secret: string, userId: string): Promise<string> {
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

/** Constant-time comparison of two hex digests. */
export function sameDigest(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a.toLowerCase());
  const right = new TextEncoder().encode(b.toLowerCase());
  if (left.length !== right.length) return false;
  return crypto.subtle.timingSafeEqual(left, right);
}
