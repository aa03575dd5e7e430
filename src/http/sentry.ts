/**
 * Sentry through toucan-js, one client per request, only when SENTRY_DSN is configured.
 * Requests are reported without Authorization headers, cookies, query strings or bodies:
 * only an allowlist of harmless headers travels.
 */
import { Toucan } from 'toucan-js';
import { loadConfig, type Config } from '../config';

const SAFE_HEADERS = ['user-agent', 'content-type', 'content-length', 'accept', 'x-request-id', 'cf-ray', 'origin'];

export interface SentryContext {
  /** The HTTP request, when there is one (background handlers have none). */
  request?: Request;
  waitUntil: (promise: Promise<unknown>) => void;
  /** Tags on every event, e.g. request_id or handler. */
  tags: Record<string, string>;
}

export function createSentry(
  config: Pick<Config, 'SENTRY_DSN' | 'ENVIRONMENT' | 'RELEASE'>,
  ctx: SentryContext,
): Toucan | undefined {
  if (!config.SENTRY_DSN) return undefined;
  const sentry = new Toucan({
    dsn: config.SENTRY_DSN,
    environment: config.ENVIRONMENT,
    release: config.RELEASE,
    context: { waitUntil: ctx.waitUntil, request: ctx.request },
    request: ctx.request,
    requestDataOptions: {
      allowedHeaders: SAFE_HEADERS,
      allowedCookies: false,
      allowedSearchParams: false,
      allowedIps: false,
    },
    beforeSend: (event) => {
      if (event.request) {
        delete event.request.data;
        delete event.request.cookies;
        delete event.request.query_string;
      }
      return event;
    },
  });
  for (const [name, value] of Object.entries(ctx.tags)) sentry.setTag(name, value);
  return sentry;
}

/**
 * Runs a background handler (`queue`, `scheduled`) with its unexpected failures reported to
 * Sentry, tagged with the handler's name, then rethrown so the runtime retries as usual.
 * Expected per-item failures never get here: consumers record them and go on.
 */
export async function reportingFailures<T>(
  env: object,
  ctx: { waitUntil(promise: Promise<unknown>): void } | undefined,
  handler: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const config = loadConfig(env);
    if (config.ok) {
      createSentry(config.config, {
        // Without an execution context (a direct call), the report is sent without waiting for it.
        waitUntil: (p) => (ctx ? ctx.waitUntil(p) : void p.catch(() => {})),
        tags: { handler },
      })?.captureException(err);
    }
    throw err;
  }
}
