/**
 * The middleware every request passes through, in order: request id, the request log line,
 * secure headers, the CORS baseline, per-request clients, the body size limit and (for API
 * routes) the configuration gate. `createBaseApp()` returns a Hono app with all of it and the
 * error handling in place; src/index.ts mounts the resources on it.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import { ConfigSchema, loadConfig } from '../config';
import { createSql } from '../db';
import type { AppEnv } from '../env';
import { AppError } from '../errors';
import { notFoundOrMethodNotAllowed, onError } from './errors';
import { requestLogger } from './logger';
import { REQUEST_ID_HEADER, requestId } from './request-id';
import type { Sql } from 'postgres';

const DEFAULT_MAX_BODY = ConfigSchema.shape.MAX_BODY_BYTES.parse(undefined);

/**
 * Opens Postgres only when a handler asks for it, and closes it after the response (in
 * waitUntil, bounded). The runtime would close a request's sockets anyway; closing explicitly
 * keeps callers that share one I/O context (tests, internal dispatch) from piling up
 * connections. A handler whose response outlives it (a stream) takes the client over with
 * `takeSql()` and closes it itself. postgres.js's end() used to leave an unhandled rejection on workerd
 * (porsager/postgres#1196, #1202); patches/postgres+3.4.9.patch fixes that.
 */
const lazySql: MiddlewareHandler<AppEnv> = async (c, next) => {
  let sql: Sql | undefined;
  let taken = false;
  const open = () => (sql ??= createSql(c.env.HYPERDRIVE.connectionString));
  c.set('sql', open);
  c.set('takeSql', () => {
    taken = true;
    return open();
  });
  try {
    await next();
  } finally {
    if (sql && !taken) c.executionCtx.waitUntil(sql.end({ timeout: 2 }).catch(() => {}));
  }
};

/**
 * Routes whose bodies may exceed MAX_BODY_BYTES, with their hard cap; the route itself then
 * enforces the project's own (smaller) limit after authentication.
 */
const LARGE_BODY_ROUTES: { pattern: RegExp; maxSize: number }[] = [
  { pattern: /^\/api\/v1\/projects\/[^/]+\/sources\/files$/, maxSize: 50 * 1024 * 1024 + 64 * 1024 },
];

const limitBody: MiddlewareHandler<AppEnv> = (c, next) => {
  const config = loadConfig(c.env);
  const large = LARGE_BODY_ROUTES.find((r) => r.pattern.test(c.req.path));
  const maxSize = large?.maxSize ?? (config.ok ? config.config.MAX_BODY_BYTES : DEFAULT_MAX_BODY);
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError('payload_too_large', `Request body exceeds the limit of ${maxSize} bytes`);
    },
  })(c, next);
};

/** API routes refuse to serve with half a configuration. */
export const requireConfig: MiddlewareHandler<AppEnv> = async (c, next) => {
  const result = loadConfig(c.env);
  if (!result.ok) {
    throw new AppError('config_invalid', 'The service is not configured correctly; the operator has been notified');
  }
  c.set('config', result.config);
  await next();
};

/**
 * CORS baseline for API routes: any origin may call with a bearer token (no cookies are used,
 * so credentials are never allowed). Per-project origin rules narrow this where they apply.
 */
const apiCors = cors({
  origin: '*',
  allowMethods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS'],
  allowHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'Idempotency-Key'],
  exposeHeaders: [REQUEST_ID_HEADER, 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'],
  maxAge: 600,
  credentials: false,
});

export function createBaseApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requestId, requestLogger);
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'cross-origin' }));
  app.use('/api/*', apiCors);
  app.use('/v1/*', apiCors);
  app.use('*', lazySql, limitBody);
  app.use('/api/*', requireConfig);
  app.use('/v1/*', requireConfig);
  app.onError(onError);
  app.notFound(notFoundOrMethodNotAllowed(app));
  return app;
}
