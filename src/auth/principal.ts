/**
 * Who is calling: a bearer credential resolved to a Principal with one database round trip
 * (which also loads the project of a key or session).
 *   owner            Supabase Auth access token of a business user
 *   secret_key       sk_… of one project (server to server)
 *   publishable_key  pk_… of one project (widget, mobile) — may only open end-user sessions
 *   session          Parley end-user session token bound to one project and end user
 * Anything unrecognised, expired, revoked or forged is an InvalidTokenError (→ 401).
 */
import type { Sql } from 'postgres';
import type { Config } from '../config';
import { isUuid } from '../ids';
import type { ProjectSettings } from '../projects/schemas';
import { embeddingModelsCte } from '../chat/retrieve-sql';
import { hashKey, keyType } from './keys';
import { InvalidTokenError, looksLikeSession, verifySession, verifySupabaseToken } from './jwt';

export type Principal =
  | { kind: 'owner'; userId: string }
  | { kind: 'secret_key'; projectId: string; keyId: string }
  | { kind: 'publishable_key'; projectId: string; keyId: string }
  | { kind: 'session'; projectId: string; endUserId: string };

export type PrincipalKind = Principal['kind'];

/** The project a key or session belongs to, loaded with the credential. */
export interface ProjectContext {
  id: string;
  allowedOrigins: string[];
  settings: ProjectSettings;
  /**
   * What a chat turn needs before it can search (loaded with a key or session, so that a turn's
   * retrieval and answer-cache lookup need not wait for another round trip): the version of
   * the project's knowledge and the embedding models of its chunks.
   */
  knowledge?: { version: string; embeddingModels: string[] };
}

export interface Resolved {
  principal: Principal;
  project?: ProjectContext;
}

interface ProjectRow {
  project_id: string;
  allowed_origins: string[];
  settings: ProjectSettings;
  knowledge_version: string;
  embedding_models: string[];
}

/** The `knowledge` of ProjectContext, selected beside a `models` CTE (embeddingModelsCte). */
const KNOWLEDGE_COLUMNS = `p.knowledge_version::text,
      to_json(array(select model from models where model is not null)) as embedding_models`;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Extracts the token of `Authorization: Bearer <token>`; undefined when absent or malformed. */
export function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer ([\x21-\x7e]{1,16384})$/i.exec(header?.trim() ?? '');
  return match?.[1];
}

/**
 * `onSession` is told a session's principal as soon as its signature is verified, before the
 * database confirms it (the caller may start work that only needs the ids meanwhile).
 */
export async function resolvePrincipal(
  token: string,
  sql: Sql,
  config: Config,
  touchKey: (keyId: string) => void,
  onSession?: (principal: Extract<Principal, { kind: 'session' }>) => void,
): Promise<Resolved> {
  const type = keyType(token);
  if (type) {
    const hash = await hashKey(token);
    const [row] = await sql<(ProjectRow & { id: string })[]>`
      with recursive ${embeddingModelsCte(sql, sql`(select project_id from api_keys where key_hash = ${hash})`)}
      select k.id, k.project_id, p.allowed_origins, p.settings, ${sql.unsafe(KNOWLEDGE_COLUMNS)}
      from api_keys k join projects p on p.id = k.project_id
      where k.key_hash = ${hash} and k.type = ${type}
        and k.revoked_at is null and (k.expires_at is null or k.expires_at > now())`;
    if (!row) throw new InvalidTokenError('unknown, revoked or expired key');
    touchKey(row.id);
    const principal: Principal =
      type === 'secret'
        ? { kind: 'secret_key', projectId: row.project_id, keyId: row.id }
        : { kind: 'publishable_key', projectId: row.project_id, keyId: row.id };
    return { principal, project: context(row) };
  }
  if (!JWT_SHAPE.test(token)) throw new InvalidTokenError('unrecognised credential');
  if (looksLikeSession(token)) {
    const claims = await verifySession(token, config.SESSION_SECRET);
    // Checked before SQL: a non-uuid would be a Postgres error (500), not a refusal.
    if (!isUuid(claims.endUserId) || !isUuid(claims.projectId)) throw new InvalidTokenError('malformed session token');
    onSession?.({ kind: 'session', projectId: claims.projectId, endUserId: claims.endUserId });
    const [row] = await sql<ProjectRow[]>`
      with recursive ${embeddingModelsCte(sql, sql`${claims.projectId}::uuid`)}
      select e.project_id, p.allowed_origins, p.settings, ${sql.unsafe(KNOWLEDGE_COLUMNS)}
      from end_users e join projects p on p.id = e.project_id
      where e.id = ${claims.endUserId} and e.project_id = ${claims.projectId}`;
    if (!row) throw new InvalidTokenError('session no longer valid');
    return {
      principal: { kind: 'session', projectId: row.project_id, endUserId: claims.endUserId },
      project: context(row),
    };
  }
  const claims = await verifySupabaseToken(token, {
    supabaseUrl: config.SUPABASE_URL,
    jwtSecret: config.SUPABASE_JWT_SECRET,
  });
  if (!isUuid(claims.sub)) throw new InvalidTokenError('token subject is not a user id');
  return { principal: { kind: 'owner', userId: claims.sub.toLowerCase() } };
}

function context(row: ProjectRow): ProjectContext {
  return {
    id: row.project_id,
    allowedOrigins: row.allowed_origins,
    settings: row.settings,
    knowledge: { version: row.knowledge_version, embeddingModels: row.embedding_models },
  };
}
