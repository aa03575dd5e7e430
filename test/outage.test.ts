/**
 * Real outages, not closed ports: a private local stack of this test's own (PGlite + Redis
 * behind the Upstash REST endpoint) whose Redis and Postgres servers are stopped and started
 * again. `/ready` names the dependency that is down and recovers by itself when it returns.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { callWithEnv } from './support/http';

interface Ready {
  status: string;
  checks: Record<string, { status: string; error?: string }>;
}

const tools = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${inject('toolsPort')}${path}`, init);

let stack: { id: string; databaseUrl: string; upstashUrl: string; upstashToken: string };

async function control(command: string): Promise<void> {
  const res = await tools(`/stacks/${stack.id}/control`, { method: 'POST', body: JSON.stringify({ command }) });
  expect(res.status, await res.clone().text()).toBe(200);
}

async function ready(): Promise<{ status: number; body: Ready }> {
  const res = await callWithEnv(
    {
      HYPERDRIVE: { connectionString: stack.databaseUrl },
      UPSTASH_REDIS_REST_URL: stack.upstashUrl,
      UPSTASH_REDIS_REST_TOKEN: stack.upstashToken,
    },
    '/ready',
  );
  return { status: res.status, body: await res.json<Ready>() };
}

/** `/ready` until it answers `status` (a restarted server takes a moment to be reconnected). */
async function readyBecomes(status: number): Promise<Ready> {
  let last: { status: number; body: Ready } | undefined;
  for (let i = 0; i < 40; i++) {
    last = await ready();
    if (last.status === status) return last.body;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`/ready stayed ${last?.status}: ${JSON.stringify(last?.body)}`);
}

beforeAll(async () => {
  const res = await tools('/stacks', { method: 'POST' });
  expect(res.status).toBe(201);
  stack = await res.json();
}, 120_000);

afterAll(async () => {
  if (stack) await tools(`/stacks/${stack.id}`, { method: 'DELETE' });
});

describe('/ready through real outages', () => {
  it('Redis stopped → 503 naming redis; started again → 200', async () => {
    expect((await readyBecomes(200)).checks).toMatchObject({ database: { status: 'ok' }, redis: { status: 'ok' } });
    await control('stop redis');
    const down = await readyBecomes(503);
    expect(down.status).toBe('unavailable');
    expect(down.checks).toMatchObject({ database: { status: 'ok' }, redis: { status: 'error' } });
    await control('start redis');
    expect((await readyBecomes(200)).checks.redis?.status).toBe('ok');
  }, 60_000);

  it('Postgres stopped → 503 naming database; started again → 200', async () => {
    await readyBecomes(200);
    await control('stop postgres');
    const down = await readyBecomes(503);
    expect(down.checks).toMatchObject({ database: { status: 'error' }, redis: { status: 'ok' } });
    await control('start postgres');
    expect((await readyBecomes(200)).checks.database?.status).toBe('ok');
  }, 90_000);
});
