import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

describe('health', () => {
  it('GET /health answers ok without I/O', async () => {
    const res = await exports.default.fetch('http://parley.test/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('GET /ready reports database and redis ok after a real round trip', async () => {
    const res = await exports.default.fetch('http://parley.test/ready');
    const body = await res.json<{ status: string; checks: Record<string, { status: string; latency_ms: number }> }>();
    expect(body.status).toBe('ok');
    expect(res.status).toBe(200);
    expect(body.checks.database?.status).toBe('ok');
    expect(body.checks.redis?.status).toBe('ok');
    expect(body.checks.database?.latency_ms).toBeGreaterThanOrEqual(0);
    expect(env.ENVIRONMENT).toBe('development');
  });
});
