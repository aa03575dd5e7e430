/**
 * `npm run bench:auth`: what authentication and rate limiting add to a request, through
 * `wrangler dev` against a private local stack. Targets: ≤ 5 ms p95 added locally and ≤ 1
 * Upstash round trip per request.
 *
 * The measured API requests stop right after access() — authentication, then the rate limits —
 * because their input is invalid (400 validation_failed), so nothing but auth + rate limiting
 * separates them from GET /health; the difference is the overhead. Three credentials, from
 * cheapest to dearest: an owner JWT on a route without a project (HS256 verify, no SQL), an
 * owner JWT on a project route (+ the membership query) and a secret key (+ the key lookup).
 * GET /ready (a new Postgres connection and one query) shows what the SQL part costs locally.
 * Round trips come from the local Upstash REST endpoint's request counter (nothing else talks
 * to this stack). LOG_LEVEL=error keeps request log lines out of both sides (locally each one is
 * costly, see bench/baseline.ts). Every measured request is allowed, not refused: the bench
 * project's limits are raised, and the project-less owner requests each come from their own
 * owner and (documentation) IP address, since their limits cannot be overridden.
 */
import { SignJWT } from 'jose';
import { upstashStats } from '../scripts/stack/client.ts';
import { formatLatency, machine, measure, startWorker, type LatencyReport } from './lib.ts';

const REQUESTS = 2000;
const WARMUP = 200;
// Passed explicitly so the bench does not depend on .dev.vars. SUPABASE_URL only names the
// issuer of the HS256 owner token; nothing is fetched from it.
const VARS = {
  LOG_LEVEL: 'error',
  SUPABASE_URL: 'http://127.0.0.1:54321',
  SUPABASE_JWT_SECRET: 'parley-bench-supabase-jwt-secret-0123456789abcdef',
  SESSION_SECRET: 'parley-bench-session-secret-0123456789abcdef',
};
const NO_LIMIT = { per_minute: 1_000_000, per_hour: 10_000_000 };

async function ownerToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'authenticated', email: 'bench@example.com' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(crypto.randomUUID())
    .setIssuer(`${VARS.SUPABASE_URL}/auth/v1`)
    .setAudience('authenticated')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(VARS.SUPABASE_JWT_SECRET));
}

async function api<T>(url: string, token: string, method: string, body: unknown, status: number): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== status) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** An owner with one project (limits raised) and a secret key, made through the API. */
async function createTenant(base: string): Promise<{ owner: string; projectId: string; secretKey: string }> {
  const owner = await ownerToken();
  const { id: projectId } = await api<{ id: string }>(`${base}/api/v1/projects`, owner, 'POST', { name: 'Bench' }, 201);
  const rateLimits = { ip: NO_LIMIT, key: NO_LIMIT, end_user: NO_LIMIT, project: NO_LIMIT };
  await api(`${base}/api/v1/projects/${projectId}`, owner, 'PATCH', { settings: { rate_limits: rateLimits } }, 200);
  const keys = `${base}/api/v1/projects/${projectId}/keys`;
  const { key } = await api<{ key: string }>(keys, owner, 'POST', { type: 'secret', name: 'bench' }, 201);
  return { owner, projectId, secretKey: key };
}

