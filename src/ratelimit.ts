/**
 * Request rate limits with @upstash/ratelimit: per IP, per key, per end user and per project,
 * each over a minute and an hour (sliding windows). Every check of one request is issued in the
 * same tick on an auto-pipelining Redis client, so they cost one HTTP round trip to Upstash
 * (test/ratelimit.test.ts counts them). One exception, paid once per script: a Redis that has not
 * seen the Lua script answers EVALSHA with NOSCRIPT and the library resends it as EVAL, a second
 * trip (after a Redis restart or SCRIPT FLUSH). Checks already known to be over their limit are
 * answered from the ephemeral cache below and cost no command at all.
 *
 * Fail-open, deliberately: when Redis is slow or unreachable the request is allowed after at
 * most TIMEOUT_MS and a warning is logged — chat must not go down with Redis.
 */
import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis/cloudflare';
import type { Config } from './config';
import { log } from './http/logger';
import type { ProjectSettings } from './projects/schemas';

export type Dimension = 'ip' | 'key' | 'end_user' | 'project';
type WindowName = 'minute' | 'hour';

export const DEFAULT_LIMITS: Record<Dimension, Record<WindowName, number>> = {
  ip: { minute: 300, hour: 5000 },
  key: { minute: 600, hour: 20_000 },
  end_user: { minute: 60, hour: 1000 },
  project: { minute: 3000, hour: 100_000 },
};

export const TIMEOUT_MS = 500;

export interface LimitCheck {
  dimension: Dimension;
  identifier: string;
}

export type LimitDecision =
  { status: 'allowed' | 'limited'; limit: number; remaining: number; reset: number } | { status: 'unavailable' };

// Deliberate isolate-level state: @upstash/ratelimit's ephemeral cache remembers identifiers that
// are over their limit until reset, so blocked callers do not cost a Redis round trip.
const ephemeral = new Map<string, number>();

function limitsFor(dimension: Dimension, settings: ProjectSettings | undefined): Record<WindowName, number> {
  const override = settings?.rate_limits?.[dimension];
  return {
    minute: override?.per_minute ?? DEFAULT_LIMITS[dimension].minute,
    hour: override?.per_hour ?? DEFAULT_LIMITS[dimension].hour,
  };
}

export function rateLimitRedis(config: Pick<Config, 'UPSTASH_REDIS_REST_URL' | 'UPSTASH_REDIS_REST_TOKEN'>): Redis {
  return new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    enableAutoPipelining: true,
    enableTelemetry: false,
    retry: false,
    signal: () => AbortSignal.timeout(TIMEOUT_MS),
  });
}

/**
 * Checks every (dimension × window) and returns the most constraining decision: `limited` if
 * any check is over, otherwise the one with the fewest remaining requests.
 */
export async function checkLimits(
  redis: Redis,
  checks: LimitCheck[],
  settings: ProjectSettings | undefined,
): Promise<LimitDecision> {
  const pending = checks.flatMap(({ dimension, identifier }) => {
    const limits = limitsFor(dimension, settings);
    return (['minute', 'hour'] as const).map((window) => {
      const limiter = new Ratelimit({
        redis,
        limiter: Ratelimit.slidingWindow(limits[window], window === 'minute' ? '1 m' : '1 h'),
        prefix: `parley:rl:${dimension}:${window}:${limits[window]}`,
        ephemeralCache: ephemeral,
        timeout: TIMEOUT_MS,
        analytics: false,
      });
      return limiter.limit(identifier);
    });
  });
  let results;
  try {
    results = await Promise.all(pending);
  } catch (err) {
    log('warn', 'rate limiter unavailable; allowing the request (fail-open)', {
      error: err instanceof Error ? err.message : String(err),
    });
    return { status: 'unavailable' };
  }
  if (results.some((r) => r.reason === 'timeout')) {
    log('warn', 'rate limiter timed out; allowing the request (fail-open)', { timeout_ms: TIMEOUT_MS });
    return { status: 'unavailable' };
  }
  const blocked = results.filter((r) => !r.success).sort((a, b) => b.reset - a.reset)[0];
  const tightest = blocked ?? [...results].sort((a, b) => a.remaining - b.remaining)[0];
  if (!tightest) return { status: 'unavailable' };
  return {
    status: blocked ? 'limited' : 'allowed',
    limit: tightest.limit,
    remaining: Math.max(0, tightest.remaining),
    reset: tightest.reset,
  };
}
