/** Small helpers for tests that call the Worker or a Hono app built from Parley's platform. */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import type { Hono } from 'hono';
import postgres from 'postgres';
import worker from '../../src/index';
import type { AppEnv } from '../../src/env';

export const BASE = 'http://parley.test';

export interface ErrorEnvelope {
  error: { code: string; message: string; request_id: string; details?: { path: string; message: string }[] };
}

/** A request through the deployed entry point (the Worker's default export). */
export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(`${BASE}${path}`, init);
}

/** The Worker's fetch handler with a modified env (e.g. a missing secret or a dead dependency). */
export async function callWithEnv(
  overrides: Partial<Record<keyof Env, unknown>>,
  path: string,
  init?: RequestInit,
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${BASE}${path}`, init), { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** A request to a test-built app that uses Parley's platform middleware. */
export async function callApp(
  app: Hono<AppEnv>,
  path: string,
  init?: RequestInit,
  envOverride?: Partial<Env>,
): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await app.request(`${BASE}${path}`, init, { ...env, ...envOverride }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

export async function expectEnvelope(res: Response, status: number, code: string): Promise<ErrorEnvelope> {
  const body = await res.json<ErrorEnvelope>();
  if (res.status !== status || body.error?.code !== code) {
    throw new Error(`expected ${status} ${code}, got ${res.status} ${JSON.stringify(body)}`);
  }
  if (body.error.request_id !== res.headers.get('x-request-id')) {
    throw new Error(
      `envelope request_id ${body.error.request_id} differs from header ${res.headers.get('x-request-id')}`,
    );
  }
  return body;
}

/** Direct SQL against the test database, for assertions about stored rows. */
export function testSql(): postgres.Sql {
  return postgres(env.HYPERDRIVE.connectionString, { max: 1, fetch_types: false, onnotice: () => {} });
}
