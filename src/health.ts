/**
 * Readiness checks: a real round trip to each dependency, each bounded by a timeout so a hung
 * dependency makes `/ready` answer 503 quickly instead of hanging.
 */
import { createRedis } from './redis';
import { createSql } from './db';
import type { Config } from './config';

export type CheckResult = { status: 'ok'; latency_ms: number } | { status: 'error'; latency_ms: number; error: string };

export const CHECK_TIMEOUT_MS = 2000;

async function timed(
  name: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<unknown>,
): Promise<CheckResult> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`${name} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    await Promise.race([run(controller.signal), timeout]);
    return { status: 'ok', latency_ms: elapsed(started) };
  } catch {
    // Only a short, non-sensitive reason: no hosts, credentials or driver internals.
    const reason = controller.signal.aborted ? 'timeout' : 'unreachable';
    return { status: 'error', latency_ms: elapsed(started), error: reason };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

const elapsed = (started: number): number => Math.round((performance.now() - started) * 100) / 100;

export function checkDatabase(connectionString: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<CheckResult> {
  return timed('database', timeoutMs, async () => {
    // No sql.end(): see src/http/platform.ts (the runtime closes the socket with the request).
    const sql = createSql(connectionString, { connectTimeout: Math.ceil(timeoutMs / 1000) });
    await sql`select 1 as ok`;
  });
}

export function checkRedis(
  config: Pick<Config, 'UPSTASH_REDIS_REST_URL' | 'UPSTASH_REDIS_REST_TOKEN'>,
  timeoutMs = CHECK_TIMEOUT_MS,
): Promise<CheckResult> {
  return timed('redis', timeoutMs, async () => {
    const pong = await createRedis(config, { timeoutMs, retries: 0 }).ping();
    if (pong !== 'PONG') throw new Error('unexpected PING reply');
  });
}
