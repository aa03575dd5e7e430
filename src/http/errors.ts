/**
 * The app's one error handler and its 404/405 answers. Every failure leaves as the envelope
 * from src/errors.ts. Unexpected errors become 500 `internal` with a generic message; the real
 * error goes to the log and, when configured, to Sentry.
 */
import type { Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { loadConfig } from '../config';
import type { AppEnv } from '../env';
import { AppError, errorBody } from '../errors';
import { log } from './logger';
import { createSentry } from './sentry';

function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    // Hono's own validator reports unparsable JSON this way (hono/validator).
    if (err.status === 400 && err.message.startsWith('Malformed JSON')) {
      return new AppError('invalid_json', 'Request body is not valid JSON');
    }
    if (err.status === 413) return new AppError('payload_too_large', 'Request body is too large');
    if (err.status === 400) return new AppError('bad_request', err.message || 'Bad request');
    if (err.status === 401) return new AppError('unauthorized', 'Authentication required');
    if (err.status === 403) return new AppError('forbidden', 'Forbidden');
    if (err.status === 404) return new AppError('not_found', 'Not found');
  }
  return new AppError('internal', 'Internal error', { cause: err });
}

export function respondWithError(c: Context<AppEnv>, err: AppError): Response {
  const res = c.json(errorBody(err, c.get('requestId') ?? 'unknown'), err.status);
  for (const [name, value] of Object.entries(err.headers ?? {})) res.headers.set(name, value);
  return res;
}

export function onError(err: Error, c: Context<AppEnv>): Response {
  const appError = toAppError(err);
  if (appError.code === 'internal') {
    const cause = appError.cause instanceof Error ? appError.cause : err;
    log('error', 'unhandled error', {
      request_id: c.get('requestId'),
      error: cause.name,
      message: cause.message,
      stack: cause.stack,
    });
    reportToSentry(c, cause);
  }
  return respondWithError(c, appError);
}

function reportToSentry(c: Context<AppEnv>, error: Error): void {
  const config = loadConfig(c.env);
  if (!config.ok) return;
  const sentry = createSentry(config.config, {
    request: c.req.raw,
    waitUntil: (p) => c.executionCtx.waitUntil(p),
    tags: { request_id: c.get('requestId') },
  });
  sentry?.captureException(error);
}

/** Allowed methods per path, derived once from the app's own routes for 405 answers. */
function allowedMethods(app: Hono<AppEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === 'ALL' || route.path.includes('*')) continue;
    const segments = route.path
      .split('/')
      .map((s) => (s.startsWith(':') ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const pattern = new RegExp(`^${segments.join('/')}/?$`);
    if (pattern.test(path)) methods.add(route.method);
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

export function notFoundOrMethodNotAllowed(app: Hono<AppEnv>) {
  return (c: Context<AppEnv>): Response => {
    const allowed = allowedMethods(app, c.req.path);
    if (allowed.length > 0) {
      return respondWithError(
        c,
        new AppError('method_not_allowed', `Method ${c.req.method} is not allowed here; use ${allowed.join(', ')}`, {
          headers: { Allow: allowed.join(', ') },
        }),
      );
    }
    return respondWithError(c, new AppError('not_found', `No route for ${c.req.method} ${c.req.path.slice(0, 200)}`));
  };
}
