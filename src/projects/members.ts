/**
 * Project members: list, add, change a role, remove — every query scoped by project, every
 * change audited. Changes lock the project's member rows first (in user_id order, so two
 * changes never deadlock) and decide on what they locked: two owners demoting each other at
 * once cannot both see the other still an owner, so a project never loses its last owner.
 */
import type { Sql, TransactionSql } from 'postgres';
import { recordAudit, type AuditEntry } from '../audit';
import { AppError } from '../errors';
import { isUuid } from '../ids';
import { decodeCursor, pageBy } from '../pagination';
import { addRefusal, changeRefusal, type MemberChange, type Refusal } from './member-rules';
import type { Role } from './schemas';
import type { Actor } from './service';

export interface MemberRow {
  user_id: string;
  role: Role;
  created_at: Date;
}

const memberNotFound = () => new AppError('not_found', 'Member not found');

function refuse(refusal: Refusal | undefined): void {
  if (refusal) throw new AppError(refusal.code, refusal.message);
}

const audit = (actor: Actor, entry: Omit<AuditEntry, 'actor' | 'ip' | 'requestId' | 'targetType'>): AuditEntry => ({
  ...entry,
  targetType: 'member',
  actor: actor.principal,
  ip: actor.ip,
  requestId: actor.requestId,
});

export async function listMembers(sql: Sql, projectId: string, query: { limit: number; cursor?: string }) {
  const cursor = decodeCursor(query.cursor);
  const rows = await sql<MemberRow[]>`
    select user_id, role, created_at
    from project_members
    where project_id = ${projectId}
      ${cursor ? sql`and (created_at, user_id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
    order by created_at desc, user_id desc
    limit ${query.limit + 1}`;
  return pageBy(rows, query.limit, (m) => ({ created_at: m.created_at, id: m.user_id }));
}

/**
 * The project's members, locked until the transaction ends, with the caller among them (the
 * caller's role is read here, not earlier, so a concurrent demotion of the caller counts).
 */
async function lockMembers(tx: TransactionSql, projectId: string, actor: Actor) {
  const members = await tx<MemberRow[]>`
    select user_id, role, created_at from project_members
    where project_id = ${projectId}
    order by user_id
    for update`;
  const me = members.find((m) => m.user_id === actor.principal.userId);
  if (!me) throw new AppError('not_found', 'Project not found');
  return { members, me, owners: members.filter((m) => m.role === 'owner').length };
}

/** Adds a member; 409 conflict when the user already is one (whatever their role). */
export async function addMember(
  sql: Sql,
  actor: Actor,
  projectId: string,
  input: { user_id: string; role: Role },
): Promise<MemberRow> {
  return sql.begin(async (tx) => {
    const { me } = await lockMembers(tx, projectId, actor);
    refuse(addRefusal(me.role, input.role));
    const [row] = await tx<MemberRow[]>`
      insert into project_members (project_id, user_id, role)
      values (${projectId}, ${input.user_id}, ${input.role})
      on conflict (project_id, user_id) do nothing
      returning user_id, role, created_at`;
    if (!row) throw new AppError('conflict', 'This user is already a member of the project');
    await recordAudit(
      tx,
      audit(actor, { projectId, action: 'member.added', targetId: row.user_id, metadata: { role: row.role } }),
    );
    return row;
  });
}

/** Loads and checks a change to `userId`; 404 for anyone who is not a member of this project. */
async function prepareChange(
  tx: TransactionSql,
  actor: Actor,
  projectId: string,
  userId: string,
  change: MemberChange,
) {
  const { members, me, owners } = await lockMembers(tx, projectId, actor);
  const target = members.find((m) => m.user_id === userId.toLowerCase());
  if (!target) throw memberNotFound();
  refuse(changeRefusal(me, target, change, owners));
  return target;
}

export async function changeMemberRole(
  sql: Sql,
  actor: Actor,
  projectId: string,
  userId: string,
  role: Role,
): Promise<MemberRow> {
  if (!isUuid(userId)) throw memberNotFound();
  return sql.begin(async (tx) => {
    const target = await prepareChange(tx, actor, projectId, userId, { role });
    if (target.role === role) return target;
    const [row] = await tx<MemberRow[]>`
      update project_members set role = ${role}
      where project_id = ${projectId} and user_id = ${target.user_id}
      returning user_id, role, created_at`;
    if (!row) throw memberNotFound();
    await recordAudit(
      tx,
      audit(actor, {
        projectId,
        action: 'member.updated',
        targetId: row.user_id,
        metadata: { from: target.role, to: role },
      }),
    );
    return row;
  });
}

/**
 * Removes a member (or lets the caller leave). Their unresolved tickets go back to the queue
 * (`open`, no assignee) so no handed-off conversation waits on someone who is gone.
 */
export async function removeMember(sql: Sql, actor: Actor, projectId: string, userId: string): Promise<void> {
  if (!isUuid(userId)) throw memberNotFound();
  await sql.begin(async (tx) => {
    const target = await prepareChange(tx, actor, projectId, userId, 'remove');
    await tx`delete from project_members where project_id = ${projectId} and user_id = ${target.user_id}`;
    await tx`
      update tickets set assignee_id = null, status = 'open', updated_at = now()
      where project_id = ${projectId} and assignee_id = ${target.user_id} and status <> 'resolved'`;
    await recordAudit(
      tx,
      audit(actor, { projectId, action: 'member.removed', targetId: target.user_id, metadata: { role: target.role } }),
    );
  });
}
