/**
 * One structured JSON log line per request: method, route pattern, status, duration, request id
 * and project id when known. Never headers, query strings or bodies (they carry secrets and
 * end-user text).
 */
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import type { AppEnv } from '../env';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Whether `level` passes the configured LOG_LEVEL (info when unset or invalid). */
export function enabled(level: LogLevel, configured: unknown): boolean {
  const threshold = typeof configured === 'string' && configured in RANK ? RANK[configured as LogLevel] : RANK.info;
  return RANK[level] >= threshold;
}

export const requestLogger = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  const status = c.res.status;
  const level: LogLevel = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
  if (!enabled(level, c.env.LOG_LEVEL)) return;
  log(level, 'request', {
    method: c.req.method,
    route: matchedRoute(c),
    status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    request_id: c.get('requestId'),
    project_id: c.get('projectId'),
  });
});

/** The route pattern (`/api/v1/projects/:id`), not the raw path, so ids stay out of log keys. */
function matchedRoute(c: Parameters<typeof matchedRoutes>[0]): string {
  const handler = matchedRoutes(c).findLast((r) => r.method !== 'ALL');
  return handler?.path ?? 'unmatched';
}
