/**
 * Failed authentications are limited per IP (AUTH_FAILURES_PER_MINUTE, 20 by default, as here):
 * every kind of 401 counts, the IP is then answered 429 before anything is authenticated —
 * valid credentials included — until its window resets; other IPs are unaffected, successful
 * requests are never counted and cost no Redis command for it, and a Redis outage leaves
 * authentication working.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { access } from '../src/auth/access';
import { createBaseApp } from '../src/http/platform';
import { call, callApp, expectEnvelope, testSql } from './support/http';
import { expectRetryAfter, upstashCost, withinOneMinute } from './support/ratelimit';
import { auth, createTenant, ownerToken, type Tenant } from './support/tenants';

const LIMIT = 20;

/** An address no other test uses (an IPv6 documentation address), so its count starts at zero. */
const freshIp = () => `2001:db8:a::${crypto.randomUUID().slice(0, 4)}:${crypto.randomUUID().slice(0, 4)}`;
const from = (ip: string) => ({ 'cf-connecting-ip': ip });

/** Each kind of failure: no credential, garbage, a forged owner token, a key that does not exist. */
const FAILURES = [
  (ip: string) => call('/api/v1/projects', { headers: from(ip) }),
  (ip: string) => call('/api/v1/projects', { headers: auth('garbage', from(ip)) }),
  async (ip: string) =>
    call('/api/v1/projects', {
      headers: auth(await ownerToken({ secret: 'not-the-secret-0123456789abcdefghij' }), from(ip)),
    }),
  (ip: string) => call('/api/v1/auth/session', { method: 'POST', headers: auth(`sk_${'A'.repeat(32)}`, from(ip)) }),
];

async function failTimes(ip: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const fail = FAILURES[i % FAILURES.length]!;
    await expectEnvelope(await fail(ip), 401, 'unauthorized');
  }
}

const asOwner = (tenant: Tenant, ip: string) =>
  call(`/api/v1/projects/${tenant.projectId}`, { headers: auth(tenant.owner, from(ip)) });

async function expectBlocked(res: Response): Promise<void> {
  const body = await expectEnvelope(res, 429, 'rate_limited');
  expect(body.error.message).toMatch(/failed authentications.*retry in \d+ s/);
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
  expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
  expectRetryAfter(res, 60);
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('failed authentications per IP', () => {
  it('after 20 failures an IP is answered 429 before authenticating, valid credentials too; other IPs are not', async () => {
    const tenant = await createTenant();
    const attacker = freshIp();
    await withinOneMinute(10);
    await failTimes(attacker, LIMIT);
    // The failure that goes over the limit is answered 429, and so is everything after it.
    await expectBlocked(await call('/api/v1/projects', { headers: auth('garbage', from(attacker)) }));
    await expectBlocked(await asOwner(tenant, attacker));
    await expectBlocked(
      await call('/api/v1/auth/session', {
        method: 'POST',
        headers: { ...auth(tenant.secretKey, from(attacker)), 'content-type': 'application/json' },
        body: '{}',
      }),
    );

    const neighbour = freshIp();
    expect((await asOwner(tenant, neighbour)).status).toBe(200);
    await expectEnvelope(
      await call('/api/v1/projects', { headers: auth('garbage', from(neighbour)) }),
      401,
      'unauthorized',
    );
  });

  it('successful authentications are never counted', async () => {
    const tenant = await createTenant();
    const ip = freshIp();
    for (let i = 0; i < LIMIT + 10; i++) expect((await asOwner(tenant, ip)).status).toBe(200);
    // Still a full budget of failures before the block.
    await failTimes(ip, LIMIT);
    expect((await asOwner(tenant, ip)).status).toBe(200);
  });

  it('only failures cost Redis: a good request pays nothing for this limit, a blocked one nothing at all', async () => {
    const tenant = await createTenant();
    // Warm-up: @upstash/ratelimit's first EVALSHA on a fresh Redis is followed by an EVAL.
    await FAILURES[1]!(freshIp());
    await asOwner(tenant, freshIp());

    // An owner is checked per IP and per owner, each per minute and per hour: four commands in
    // one Upstash request — exactly the cost without a failure limit.
    expect(await upstashCost(() => asOwner(tenant, freshIp()), 200)).toEqual({ requests: 1, commands: 4 });

    const attacker = freshIp();
    await withinOneMinute(10);
    // A failure is one command (five measured)…
    expect(await upstashCost(() => FAILURES[1]!(attacker), 401)).toEqual({ requests: 1, commands: 1 });
    await failTimes(attacker, LIMIT - 5);
    await expectBlocked(await FAILURES[1]!(attacker));
    // …and a blocked IP is refused from the isolate's memory, valid credential or not.
    expect(await upstashCost(() => asOwner(tenant, attacker), 429)).toEqual({ requests: 0, commands: 0 });
  });
});

describe('through access() on a test app (own clock, own Redis URL)', () => {
  // Requests made with app.request() share one test Postgres connection (see ratelimit.test.ts).
  const sql = testSql();
  afterAll(() => sql.end());
  const app = createBaseApp();
  app.use('/api/*', async (c, next) => {
    c.set('sql', () => sql);
    await next();
  });
  app.get('/api/v1/me', access({ principals: ['owner'] }), (c) => c.json({ ok: true }));
  const me = (token: string, ip: string, env?: Partial<Env>) =>
    callApp(app, '/api/v1/me', { headers: auth(token, from(ip)) }, env);

  it('a blocked IP is let in again at the moment Retry-After names', async () => {
    // The sliding window is computed from the caller's clock (see ratelimit.test.ts), so moving
    // this isolate's Date is the minute passing, for the block and for Redis alike.
    const owner = await ownerToken();
    const ip = freshIp();
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Math.floor(Date.now() / 1000) * 1000 + 500;
    vi.setSystemTime(start);
    for (let i = 0; i < LIMIT; i++) await expectEnvelope(await me('garbage', ip), 401, 'unauthorized');
    await expectBlocked(await me('garbage', ip));
    const refused = await me(owner, ip);
    await expectBlocked(refused);
    const retryAfter = Number(refused.headers.get('retry-after'));

    vi.setSystemTime(start + (retryAfter - 1) * 1000);
    await expectEnvelope(await me(owner, ip), 429, 'rate_limited');
    vi.setSystemTime(start + retryAfter * 1000);
    expect((await me(owner, ip)).status).toBe(200);
  });

  it('with Redis unreachable, failures answer 401 with a warning and valid credentials still pass (fail-open)', async () => {
    const owner = await ownerToken();
    const ip = freshIp();
    // A limit of 2 here: three failures would block the IP if any were counted.
    const down = { UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:1', AUTH_FAILURES_PER_MINUTE: '2' };
    const warn = vi.spyOn(console, 'warn');
    for (let i = 0; i < 3; i++) await expectEnvelope(await me('garbage', ip, down), 401, 'unauthorized');
    const warnings = warn.mock.calls.map(([line]) => String(line));
    expect(warnings.filter((line) => line.includes('failed-authentication limiter unavailable'))).toHaveLength(3);
    expect((await me(owner, ip, down)).status).toBe(200);
  });
});