const ms = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(2)} ms`;

console.log(`Parley bench auth + rate limits — ${machine()}`);
const worker = await startWorker(VARS);
try {
  const tenant = await createTenant(worker.url);
  const health = () => fetch(`${worker.url}/health`);
  const ready = () => fetch(`${worker.url}/ready`);
  const unexpected: string[] = [];
  /** Sends a request that must stop after access() with 400, carrying X-RateLimit-* headers. */
  const afterAccess = (send: () => Promise<Response>) => async () => {
    const res = await send();
    if (res.status !== 400 || !res.headers.has('x-ratelimit-remaining')) {
      unexpected.push(`${res.status} ${res.headers.get('x-ratelimit-remaining') ?? 'no X-RateLimit headers'}`);
    }
    return res;
  };
  // One fresh owner and client address per project-less request (their limits are the defaults).
  const freshOwners = await Promise.all(Array.from({ length: WARMUP + 2 * REQUESTS }, ownerToken));
  let nextOwner = 0;
  const cases = [
    {
      name: 'owner JWT, no SQL',
      detail: 'GET /api/v1/projects?limit=0 (HS256 verify, no SQL; ip + key limits)',
      send: afterAccess(() => {
        const i = nextOwner++;
        return fetch(`${worker.url}/api/v1/projects?limit=0`, {
          headers: { authorization: `Bearer ${freshOwners[i]}`, 'cf-connecting-ip': `2001:db8::${i.toString(16)}` },
        });
      }),
    },
    {
      name: 'owner JWT + membership SQL',
      detail: 'GET /api/v1/projects/:id/audit?limit=0 (HS256 verify, 1 SQL query; ip + key limits)',
      send: afterAccess(() =>
        fetch(`${worker.url}/api/v1/projects/${tenant.projectId}/audit?limit=0`, {
          headers: { authorization: `Bearer ${tenant.owner}` },
        }),
      ),
    },
    {
      name: 'secret key + key lookup SQL',
      detail: 'POST /api/v1/auth/session {"bad":1} (SHA-256, 1 SQL query; key + project limits)',
      send: afterAccess(() =>
        fetch(`${worker.url}/api/v1/auth/session`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tenant.secretKey}`, 'content-type': 'application/json' },
          body: '{"bad":1}',
        }),
      ),
    },
  ];

  // Warm up the isolate, the connection paths and Redis' script cache (the first EVALSHA of a
  // script meets NOSCRIPT and is resent as EVAL: a one-off second round trip).
  await measure(WARMUP, 4, health);
  await measure(WARMUP / 4, 2, ready);
  for (const c of cases) await measure(WARMUP, 4, c.send);

  for (const concurrency of [1, 10]) {
    const base = await measure(REQUESTS, concurrency, health);
    console.log(formatLatency(`GET /health ×${concurrency}`, base));
    const sql = await measure(REQUESTS / 4, concurrency, ready);
    console.log(formatLatency(`GET /ready ×${concurrency}`, sql));
    console.log(
      `  a new Postgres connection + 1 query p50 ${ms(sql.p50 - base.p50).padStart(9)}  p95 ${ms(sql.p95 - base.p95).padStart(9)}`,
    );
    for (const c of cases) {
      const before = await upstashStats(worker.stack);
      const r: LatencyReport = await measure(REQUESTS, concurrency, c.send);
      const after = await upstashStats(worker.stack);
      console.log(formatLatency(`${c.name} ×${concurrency}`, r));
      console.log(
        `  added by auth + rate limits         p50 ${ms(r.p50 - base.p50).padStart(9)}  p95 ${ms(r.p95 - base.p95).padStart(9)}` +
          `   (target p95 ≤ +5 ms)`,
      );
      console.log(
        `  Upstash per request                 ${((after.requests - before.requests) / REQUESTS).toFixed(2)} round trips, ` +
          `${((after.commands - before.commands) / REQUESTS).toFixed(2)} commands   (target ≤ 1 round trip)`,
      );
    }
  }
  for (const c of cases) console.log(`${c.name}: ${c.detail}`);
  if (unexpected.length > 0) {
    console.log(`WARNING: ${unexpected.length} measured requests were not 400-with-limits: ${unexpected.slice(0, 5)}`);
  }

  // For scale: one Upstash REST round trip straight from Node (a pipeline of four commands).
  const direct = await measure(REQUESTS, 1, () =>
    fetch(`${worker.stack.upstashUrl}/pipeline`, {
      method: 'POST',
      headers: { authorization: `Bearer ${worker.stack.upstashToken}` },
      body: JSON.stringify(Array.from({ length: 4 }, (_, i) => ['INCR', `bench:direct:${i}`])),
    }),
  );
  console.log(formatLatency('Upstash pipeline of 4, from Node ×1', direct));
} finally {
  await worker.stop();
}
