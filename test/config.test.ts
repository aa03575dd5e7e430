import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { loadConfig, parseConfig } from '../src/config';
import { callWithEnv, expectEnvelope } from './support/http';

const production = { ...env, ENVIRONMENT: 'production' };

describe('configuration', () => {
  it('parses the test environment', () => {
    const result = parseConfig(env as unknown as Record<string, unknown>);
    expect(result.ok).toBe(true);
  });

  it('names missing and malformed variables without their values', () => {
    const result = parseConfig({
      ...production,
      UPSTASH_REDIS_REST_TOKEN: '  ',
      UPSTASH_REDIS_REST_URL: 'ftp://secret-host.example',
      SENTRY_DSN: 'not a url',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual(
      expect.arrayContaining([
        { name: 'UPSTASH_REDIS_REST_TOKEN', problem: 'missing', message: 'not set' },
        expect.objectContaining({ name: 'UPSTASH_REDIS_REST_URL', problem: 'invalid' }),
        expect.objectContaining({ name: 'SENTRY_DSN', problem: 'invalid' }),
      ]),
    );
    expect(JSON.stringify(result.problems)).not.toContain('secret-host');
  });

  it('AUTH_FAILURES_PER_MINUTE defaults to 20 and must be a positive integer', () => {
    const parsed = parseConfig({ ...production, AUTH_FAILURES_PER_MINUTE: undefined });
    expect(parsed.ok && parsed.config.AUTH_FAILURES_PER_MINUTE).toBe(20);
    const set = parseConfig({ ...production, AUTH_FAILURES_PER_MINUTE: '50' });
    expect(set.ok && set.config.AUTH_FAILURES_PER_MINUTE).toBe(50);
    const zero = parseConfig({ ...production, AUTH_FAILURES_PER_MINUTE: '0' });
    expect(zero.ok).toBe(false);
    if (!zero.ok) expect(zero.problems).toEqual([expect.objectContaining({ name: 'AUTH_FAILURES_PER_MINUTE' })]);
  });

  it('a missing Hyperdrive binding is a named problem', () => {
    const result = parseConfig({ ...production, HYPERDRIVE: undefined });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => p.name)).toContain('HYPERDRIVE');
  });

  it('logs an invalid configuration once per env, not once per request', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const broken = { ...production, UPSTASH_REDIS_REST_TOKEN: '' };
    loadConfig(broken);
    loadConfig(broken);
    loadConfig(broken);
    expect(spy.mock.calls.filter(([line]) => String(line).includes('configuration invalid'))).toHaveLength(1);
    spy.mockRestore();
  });
});

describe('a deployment with a missing secret', () => {
  const broken = { ENVIRONMENT: 'production', UPSTASH_REDIS_REST_TOKEN: '' };

  it('/ready answers 503 naming the variable, never values', async () => {
    const res = await callWithEnv(broken, '/ready');
    expect(res.status).toBe(503);
    const body = await res.json<{ status: string; config: { problems: { name: string }[] } }>();
    expect(body.status).toBe('unavailable');
    expect(body.config.problems.map((p) => p.name)).toEqual(['UPSTASH_REDIS_REST_TOKEN']);
    expect(JSON.stringify(body)).not.toContain(String(env.UPSTASH_REDIS_REST_URL));
  });

  it('API routes answer 503 config_invalid', async () => {
    await expectEnvelope(await callWithEnv(broken, '/api/v1/openapi.json'), 503, 'config_invalid');
  });

  it('/health still answers 200 (liveness has no dependencies)', async () => {
    const res = await callWithEnv(broken, '/health');
    expect(res.status).toBe(200);
  });
});
