/**
 * Failed authentications per client IP. Each bogus or guessed credential costs a verification
 * and often a database lookup, so access() counts every 401 against the caller's IP (a sliding
 * minute, @upstash/ratelimit) and, once an IP is over AUTH_FAILURES_PER_MINUTE, answers its
 * requests 429 before authenticating them — valid credentials included — until that window
 * resets.
 *
 * Only failures talk to Redis: blocked IPs are remembered in the isolate, so a request with a
 * good credential costs no extra round trip. Another isolate learns of a block at that IP's next
 * failure there. Fail-open, deliberately: when Redis is slow or unreachable a failure is not
 * counted, a warning is logged, and authentication answers as it would without this limit.
 */
import { Ratelimit } from '@upstash/ratelimit';
import type { Redis } from '@upstash/redis/cloudflare';
import { log } from '../http/logger';
import { remember } from '../lru';
import { TIMEOUT_MS } from '../ratelimit';

export interface FailureBlock {
  /** The failures allowed per minute. */
  limit: number;
  /** When the IP may authenticate again (ms since the epoch). */
  reset: number;
}

// Deliberate isolate-level state: the IPs this isolate has seen over the failure limit, until
// their window resets. Consulted before authenticating, so a blocked IP costs neither Redis nor
// Postgres. Bounded: beyond BLOCKED_MAX the oldest block is dropped (that IP is blocked again at
// its next failure, one Redis round trip later).
const blocked = new Map<string, FailureBlock>();
const BLOCKED_MAX = 5000;

/** The block an IP is under in this isolate, if any. Never calls Redis. */
export function failureBlock(ip: string): FailureBlock | undefined {
  const block = blocked.get(ip);
  if (block && block.reset <= Date.now()) {
    blocked.delete(ip);
    return undefined;
  }
  return block;
}

/**
 * Counts one failed authentication of `ip` (one Redis command). Returns the block when this
 * failure put the IP over `limit` per minute; undefined while under it or when Redis is
 * unavailable (fail-open).
 */
export async function countFailure(redis: Redis, ip: string, limit: number): Promise<FailureBlock | undefined> {
  const limiter = new Ratelimit({
    redis,
    limiter: Ratelimit.slidingWindow(limit, '1 m'),
    prefix: `parley:rl:auth_failure:minute:${limit}`,
    // The isolate's blocks are kept above, checked before authenticating.
    ephemeralCache: false,
    timeout: TIMEOUT_MS,
    analytics: false,
  });
  let result;
  try {
    result = await limiter.limit(ip);
  } catch (err) {
    log('warn', 'failed-authentication limiter unavailable; not counted (fail-open)', {
      error: err instanceof Error ? err.message : String(err),
    });
    return undefined;
  }
  if (result.reason === 'timeout') {
    log('warn', 'failed-authentication limiter timed out; not counted (fail-open)', { timeout_ms: TIMEOUT_MS });
    return undefined;
  }
  if (result.success) return undefined;
  const block = { limit, reset: result.reset };
  remember(blocked, ip, block, BLOCKED_MAX);
  return block;
}
