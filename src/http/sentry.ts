/**
 * Sentry through toucan-js, one client per request, only when SENTRY_DSN is configured.
 * Requests are reported without Authorization headers, cookies, query strings or bodies:
 * only an allowlist of harmless headers travels.
 */
import { Toucan } from 'toucan-js';
import type { Config } from '../config';

const SAFE_HEADERS = ['user-agent', 'content-type', 'content-length', 'accept', 'x-request-id', 'cf-ray', 'origin'];

export interface SentryContext {
  request: Request;
  waitUntil: (promise: Promise<unknown>) => void;
  requestId: string;
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
  sentry.setTag('request_id', ctx.requestId);
  return sentry;
}
