import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { callWithEnv } from './support/http';

interface Ready {
  status: string;
  checks: Record<string, { status: string; latency_ms: number; error?: string }>;
}

const CLOSED_PORT = 1; // nothing listens on tcpmux
const deadDatabase = { connectionString: `postgres://postgres:postgres@127.0.0.1:${CLOSED_PORT}/postgres` };
const hungDatabase = () => ({
  connectionString: `postgres://postgres:postgres@127.0.0.1:${inject('blackHolePort')}/postgres`,
});

async function ready(
  overrides: Partial<Record<keyof Env, unknown>>,
): Promise<{ res: Response; body: Ready; ms: number }> {
  const started = Date.now();
  const res = await callWithEnv(overrides, '/ready');
  return { res, body: await res.json<Ready>(), ms: Date.now() - started };
}

describe('/ready when a dependency is down', () => {
  it('database refusing connections → 503 naming database', async () => {
    const { res, body } = await ready({ HYPERDRIVE: deadDatabase });
    expect(res.status).toBe(503);
    expect(body.status).toBe('unavailable');
    expect(body.checks.database?.status).toBe('error');
    expect(body.checks.redis?.status).toBe('ok');
  });

  it('database accepting but never answering → 503 within the check timeout', async () => {
    const { res, body, ms } = await ready({ HYPERDRIVE: hungDatabase() });
    expect(res.status).toBe(503);
    expect(body.checks.database).toMatchObject({ status: 'error', error: 'timeout' });
    expect(ms).toBeLessThan(5000);
  });

  it('redis unreachable → 503 naming redis', async () => {
    const { res, body } = await ready({ UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${CLOSED_PORT}` });
    expect(res.status).toBe(503);
    expect(body.checks.redis?.status).toBe('error');
    expect(body.checks.database?.status).toBe('ok');
  });

  it('redis hanging → 503 within the check timeout', async () => {
    const { res, body, ms } = await ready({ UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${inject('blackHolePort')}` });
    expect(res.status).toBe(503);
    expect(body.checks.redis).toMatchObject({ status: 'error', error: 'timeout' });
    expect(ms).toBeLessThan(5000);
  });

  it('a wrong Redis token is a failed check, not a pass', async () => {
    const { res, body } = await ready({ UPSTASH_REDIS_REST_TOKEN: 'definitely-wrong-token' });
    expect(res.status).toBe(503);
    expect(body.checks.redis?.status).toBe('error');
  });

  it('back to 200 with the real dependencies', async () => {
    const { res, body } = await ready({ HYPERDRIVE: env.HYPERDRIVE });
    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
  });
});
