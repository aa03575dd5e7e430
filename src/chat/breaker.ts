/**
 * A circuit breaker for a model provider, its state shared by every isolate through Redis
 * (Upstash REST), one breaker per provider base URL:
 *
 *   closed ── N failures within `windowMs` ──▶ open ── `cooldownMs` ──▶ half-open
 *     ▲                                          ▲                         │ one probe call
 *     └──────────── the probe succeeds ──────────┴──── the probe fails ────┘
 *
 * Redis cost per call: `acquire()` is one round trip (one EVAL), or none while this isolate saw
 * the breaker closed or open less than `cacheMs` ago (default 1 s, deliberately per-isolate,
 * below). `success()` is free except for the probe (one DEL); `failure()` is one EVAL and makes
 * the next `acquire()` ask Redis again. So a healthy provider costs about one Upstash request per
 * isolate per second, however many generations it serves, and so does an open breaker. An
 * isolate that trusted "closed" may send calls for up to `cacheMs` after another isolate opened
 * the breaker; the first of them to fail learns the open state from `failure()`.
 *
 * Failures are counted in a sliding window (a sorted set of timestamps) and successes do not
 * erase them: a provider failing every other call still opens the breaker. Only the probe's
 * success closes it; a probe that never reports (its isolate died) is replaced by another after
 * `probeTimeoutMs`.
 *
 * Fail-open to traffic, deliberately: when Redis is slow or unreachable `acquire()` lets the call
 * try the provider (the caller still falls back on failure) and a warning is logged — chat must
 * not go degraded because Redis did. Clocks: timestamps come from the Worker (`Date.now()`).
 */
import type { Redis } from '@upstash/redis/cloudflare';
import { log } from '../http/logger';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** One call's admission: `half-open` means this call is the probe. */
export interface BreakerPermit {
  allowed: boolean;
  state: BreakerState;
  /** Redis could not be asked: the call is allowed anyway. */
  unavailable?: boolean;
}

export interface CircuitBreaker {
  /** Whether to call the provider now. Never throws. */
  acquire(): Promise<BreakerPermit>;
  /** The permitted call worked (reached its first delta). Never throws. */
  success(permit: BreakerPermit): Promise<void>;
  /** The permitted call failed in a way that says the provider is unhealthy. Never throws. */
  failure(permit: BreakerPermit): Promise<void>;
  /** The permit goes unused (no call was made): a claimed probe is given back. Never throws. */
  release(permit: BreakerPermit): Promise<void>;
}

export interface RedisBreakerOptions {
  redis: Redis;
  /** What is guarded, e.g. the provider's base URL; part of the Redis key. */
  target: string;
  /** Separates breakers sharing one Redis (environments, tests). Default `default`. */
  namespace?: string;
  /** Failures within `windowMs` that open the breaker. Default 5. */
  failureThreshold?: number;
  /** Default 30 000 ms. */
  windowMs?: number;
  /** Time the breaker stays open before one probe is let through. Default 30 000 ms. */
  cooldownMs?: number;
  /** How long a claimed probe blocks other probes; at least a call's worst time to first token. Default 60 000 ms. */
  probeTimeoutMs?: number;
  /** How long this isolate trusts a "closed" or "open" answer without asking Redis. Default 1 000 ms; 0 disables the cache. */
  cacheMs?: number;
}

// Deliberate isolate-level state: Redis key → time until which this isolate treats the breaker as
// open without asking Redis: at most `cacheMs` after Redis last said so, and never past the end
// of a cool-down it knows of. A probe's success clears it in the probing isolate; other isolates
// notice within `cacheMs`.
const openUntil = new Map<string, number>();
// Likewise, Redis key → time until which this isolate lets calls through without asking: at most
// `cacheMs` (and never longer than a cool-down) after Redis last said "closed"; any failure ends it.
const closedUntil = new Map<string, number>();

const ACQUIRE = `
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at'))
if not opened then return {'closed', 0} end
local now = tonumber(ARGV[1])
local ready = opened + tonumber(ARGV[2])
if now < ready then return {'open', ready - now} end
local probe = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if now < probe then return {'open', probe - now} end
redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[3]))
return {'half-open', 0}`;

