/** The audit log of owner actions: recorded in the same transaction as the action itself. */
import type { Sql, TransactionSql } from 'postgres';
import type { Principal } from './auth/principal';

export type AuditAction =
  | 'project.created'
  | 'project.updated'
  | 'project.deleted'
  | 'key.created'
  | 'key.revoked'
  | 'key.rotated'
  | 'member.added'
  | 'member.updated'
  | 'member.removed'
  | 'identity_secret.rotated'
  | 'data.exported'
  | 'data.erased';

export interface AuditEntry {
  projectId: string;
  actor: Principal;
  action: AuditAction;
  targetType: string;
  targetId?: string;
  ip?: string;
  requestId?: string;
  metadata?: Record<string, string | number | boolean | null>;
}

function actorOf(principal: Principal): { type: 'owner' | 'secret_key' | 'system'; id: string } {
  if (principal.kind === 'owner') return { type: 'owner', id: principal.userId };
  if (principal.kind === 'secret_key') return { type: 'secret_key', id: principal.keyId };
  return { type: 'system', id: principal.kind };
}

export async function recordAudit(sql: Sql | TransactionSql, entry: AuditEntry): Promise<void> {
  const actor = actorOf(entry.actor);
  await sql`
    insert into audit_log (project_id, actor_type, actor_id, action, target_type, target_id, ip, request_id, metadata)
    values (${entry.projectId}, ${actor.type}, ${actor.id}, ${entry.action}, ${entry.targetType},
            ${entry.targetId ?? null}, ${entry.ip ?? null}, ${entry.requestId ?? null}, ${sql.json(entry.metadata ?? {})})`;
}
