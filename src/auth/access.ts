/**
 * Authorization, declared per route and enforced here, in one middleware:
 *
 *   app.get('/projects/:id/keys', access({ principals: ['owner'], roles: ['owner', 'admin'], project: 'id' }), …)
 *
 * 0. refuse an IP with too many failed authentications this minute (429 rate_limited, before any
 *    credential is verified; see ./failures.ts);
 * 1. authenticate the bearer credential (401 when missing, malformed, expired, forged, revoked,
 *    each counted against the caller's IP);
 * 2. refuse principal kinds the route does not accept (403, e.g. a publishable key where a
 *    secret key is required);
 * 3. scope to the project in the path: another tenant's ids answer 404, never 403, so nothing
 *    leaks about what exists; an owner's role must be allowed (403 for members without it);
 * 4. refuse browser origins outside the project's allowed_origins for publishable keys and
 *    end-user sessions (403 origin_not_allowed);
 * 5. apply the rate limits and set X-RateLimit-* headers (429 rate_limited with Retry-After).
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { isUuid } from '../ids';
import { annotate } from '../http/openapi';
import type { ProjectSettings, Role } from '../projects/schemas';
import { checkLimits, rateLimitRedis, type LimitCheck, type LimitDecision } from '../ratelimit';
import { countFailure, failureBlock } from './failures';
import { InvalidTokenError } from './jwt';
import { bearer, resolvePrincipal, type Principal, type PrincipalKind, type ProjectContext } from './principal';

export interface AccessRule {
  principals: PrincipalKind[];
  /** Roles an owner needs in the path's project (with `project`). Defaults to any member. */
  roles?: Role[];
  /** Name of the path parameter holding the project id this route is scoped to. */
  project?: string;
  /**
   * The JSON body field naming the end user a secret key acts for (`user_id`, or OpenAI's
   * `user`): that end user's limits then apply to the request as they do to a session's.
   */
  actsFor?: string;
}

// Deliberate isolate-level state: when each key last had last_used_at written, so the write
// happens at most once a minute per key and isolate instead of on every request.
const touched = new Map<string, number>();
const TOUCH_EVERY_MS = 60_000;

function touchKey(c: Context<AppEnv>, keyId: string): void {
  const now = Date.now();
  if ((touched.get(keyId) ?? 0) > now - TOUCH_EVERY_MS) return;
  touched.set(keyId, now);
  const sql = c.get('sql')();
  c.executionCtx.waitUntil(
    sql`update api_keys set last_used_at = now() where id = ${keyId}`.catch(() => touched.delete(keyId)),
  );
}

/** The client's address, as Cloudflare reports it ("local" in development without it). */
function clientIp(c: Context<AppEnv>): string {
  return c.req.header('cf-connecting-ip') ?? 'local';
}

/**
 * A 401, after counting the failure against the caller's IP: the failure that puts the IP over
 * its limit is answered 429 instead, as the IP's next requests will be.
 */
async function unauthorized(c: Context<AppEnv>, message: string, challenge: string): Promise<AppError> {
  const config = c.get('config');
  const block = await countFailure(rateLimitRedis(config), clientIp(c), config.AUTH_FAILURES_PER_MINUTE);
  if (block) return tooManyFailures(block.limit, block.reset);
  return new AppError('unauthorized', message, { headers: { 'WWW-Authenticate': challenge } });
}

async function authenticate(
  c: Context<AppEnv>,
  onSession?: Parameters<typeof resolvePrincipal>[4],
): Promise<{ principal: Principal; project?: ProjectContext }> {
  const token = bearer(c.req.header('authorization'));
  if (!token) throw await unauthorized(c, 'Send a credential as `Authorization: Bearer <token>`', 'Bearer');
  try {
    return await resolvePrincipal(token, c.get('sql')(), c.get('config'), (keyId) => touchKey(c, keyId), onSession);
  } catch (err) {
    if (err instanceof InvalidTokenError) {
      throw await unauthorized(c, `Invalid credential: ${err.message}`, 'Bearer error="invalid_token"');
    }
    throw err;
  }
}

