/**
 * One structured JSON log line per request: method, route pattern, status, duration, request id
 * and project id when known. Never headers, query strings or bodies (they carry secrets and
 * end-user text).
 */
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { AppEnv } from '../env';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

export const requestLogger = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  const status = c.res.status;
  log(status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info', 'request', {
    method: c.req.method,
    route: matchedRoute(c),
    status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    request_id: c.get('requestId'),
    project_id: c.get('projectId'),
  });
});

/** The route pattern (`/api/v1/projects/:id`), not the raw path, so ids stay out of log keys. */
function matchedRoute(c: Parameters<typeof routePath>[0]): string {
  const pattern = routePath(c, -1);
  return pattern && pattern !== '/*' && pattern !== '*' ? pattern : 'unmatched';
}
