/**
 * Politeness arithmetic: how long to wait before retrying a failed fetch, and how far apart
 * requests to one host must be.
 */

/** Default retry delay base and cap, in seconds. */
export const BACKOFF_BASE_SECONDS = 2;
export const BACKOFF_CAP_SECONDS = 3600;
/** Default and fastest request rate per host. */
export const DEFAULT_HOST_RPS = 1;

/**
 * Parses a Retry-After header: delay-seconds (`120`) or an HTTP-date, relative to `now`.
 * Returns whole seconds (≥ 0), or undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export interface BackoffOptions {
  /** Delay scale of the first retry, seconds (default 2). */
  baseSeconds?: number;
  /** Upper bound of any returned delay, seconds (default 3600; queues accept up to 43,200). */
  capSeconds?: number;
  /** Random source in [0, 1) — injectable for tests. */
  random?: () => number;
  now?: number;
}

/**
 * Seconds to wait before retry number `attempt` (1 = first retry): exponential with full
 * jitter, i.e. uniform in [0, min(cap, base·2^(attempt−1))], so retries from many runs spread
 * out. A Retry-After header (seconds or HTTP-date) is honoured: the delay is never shorter than
 * what the server asked for, within the cap. Returns whole seconds, as Queues' `delaySeconds`
 * wants.
 */
export function backoffSeconds(
  attempt: number,
  retryAfterHeader?: string | null,
  options: BackoffOptions = {},
): number {
  const base = options.baseSeconds ?? BACKOFF_BASE_SECONDS;
  const cap = options.capSeconds ?? BACKOFF_CAP_SECONDS;
  const random = options.random ?? Math.random;
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  const ceiling = Math.min(cap, base * 2 ** Math.min(exponent, 52));
  const jittered = Math.round(random() * ceiling);
  const asked = parseRetryAfter(retryAfterHeader, options.now);
  return Math.min(cap, Math.max(jittered, asked ?? 0));
}

/**
 * Minimum milliseconds between two requests to one host. By default one request per second;
 * `configuredRps` may only slow that down (values above 1, zero, negative or NaN fall back to
 * the default), and robots.txt's Crawl-delay, when longer, always wins.
 */
export function hostDelayMs(crawlDelaySeconds?: number, configuredRps?: number): number {
  const rps =
    configuredRps !== undefined && Number.isFinite(configuredRps) && configuredRps > 0
      ? Math.min(configuredRps, DEFAULT_HOST_RPS)
      : DEFAULT_HOST_RPS;
  const fromRate = Math.ceil(1000 / rps);
  const fromRobots =
    crawlDelaySeconds !== undefined && Number.isFinite(crawlDelaySeconds) && crawlDelaySeconds > 0
      ? Math.ceil(crawlDelaySeconds * 1000)
      : 0;
  return Math.max(fromRate, fromRobots);
}