/** Loads the owner's membership of the path's project; 404 when not a member. */
async function ownerProject(
  c: Context<AppEnv>,
  userId: string,
  projectId: string,
  roles: Role[] | undefined,
): Promise<ProjectContext & { role: Role }> {
  const sql = c.get('sql')();
  const [row] = await sql<
    { id: string; allowed_origins: string[]; settings: ProjectContext['settings']; role: Role }[]
  >`
    select p.id, p.allowed_origins, p.settings, m.role
    from project_members m join projects p on p.id = m.project_id
    where m.project_id = ${projectId} and m.user_id = ${userId}`;
  if (!row) throw notFound();
  if (roles && !roles.includes(row.role)) {
    throw new AppError('forbidden', `This needs one of the roles ${roles.join(', ')}; you are ${row.role}`);
  }
  return { id: row.id, allowedOrigins: row.allowed_origins, settings: row.settings, role: row.role };
}

const notFound = () => new AppError('not_found', 'Project not found');

function checkOrigin(c: Context<AppEnv>, principal: Principal, project: ProjectContext): void {
  if (principal.kind !== 'publishable_key' && principal.kind !== 'session') return;
  if (project.allowedOrigins.length === 0) return;
  const origin = c.req.header('origin');
  if (!origin || !project.allowedOrigins.includes(origin.toLowerCase())) {
    throw new AppError(
      'forbidden',
      origin
        ? `Origin ${origin.slice(0, 200)} is not allowed for this project`
        : 'This project only accepts browser requests from its allowed origins',
    );
  }
}

