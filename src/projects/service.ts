/** Projects: create, list, read, change and delete — always through the caller's membership. */
import type { Sql } from 'postgres';
import type { z } from 'zod';
import { recordAudit, type AuditEntry } from '../audit';
import type { Principal } from '../auth/principal';
import { AppError } from '../errors';
import { decodeCursor, page } from '../pagination';
import type { CreateProject, ProjectSettings, Role, UpdateProject } from './schemas';

export interface ProjectRow {
  id: string;
  name: string;
  allowed_origins: string[];
  settings: ProjectSettings;
  /** Null for agents: only owners and admins may sign end-user ids. */
  identity_secret: string | null;
  role: Role;
  created_at: Date;
  updated_at: Date;
}

export interface Actor {
  principal: Extract<Principal, { kind: 'owner' }>;
  ip?: string;
  requestId?: string;
}

const audit = (actor: Actor, entry: Omit<AuditEntry, 'actor' | 'ip' | 'requestId'>): AuditEntry => ({
  ...entry,
  actor: actor.principal,
  ip: actor.ip,
  requestId: actor.requestId,
});

export async function createProject(
  sql: Sql,
  actor: Actor,
  input: z.output<typeof CreateProject>,
): Promise<ProjectRow> {
  return sql.begin(async (tx) => {
    const [project] = await tx<Omit<ProjectRow, 'role'>[]>`
      insert into projects (name, owner_id, allowed_origins, settings)
      values (${input.name}, ${actor.principal.userId}, ${tx.json(input.allowed_origins)}, ${tx.json(input.settings)})
      returning id, name, allowed_origins, settings, identity_secret, created_at, updated_at`;
    if (!project) throw new Error('insert returned no row');
    await tx`insert into project_members (project_id, user_id, role) values (${project.id}, ${actor.principal.userId}, 'owner')`;
    await recordAudit(
      tx,
      audit(actor, { projectId: project.id, action: 'project.created', targetType: 'project', targetId: project.id }),
    );
    return { ...project, role: 'owner' as const };
  });
}

export async function listProjects(sql: Sql, userId: string, query: { limit: number; cursor?: string }) {
  const cursor = decodeCursor(query.cursor);
  // Agents see the projects they work in, not the secret that vouches for end users.
  const rows = await sql<ProjectRow[]>`
    select p.id, p.name, p.allowed_origins, p.settings, m.role, p.created_at, p.updated_at,
      case when m.role in ('owner', 'admin') then p.identity_secret end as identity_secret
    from project_members m join projects p on p.id = m.project_id
    where m.user_id = ${userId}
      ${cursor ? sql`and (p.created_at, p.id) < (${cursor.createdAt}, ${cursor.id})` : sql``}
    order by p.created_at desc, p.id desc
    limit ${query.limit + 1}`;
  return page(rows, query.limit);
}

export async function getProject(sql: Sql, userId: string, projectId: string): Promise<ProjectRow> {
  const [row] = await sql<ProjectRow[]>`
    select p.id, p.name, p.allowed_origins, p.settings, p.identity_secret, m.role, p.created_at, p.updated_at
    from project_members m join projects p on p.id = m.project_id
    where m.user_id = ${userId} and p.id = ${projectId}`;
  if (!row) throw new AppError('not_found', 'Project not found');
  return row;
}

/** Shallow-merges settings: keys given replace, keys set to null are removed. */
export function mergeSettings(current: ProjectSettings, patch: Record<string, unknown>): ProjectSettings {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next as ProjectSettings;
}

export async function updateProject(
  sql: Sql,
  actor: Actor,
  projectId: string,
  patch: z.output<typeof UpdateProject>,
): Promise<ProjectRow> {
  return sql.begin(async (tx) => {
    const [current] = await tx<
      { settings: ProjectSettings }[]
    >`select settings from projects where id = ${projectId} for update`;
    if (!current) throw new AppError('not_found', 'Project not found');
    const settings = patch.settings ? mergeSettings(current.settings, patch.settings) : current.settings;
    await tx`
      update projects set
        name = coalesce(${patch.name ?? null}, name),
        allowed_origins = ${patch.allowed_origins ? tx.json(patch.allowed_origins) : tx`allowed_origins`},
        settings = ${tx.json(settings)},
        updated_at = now()
      where id = ${projectId}`;
    await recordAudit(
      tx,
      audit(actor, {
        projectId,
        action: 'project.updated',
        targetType: 'project',
        targetId: projectId,
        metadata: { fields: Object.keys(patch).join(',') },
      }),
    );
    const [row] = await tx<ProjectRow[]>`
      select p.id, p.name, p.allowed_origins, p.settings, p.identity_secret, m.role, p.created_at, p.updated_at
      from project_members m join projects p on p.id = m.project_id
      where m.user_id = ${actor.principal.userId} and p.id = ${projectId}`;
    if (!row) throw new AppError('not_found', 'Project not found');
    return row;
  });
}

/**
 * Deletes the project and, by cascade, everything it owns in Postgres (members, keys, end users,
 * sources, conversations…). The audit record of the deletion outlives it.
 */
export async function deleteProject(sql: Sql, actor: Actor, projectId: string): Promise<void> {
  await sql.begin(async (tx) => {
    const deleted = await tx`delete from projects where id = ${projectId} returning id`;
    if (deleted.length === 0) throw new AppError('not_found', 'Project not found');
    await recordAudit(
      tx,
      audit(actor, { projectId, action: 'project.deleted', targetType: 'project', targetId: projectId }),
    );
  });
}