const FAILURE = `
local now = tonumber(ARGV[1])
local function open()
  redis.call('HSET', KEYS[1], 'opened_at', now)
  redis.call('HDEL', KEYS[1], 'probe_until')
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  redis.call('DEL', KEYS[2])
  return {'open', 1}
end
if ARGV[4] == '1' then return open() end
if redis.call('HEXISTS', KEYS[1], 'opened_at') == 1 then return {'open', 0} end
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return open() end
return {'closed', 0}`;

type Answer = [BreakerState, number];

export function redisBreaker(options: RedisBreakerOptions): CircuitBreaker {
  const { redis, target } = options;
  const threshold = options.failureThreshold ?? 5;
  const windowMs = options.windowMs ?? 30_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const probeTimeoutMs = options.probeTimeoutMs ?? 60_000;
  const cacheMs = options.cacheMs ?? 1_000;
  const base = `parley:breaker:${options.namespace ?? 'default'}:${target}`;
  const stateKey = `${base}:state`;
  const failuresKey = `${base}:failures`;
  // An open state nobody probes is forgotten after an hour past its cool-down (closed again).
  const stateTtlMs = cooldownMs + probeTimeoutMs + 3_600_000;

  const remember = (now: number, ms: number): void => {
    if (cacheMs > 0) openUntil.set(stateKey, now + Math.min(cacheMs, ms));
  };
  const unavailable = (action: string, err: unknown): void => {
    log('warn', `circuit breaker unavailable (${action}); letting calls through (fail-open)`, {
      target,
      error: err instanceof Error ? err.message : String(err),
    });
  };

  return {
    async acquire() {
      const now = Date.now();
      const cached = cacheMs > 0 ? openUntil.get(stateKey) : undefined;
      if (cached !== undefined) {
        if (now < cached) return { allowed: false, state: 'open' };
        openUntil.delete(stateKey);
      }
      if (cacheMs > 0 && now < (closedUntil.get(stateKey) ?? 0)) return { allowed: true, state: 'closed' };
      try {
        const [state, retryInMs] = await redis.eval<[number, number, number], Answer>(
          ACQUIRE,
          [stateKey],
          [now, cooldownMs, probeTimeoutMs],
        );
        if (state === 'open') {
          remember(now, retryInMs);
          return { allowed: false, state };
        }
        if (state === 'closed' && cacheMs > 0) closedUntil.set(stateKey, now + Math.min(cacheMs, cooldownMs));
        return { allowed: true, state };
      } catch (err) {
        unavailable('acquire', err);
        return { allowed: true, state: 'closed', unavailable: true };
      }
    },

    async success(permit) {
      if (permit.state !== 'half-open') return;
      try {
        await redis.del(stateKey, failuresKey);
        openUntil.delete(stateKey);
        log('info', 'circuit breaker closed: the probe call succeeded', { target });
      } catch (err) {
        unavailable('success', err);
      }
    },

    async release(permit) {
      if (permit.state !== 'half-open') return;
      try {
        await redis.hdel(stateKey, 'probe_until');
      } catch (err) {
        unavailable('release', err);
      }
    },

    async failure(permit) {
      const now = Date.now();
      closedUntil.delete(stateKey);
      try {
        const [state, opened] = await redis.eval<[number, number, number, string, string, number], Answer>(
          FAILURE,
          [stateKey, failuresKey],
          [now, windowMs, threshold, permit.state === 'half-open' ? '1' : '0', crypto.randomUUID(), stateTtlMs],
        );
        if (state === 'open') remember(now, cooldownMs);
        if (opened === 1) {
          log('warn', 'circuit breaker opened: answering in degraded mode', {
            target,
            cooldown_ms: cooldownMs,
            after: permit.state === 'half-open' ? 'failed probe' : `${threshold} failures in ${windowMs} ms`,
          });
        }
      } catch (err) {
        unavailable('failure', err);
      }
    },
  };
}
