/**
 * The identity secret customers sign end-user ids with (user_hash = HMAC-SHA256(secret,
 * user_id)), and its rotation: a new secret at once, while the previous one keeps verifying
 * hashes for a grace period so sites embedding the widget can switch — or stops at once (grace
 * 0) when it leaked. Expiry is computed and compared in SQL with now(), never with the
 * Worker's clock. The previous secret is never returned by the API; only its expiry is.
 */
import type { Sql } from 'postgres';
import { recordAudit } from '../audit';
import { sameDigest, userHash } from '../end-users';
import { AppError } from '../errors';
import type { Actor } from './service';

export interface RotatedSecret {
  identity_secret: string;
  previous_identity_secret_expires_at: Date | null;
}

/** Rotates to a new secret (the column's default); the old one verifies for `graceHours` more. */
export async function rotateIdentitySecret(
  sql: Sql,
  actor: Actor,
  projectId: string,
  graceHours: number,
): Promise<RotatedSecret> {
  const grace = graceHours > 0;
  return sql.begin(async (tx) => {
    // SET expressions read the row as it was: the previous secret is the one being replaced.
    const [row] = await tx<RotatedSecret[]>`
      update projects set
        previous_identity_secret = ${grace ? tx`identity_secret` : null},
        previous_identity_secret_expires_at = ${grace ? tx`now() + make_interval(hours => ${graceHours})` : null},
        identity_secret = default,
        updated_at = now()
      where id = ${projectId}
      returning identity_secret, previous_identity_secret_expires_at`;
    if (!row) throw new AppError('not_found', 'Project not found');
    await recordAudit(tx, {
      projectId,
      actor: actor.principal,
      ip: actor.ip,
      requestId: actor.requestId,
      action: 'identity_secret.rotated',
      targetType: 'project',
      targetId: projectId,
      metadata: { grace_hours: graceHours },
    });
    return row;
  });
}

/** The secrets that verify a user_hash now: the current one, and the previous during its grace. */
export async function identitySecrets(sql: Sql, projectId: string): Promise<string[]> {
  const [row] = await sql<{ current: string; previous: string | null }[]>`
    select identity_secret as current,
      case when previous_identity_secret_expires_at > now() then previous_identity_secret end as previous
    from projects where id = ${projectId}`;
  if (!row) return [];
  return row.previous ? [row.current, row.previous] : [row.current];
}

/** Whether `hash` is the HMAC of `userId` under one of `secrets`; each is compared in constant time. */
export async function verifiesUserHash(secrets: string[], userId: string, hash: string): Promise<boolean> {
  const expected = await Promise.all(secrets.map((secret) => userHash(secret, userId)));
  // Every candidate is compared, so the time taken does not tell which secret matched.
  return expected.map((digest) => sameDigest(digest, hash)).includes(true);
}
