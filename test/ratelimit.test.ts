/**
 * Rate limits against the real Redis behind the local Upstash REST endpoint: the end-user
 * default (60/min), per-project overrides, per-identity buckets, the headers, the cost of one
 * Upstash round trip per request, and fail-open when Redis is unreachable.
 */
import { afterAll, afterEach, describe, expect, inject, it, vi } from 'vitest';
import { access } from '../src/auth/access';
import { createBaseApp } from '../src/http/platform';
import { TIMEOUT_MS } from '../src/ratelimit';
import { call, callApp, expectEnvelope, testSql } from './support/http';
import { expectRetryAfter, upstashCost, withinOneMinute } from './support/ratelimit';
import { auth, createTenant, openSession, postJson, type Tenant } from './support/tenants';

/**
 * No production route accepts an end-user session yet (POST /auth/session takes project keys;
 * chat will take sessions), and access() refuses a principal kind before it rate-limits, so a
 * session calling today's routes gets 403 without ever being counted. This app mounts
 * access({ principals: ['session'] }) on Parley's real platform middleware, exactly as those
 * routes will, so the per-end-user limits run through the production code path.
 *
 * Its Postgres client is one shared test connection: requests made with app.request() run in
 * the test's I/O context, where a per-request client's socket is not closed when the request
 * ends (as it is for a real request), and a few dozen would exhaust PGlite's connections.
 */
const sql = testSql();
afterAll(() => sql.end());
const sessionApp = createBaseApp();
sessionApp.use('/api/*', async (c, next) => {
  c.set('sql', () => sql);
  await next();
});
sessionApp.get('/api/v1/me', access({ principals: ['session'] }), (c) => c.json({ ok: true }));

const asEndUser = (token: string, env?: Partial<Env>) =>
  callApp(sessionApp, '/api/v1/me', { headers: auth(token) }, env);

async function sessionToken(tenant: Tenant): Promise<string> {
  const { res, body } = await openSession(tenant);
  if (!body) throw new Error(`session not opened: ${res.status}`);
  return body.token;
}

async function setRateLimits(tenant: Tenant, rateLimits: Record<string, unknown>): Promise<void> {
  // From the owner's own address (a documentation one), so the suite's shared "local" per-IP
  // owner bucket is not drawn on.
  const from = { 'cf-connecting-ip': `2001:db8::${tenant.userId.slice(0, 4)}` };
  const res = await call(`/api/v1/projects/${tenant.projectId}`, {
    ...postJson(tenant.owner, { settings: { rate_limits: rateLimits } }, from),
    method: 'PATCH',
  });
  expect(res.status).toBe(200);
}

/** A session opened with the tenant's secret key: a request limited per key and project. */
const openWithSecretKey = (tenant: Tenant, body: unknown = {}) =>
  call('/api/v1/auth/session', postJson(tenant.secretKey, body));