/** The end user a secret key says it acts for, read from the JSON body (undefined when absent or malformed). */
async function actingFor(c: Context<AppEnv>, field: string | undefined): Promise<string | undefined> {
  if (!field || !(c.req.header('content-type') ?? '').includes('json')) return undefined;
  // Hono caches the parsed body, so the route's validator reads it again without cost; a
  // malformed body is left for the validator to report.
  const body: unknown = await c.req.json().catch(() => undefined);
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

function limitChecks(c: Context<AppEnv>, principal: Principal, endUser: string | undefined): LimitCheck[] {
  const ip = clientIp(c);
  switch (principal.kind) {
    case 'owner':
      return [
        { dimension: 'ip', identifier: ip },
        { dimension: 'key', identifier: `owner:${principal.userId}` },
      ];
    case 'secret_key':
      // Server-to-server: many end users behind one server IP, so no per-IP limit; the end user
      // it acts for is limited under the customer's own user id.
      return [
        { dimension: 'key', identifier: principal.keyId },
        ...(endUser ? [{ dimension: 'end_user' as const, identifier: `${principal.projectId}:user:${endUser}` }] : []),
        { dimension: 'project', identifier: principal.projectId },
      ];
    case 'publishable_key':
      return [
        { dimension: 'ip', identifier: `${principal.projectId}:${ip}` },
        { dimension: 'key', identifier: principal.keyId },
        { dimension: 'project', identifier: principal.projectId },
      ];
    case 'session':
      return [
        { dimension: 'ip', identifier: `${principal.projectId}:${ip}` },
        { dimension: 'end_user', identifier: principal.endUserId },
        { dimension: 'project', identifier: principal.projectId },
      ];
  }
}

function decideLimits(
  c: Context<AppEnv>,
  principal: Principal,
  settings: ProjectSettings | undefined,
  endUser: string | undefined,
): Promise<LimitDecision> {
  return checkLimits(rateLimitRedis(c.get('config')), limitChecks(c, principal, endUser), settings);
}

// Deliberate isolate-level state: the rate limits each project had when this isolate last
// loaded it. A session's limits are checked with them while its project loads (one round trip
// fewer before a chat answer); when the loaded limits differ, the check runs again with those.
const knownLimits = new Map<string, { key: string; settings: ProjectSettings }>();
const KNOWN_LIMITS_MAX = 10_000;

function limitsKey(settings: ProjectSettings | undefined): string {
  return JSON.stringify(settings?.rate_limits ?? null);
}

function rememberLimits(project: ProjectContext): void {
  if (knownLimits.size >= KNOWN_LIMITS_MAX) knownLimits.clear();
  knownLimits.set(project.id, { key: limitsKey(project.settings), settings: project.settings });
}

interface EarlyDecision {
  limits: string;
  decision: Promise<LimitDecision>;
}

/** Starts a session's rate-limit check with the limits its project had last time, if known. */
function decideEarly(
  c: Context<AppEnv>,
  principal: Extract<Principal, { kind: 'session' }>,
): EarlyDecision | undefined {
  const known = knownLimits.get(principal.projectId);
  if (!known) return undefined;
  const decision = decideLimits(c, principal, known.settings, undefined);
  decision.catch(() => {});
  return { limits: known.key, decision };
}

async function rateLimit(
  c: Context<AppEnv>,
  principal: Principal,
  project: ProjectContext | undefined,
  endUser: string | undefined,
  early: EarlyDecision | undefined,
): Promise<void> {
  const decision =
    early && early.limits === limitsKey(project?.settings)
      ? await early.decision
      : await decideLimits(c, principal, project?.settings, endUser);
  if (decision.status === 'unavailable') return;
  const resetSeconds = Math.ceil(decision.reset / 1000);
  c.header('X-RateLimit-Limit', String(decision.limit));
  c.header('X-RateLimit-Remaining', String(decision.remaining));
  c.header('X-RateLimit-Reset', String(resetSeconds));
  if (decision.status === 'limited') throw rateLimited('Too many requests', decision.limit, decision.reset);
}

/** 429 rate_limited with Retry-After and the limit's X-RateLimit-* headers. */
function rateLimited(reason: string, limit: number, reset: number): AppError {
  const retryAfter = String(Math.max(1, Math.ceil((reset - Date.now()) / 1000)));
  return new AppError('rate_limited', `${reason}; retry in ${retryAfter} s`, {
    headers: {
      'Retry-After': retryAfter,
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(Math.ceil(reset / 1000)),
    },
  });
}

function tooManyFailures(limit: number, reset: number): AppError {
  return rateLimited('Too many failed authentications from this address', limit, reset);
}

export function access(rule: AccessRule): MiddlewareHandler<AppEnv> {
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    // Known from this isolate's memory, so a good credential costs no extra Redis round trip.
    const block = failureBlock(clientIp(c));
    if (block) throw tooManyFailures(block.limit, block.reset);
    // A session's limits are checked while its project loads (see knownLimits); only for routes
    // that accept sessions, so a refused credential kind costs no limit.
    let early: EarlyDecision | undefined;
    const { principal, project: credentialProject } = await authenticate(c, (session) => {
      if (rule.principals.includes('session')) early = decideEarly(c, session);
    });
    if (!rule.principals.includes(principal.kind)) {
      const kind = principal.kind.replace('_', ' ');
      throw new AppError(
        'forbidden',
        `This route does not accept ${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} credential`,
      );
    }
    let project = credentialProject;
    if (rule.project) {
      const projectId = c.req.param(rule.project);
      if (!isUuid(projectId)) throw notFound();
      if (principal.kind === 'owner') {
        project = await ownerProject(c, principal.userId, projectId.toLowerCase(), rule.roles);
      } else if (principal.projectId !== projectId.toLowerCase()) {
        throw notFound();
      }
    }
    if (project) {
      c.set('projectId', project.id);
      checkOrigin(c, principal, project);
    }
    c.set('principal', principal);
    c.set('project', project);
    const endUser = principal.kind === 'secret_key' ? await actingFor(c, rule.actsFor) : undefined;
    if (project) rememberLimits(project);
    await rateLimit(c, principal, project, endUser, early);
    await next();
  };
  return annotate(middleware, { kind: 'access', principals: rule.principals });
}

/** The owner behind a request on an owner-only route, with what the audit log records. */
export function ownerActor(c: Context<AppEnv>): {
  principal: Extract<Principal, { kind: 'owner' }>;
  ip?: string;
  requestId: string;
} {
  const principal = c.get('principal');
  if (principal.kind !== 'owner') throw new AppError('forbidden', 'Only project owners can do this');
  return { principal, ip: c.req.header('cf-connecting-ip'), requestId: c.get('requestId') };
}
