/**
 * Wire-level helpers of the fake OpenAI server (test/fakes/openai.ts): OpenAI's error envelope,
 * its response headers, a rough tokenizer and an abortable pause.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** A failure as OpenAI answers it: `{"error":{"message","type","param","code"}}` with a status. */
export interface ApiFailure {
  status: number;
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** A 400 `invalid_request_error`. */
export function invalid(message: string, param: string | null = null, code: string | null = null): ApiFailure {
  return { status: 400, message, type: 'invalid_request_error', param, code };
}

export function modelNotFound(model: string): ApiFailure {
  return {
    status: 404,
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    type: 'invalid_request_error',
    param: null,
    code: 'model_not_found',
  };
}

let requestCounter = 0;

/** Headers OpenAI sends on every response (ids, version, rate-limit state). */
export function standardHeaders(): Record<string, string> {
  requestCounter++;
  return {
    'x-request-id': `req_fake${requestCounter.toString(16).padStart(12, '0')}`,
    'openai-organization': 'org-fake',
    'openai-version': '2020-10-01',
    'openai-processing-ms': '1',
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-remaining-requests': '9999',
    'x-ratelimit-reset-requests': '6ms',
    'x-ratelimit-limit-tokens': '10000000',
    'x-ratelimit-remaining-tokens': '9999000',
    'x-ratelimit-reset-tokens': '0s',
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...standardHeaders(),
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

export function sendFailure(res: ServerResponse, failure: ApiFailure, headers: Record<string, string> = {}): void {
  const { status, ...error } = failure;
  sendJson(res, status, { error }, headers);
}

/** The failure an injected fault status produces, with OpenAI's messages and headers. */
export function faultFailure(
  status: number,
  retryAfterMs: number | undefined,
): { failure: ApiFailure; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (status === 429 || retryAfterMs !== undefined) {
    const ms = retryAfterMs ?? 0;
    headers['retry-after'] = String(Math.ceil(ms / 1000));
    headers['retry-after-ms'] = String(ms);
  }
  if (status === 429) {
    const ms = retryAfterMs ?? 0;
    Object.assign(headers, {
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': `${ms}ms`,
      'x-ratelimit-limit-tokens': '1000000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': `${ms}ms`,
    });
    const message =
      'Rate limit reached in organization org-fake on requests per min (RPM): Limit 500, Used 500, ' +
      `Requested 1. Please try again in ${ms}ms. Visit https://platform.openai.com/account/rate-limits to learn more.`;
    return { failure: { status, message, type: 'requests', param: null, code: 'rate_limit_exceeded' }, headers };
  }
  const messages: Record<number, string> = {
    500: 'The server had an error while processing your request. Sorry about that!',
    502: 'Bad gateway.',
    503: 'The server is overloaded or not ready yet.',
  };
  const message = messages[status] ?? `Injected fault (status ${status}).`;
  const type = status >= 500 ? 'server_error' : 'invalid_request_error';
  return { failure: { status, message, type, param: null, code: null }, headers };
}

/** About four characters per token: the average of OpenAI's tokenizers on English. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Lowercase words of letters and digits. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Waits `ms`; false when `signal` aborted first (the client went away). */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
