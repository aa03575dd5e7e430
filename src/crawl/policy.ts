/**
 * The crawler's environment policy and the refusal vocabulary shared by the SSRF check
 * (ssrf.ts) and the fetcher (fetch.ts).
 */

export type Environment = 'development' | 'staging' | 'production';

/** What the crawler may reach beyond the public internet. */
export interface CrawlPolicy {
  /**
   * Allow loopback targets (127.0.0.0/8, ::1, `localhost`, `*.localhost`) on any port, so a
   * site served on the developer's machine can be crawled. Never widens to other private or
   * link-local ranges.
   */
  readonly allowLoopback: boolean;
}

/**
 * The policy for an environment. Loopback is allowed only in development (default on there;
 * `allowLoopbackSetting: false` turns it off); staging and production refuse loopback
 * whatever their configuration says.
 */
export function crawlPolicy(environment: Environment, allowLoopbackSetting?: boolean): CrawlPolicy {
  return { allowLoopback: environment === 'development' && allowLoopbackSetting !== false };
}

/** Why a target was refused before (or instead of) fetching it. */
export type TargetRefusalReason =
  'invalid_url' | 'blocked_scheme' | 'blocked_port' | 'credentials' | 'blocked_address' | 'ip_literal' | 'dns_failed';

/** Every reason `fetchSafely` can fail for. */
export type FetchFailureReason =
  | TargetRefusalReason
  | 'too_many_redirects'
  | 'redirect_loop'
  | 'redirect_refused'
  | 'too_large'
  | 'bad_content_type'
  | 'http_error'
  | 'timeout'
  | 'network';

/** A refusal as a value: `reason` is stable for code, `message` is readable for people. */
export interface Refusal<R extends string = FetchFailureReason> {
  ok: false;
  reason: R;
  message: string;
}
