/** API keys of a project: issue (shown once), list, revoke at once, rotate with a grace period. */
import type { Sql, TransactionSql } from 'postgres';
import { recordAudit } from '../audit';
import { displayPrefix, generateKey, hashKey, type KeyType } from '../auth/keys';
import { AppError } from '../errors';
import { isUuid } from '../ids';
import { decodeCursor, page } from '../pagination';
import type { Actor } from '../projects/service';

export interface KeyRow {
  id: string;
  type: KeyType;
  name: string | null;
  prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
}

export interface IssuedKey {
  id: string;
  type: KeyType;
  name: string | null;
  key: string;
  prefix: string;
  created_at: Date;
}

async function insertKey(
  tx: Sql | TransactionSql,
  projectId: string,
  type: KeyType,
  name: string | null,
  createdBy: string,
): Promise<IssuedKey> {
  const key = generateKey(type);
  const [row] = await tx<{ id: string; created_at: Date }[]>`
    insert into api_keys (project_id, type, name, prefix, key_hash, created_by)
    values (${projectId}, ${type}, ${name}, ${displayPrefix(key)}, ${await hashKey(key)}, ${createdBy})
    returning id, created_at`;
  if (!row) throw new Error('insert returned no row');
  return { id: row.id, type, name, key, prefix: displayPrefix(key), created_at: row.created_at };
}

const auditOf = (actor: Actor) => ({ actor: actor.principal, ip: actor.ip, requestId: actor.requestId });

export async function createKey(
  sql: Sql,
  actor: Actor,
  projectId: string,
  type: KeyType,
  name: string | null,
): Promise<IssuedKey> {
  return sql.begin(async (tx) => {
    const issued = await insertKey(tx, projectId, type, name, actor.principal.userId);
    await recordAudit(tx, {
      ...auditOf(actor),
      projectId,
      action: 'key.created',
      targetType: 'api_key',
      targetId: issued.id,
      metadata: { type, prefix: issued.prefix },
    });
    return issued;
  });
}

export async function listKeys(
  sql: Sql,
  projectId: string,
  query: { limit: number; cursor?: string; include_inactive: boolean },
) {
  const cursor = decodeCursor(query.cursor);
  const rows = await sql<KeyRow[]>`
    select id, type, name, prefix, created_at, last_used_at, expires_at, revoked_at
    from api_keys
    where project_id = ${projectId}
      ${query.include_inactive ? sql`` : sql`and revoked_at is null and (expires_at is null or expires_at > now())`}
      ${cursor ? sql`and (created_at, id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
    order by created_at desc, id desc
    limit ${query.limit + 1}`;
  return page(rows, query.limit);
}

/** Revokes at once; revoking a revoked key again is a no-op. Unknown ids (or other projects') 404. */
export async function revokeKey(sql: Sql, actor: Actor, projectId: string, keyId: string): Promise<void> {
  if (!isUuid(keyId)) throw new AppError('not_found', 'Key not found');
  await sql.begin(async (tx) => {
    const [row] = await tx<{ revoked_at: Date | null; prefix: string }[]>`
      select revoked_at, prefix from api_keys where id = ${keyId} and project_id = ${projectId} for update`;
    if (!row) throw new AppError('not_found', 'Key not found');
    if (row.revoked_at) return;
    await tx`update api_keys set revoked_at = now() where id = ${keyId}`;
    await recordAudit(tx, {
      ...auditOf(actor),
      projectId,
      action: 'key.revoked',
      targetType: 'api_key',
      targetId: keyId,
      metadata: { prefix: row.prefix },
    });
  });
}

/** Issues a replacement of the same type and name; the old key stays valid for `graceSeconds`. */
export async function rotateKey(sql: Sql, actor: Actor, projectId: string, keyId: string, graceSeconds: number) {
  if (!isUuid(keyId)) throw new AppError('not_found', 'Key not found');
  return sql.begin(async (tx) => {
    const [old] = await tx<{ type: KeyType; name: string | null; expires_at: Date | null }[]>`
      select type, name, expires_at from api_keys
      where id = ${keyId} and project_id = ${projectId}
        and revoked_at is null and (expires_at is null or expires_at > now())
      for update`;
    if (!old) throw new AppError('not_found', 'Key not found or no longer active');
    const issued = await insertKey(tx, projectId, old.type, old.name, actor.principal.userId);
    const [updated] = await tx<{ expires_at: Date }[]>`
      update api_keys
      set expires_at = least(coalesce(expires_at, 'infinity'::timestamptz), now() + make_interval(secs => ${graceSeconds})),
          replaced_by = ${issued.id}
      where id = ${keyId}
      returning expires_at`;
    await recordAudit(tx, {
      ...auditOf(actor),
      projectId,
      action: 'key.rotated',
      targetType: 'api_key',
      targetId: keyId,
      metadata: { replaced_by: issued.id, grace_seconds: graceSeconds },
    });
    return { ...issued, replaces: keyId, old_key_expires_at: updated?.expires_at ?? null };
  });
}