function expectLimitHeaders(res: Response, limit: number, remaining: number, windowSeconds: number): void {
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('x-ratelimit-remaining')).toBe(String(remaining));
  const reset = Number(res.headers.get('x-ratelimit-reset'));
  const now = Date.now() / 1000;
  expect(Number.isInteger(reset)).toBe(true);
  expect(reset).toBeGreaterThan(now);
  expect(reset).toBeLessThanOrEqual(Math.ceil(now) + windowSeconds);
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('rate limits', () => {
  it("an end user's 61st request in a minute → 429 rate_limited; another end user is unaffected", async () => {
    const tenant = await createTenant();
    const alice = await sessionToken(tenant);
    const bob = await sessionToken(tenant);
    await withinOneMinute(5);
    for (let i = 1; i <= 60; i++) {
      const res = await asEndUser(alice);
      expect(res.status).toBe(200);
      expectLimitHeaders(res, 60, 60 - i, 60);
    }
    const refused = await asEndUser(alice);
    const body = await expectEnvelope(refused, 429, 'rate_limited');
    expect(body.error.message).toMatch(/retry in \d+ s/);
    expectLimitHeaders(refused, 60, 0, 60);
    expectRetryAfter(refused, 60);

    const other = await asEndUser(bob);
    expect(other.status).toBe(200);
    expectLimitHeaders(other, 60, 59, 60);
  });

  it('allowed responses carry Limit, a decreasing Remaining and a future Reset in unix seconds', async () => {
    const tenant = await createTenant();
    await withinOneMinute(3);
    // A secret key is limited per key (600/min) and per project (3000/min): the key is tighter.
    for (const remaining of [599, 598, 597]) {
      const res = await openWithSecretKey(tenant);
      expect(res.status).toBe(201);
      expectLimitHeaders(res, 600, remaining, 60);
    }
    // A request refused after access() (here by validation) was counted and says so.
    const invalid = await openWithSecretKey(tenant, { nope: true });
    await expectEnvelope(invalid, 400, 'validation_failed');
    expectLimitHeaders(invalid, 600, 596, 60);
  });

  it('a per-project override in settings.rate_limits is honoured exactly, per key', async () => {
    const tenant = await createTenant();
    await setRateLimits(tenant, { key: { per_minute: 3 } });
    await withinOneMinute(3);
    for (const remaining of [2, 1, 0]) {
      const res = await openWithSecretKey(tenant);
      expect(res.status).toBe(201);
      expectLimitHeaders(res, 3, remaining, 60);
    }
    const refused = await openWithSecretKey(tenant);
    await expectEnvelope(refused, 429, 'rate_limited');
    expectLimitHeaders(refused, 3, 0, 60);
    expectRetryAfter(refused, 60);

    // Another key of the same project has its own bucket under the same override.
    const other = await call('/api/v1/auth/session', postJson(tenant.publishableKey, {}));
    expect(other.status).toBe(201);
    expectLimitHeaders(other, 3, 2, 60);
  });

  it('the per-hour window: an end_user per_hour override refuses the request after it', async () => {
    const tenant = await createTenant();
    await setRateLimits(tenant, { end_user: { per_hour: 5 } });
    const token = await sessionToken(tenant);
    await withinOneMinute(3);
    for (let i = 1; i <= 5; i++) expectLimitHeaders(await asEndUser(token), 5, 5 - i, 3600);
    const refused = await asEndUser(token);
    await expectEnvelope(refused, 429, 'rate_limited');
    expectLimitHeaders(refused, 5, 0, 3600);
    expectRetryAfter(refused, 3600);
  });

  it('an exhausted end user is allowed again at the moment Retry-After names', async () => {
    // No minute of sleeping and no test-mode code: @upstash/ratelimit computes the sliding
    // window from the caller's clock (it derives the window keys from Date.now() and passes it
    // to its Lua script); Redis' own clock only expires keys, two windows later. Moving this
    // isolate's Date forward is therefore the minute passing, for the library and for the real
    // Redis alike. (Deleting the Redis keys would prove nothing: the isolate's ephemeral cache
    // rightly keeps a blocked identity blocked until its reset, without asking Redis.)
    const tenant = await createTenant();
    await setRateLimits(tenant, { end_user: { per_minute: 2 } });
    vi.useFakeTimers({ toFake: ['Date'] });
    // Frozen mid-second, so Retry-After (whole seconds, rounded up) lands strictly after the reset.
    const start = Math.floor(Date.now() / 1000) * 1000 + 500;
    vi.setSystemTime(start);
    const token = await sessionToken(tenant);
    expect((await asEndUser(token)).status).toBe(200);
    expect((await asEndUser(token)).status).toBe(200);
    const refused = await asEndUser(token);
    await expectEnvelope(refused, 429, 'rate_limited');
    const retryAfter = expectRetryAfter(refused, 60);

    vi.setSystemTime(start + (retryAfter - 1) * 1000);
    await expectEnvelope(await asEndUser(token), 429, 'rate_limited');

    vi.setSystemTime(start + retryAfter * 1000);
    const allowed = await asEndUser(token);
    expect(allowed.status).toBe(200);
    expectLimitHeaders(allowed, 2, 0, 60);
  });

  it("a session is checked with its project's limits as last seen, and again once they changed", async () => {
    // access() starts a session's check while the project loads (one round trip fewer before a
    // chat answer), with the limits this isolate saw for the project last time; when the loaded
    // settings say otherwise, that check is discarded and the request judged by the new limits.
    const tenant = await createTenant();
    await setRateLimits(tenant, { end_user: { per_minute: 2 } });
    const token = await sessionToken(tenant);
    await withinOneMinute(3);
    expectLimitHeaders(await asEndUser(token), 2, 1, 60);
    expectLimitHeaders(await asEndUser(token), 2, 0, 60);
    await expectEnvelope(await asEndUser(token), 429, 'rate_limited');
    await setRateLimits(tenant, { end_user: { per_minute: 50 } });
    const raised = await asEndUser(token);
    expect(raised.status).toBe(200);
    expect(raised.headers.get('x-ratelimit-limit')).toBe('50');
  });

  it('every check of one request costs exactly one Upstash round trip', async () => {
    const tenant = await createTenant();
    await setRateLimits(tenant, { end_user: { per_minute: 6 } });
    const token = await sessionToken(tenant);
    const other = await sessionToken(tenant);
    // Warm-up: @upstash/ratelimit calls EVALSHA and falls back to EVAL on NOSCRIPT, a second trip
    // paid once per script while Redis has not seen it (a fresh or flushed Redis). Any earlier
    // request loads the script; this one makes sure of it for this file.
    await asEndUser(other);
    await withinOneMinute(3);

    // A session is checked per IP, end user and project, each per minute and per hour: six
    // commands, one HTTP request (five allowed requests measured).
    expect(await upstashCost(() => asEndUser(token), 200)).toEqual({ requests: 1, commands: 6 });
    expect((await asEndUser(token)).status).toBe(200);
    await expectEnvelope(await asEndUser(token), 429, 'rate_limited');
    // Refused requests too. The end user's minute, now known to be exhausted, is answered from
    // the isolate's ephemeral cache; the other five checks still go to Redis, in one request.
    expect(await upstashCost(() => asEndUser(token), 429)).toEqual({ requests: 1, commands: 5 });
    // A secret key: per key and per project, two windows each.
    expect(await upstashCost(() => openWithSecretKey(tenant), 201)).toEqual({ requests: 1, commands: 4 });
  });

  describe('when Redis is unreachable the request is allowed (fail-open) with a warning', () => {
    // Through the session app with an env override rather than callWithEnv(): the Worker's own
    // per-request Postgres client would leave its socket open in the test's I/O context.
    async function failOpen(url: string): Promise<{ res: Response; ms: number; warnings: string[] }> {
      const token = await sessionToken(await createTenant());
      const warn = vi.spyOn(console, 'warn');
      const started = Date.now();
      const res = await asEndUser(token, { UPSTASH_REDIS_REST_URL: url });
      const ms = Date.now() - started;
      const warnings = warn.mock.calls.map(([line]) => String(line)).filter((line) => line.includes('fail-open'));
      return { res, ms, warnings };
    }

    it('Redis refusing connections', async () => {
      const { res, ms, warnings } = await failOpen('http://127.0.0.1:1');
      expect(res.status).toBe(200);
      expect(res.headers.has('x-ratelimit-limit')).toBe(false);
      expect(warnings).toHaveLength(1);
      // A refused connection is decided at once, without waiting for the timeout.
      expect(ms).toBeLessThan(TIMEOUT_MS);
    });

    it('Redis accepting but never answering: decided within TIMEOUT_MS', async () => {
      const { res, ms, warnings } = await failOpen(`http://127.0.0.1:${inject('blackHolePort')}`);
      expect(res.status).toBe(200);
      expect(res.headers.has('x-ratelimit-limit')).toBe(false);
      expect(warnings).toHaveLength(1);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(TIMEOUT_MS + 1000);
    });
  });
});
