/**
 * Upstash Redis over REST, built per request from configuration. Every call is bounded by a
 * timeout and retried at most `retries` times, so a slow or absent Redis costs milliseconds,
 * not the request.
 */
import { Redis } from '@upstash/redis/cloudflare';
import type { Config } from './config';

export interface RedisOptions {
  timeoutMs?: number;
  retries?: number;
}

export function createRedis(
  config: Pick<Config, 'UPSTASH_REDIS_REST_URL' | 'UPSTASH_REDIS_REST_TOKEN'>,
  opts: RedisOptions = {},
): Redis {
  const timeoutMs = opts.timeoutMs ?? 1000;
  return new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    // A function (not a fixed signal) makes an aborted call throw instead of resolving "Aborted".
    signal: () => AbortSignal.timeout(timeoutMs),
    retry: opts.retries ? { retries: opts.retries, backoff: (n) => 20 * 2 ** n } : false,
    enableTelemetry: false,
  });
}
