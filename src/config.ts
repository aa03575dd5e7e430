/**
 * Configuration, parsed once per isolate from the Worker's env with zod. A deployment with a
 * missing or malformed required variable does not serve half-configured: `/ready` names the
 * problem variables (never their values) and API routes answer 503 `config_invalid`.
 */
import { z } from 'zod';

/** Empty strings count as "not set": wrangler and dashboards leave blanks behind. */
const blankIsMissing = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const required = <T extends z.ZodType>(schema: T) => z.preprocess(blankIsMissing, schema);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankIsMissing, schema.optional());
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const ConfigSchema = z.object({
  ENVIRONMENT: required(z.enum(['development', 'staging', 'production'])),
  RELEASE: optional(z.string().max(100)).default('unknown'),
  LOG_LEVEL: optional(z.enum(['debug', 'info', 'warn', 'error'])).default('info'),
  UPSTASH_REDIS_REST_URL: required(httpUrl),
  UPSTASH_REDIS_REST_TOKEN: required(z.string().min(8, 'must be at least 8 characters')),
  SENTRY_DSN: optional(z.url({ error: 'must be a Sentry DSN URL' })),
  /** Supabase project URL; owner tokens are verified against its JWKS and issuer. */
  SUPABASE_URL: required(httpUrl),
  /** Legacy HS256 JWT secret of the Supabase project, when its tokens are still HS256. */
  SUPABASE_JWT_SECRET: optional(z.string().min(32, 'must be at least 32 characters')),
  /** Signs Parley's end-user session tokens (HS256). */
  SESSION_SECRET: required(z.string().min(32, 'must be at least 32 characters')),
  SESSION_TTL_SECONDS: optional(
    z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600),
  ).default(3600),
  /**
   * Failed authentications (401) one client IP may make per minute; beyond it the IP's requests
   * answer 429 before authenticating, valid credentials included, until the minute resets.
   */
  AUTH_FAILURES_PER_MINUTE: optional(z.coerce.number().int().min(1).max(100_000)).default(20),
  OPENAI_API_KEY: optional(z.string()),
  /** Per-attempt time limit of model calls, in ms (also the longest silence inside a stream). */
  OPENAI_TIMEOUT_MS: optional(z.coerce.number().int().min(500).max(120_000)).default(10_000),
  /** DNS-over-HTTPS JSON endpoint the crawler resolves hostnames with (SSRF checks). */
  DNS_RESOLVER_URL: optional(httpUrl).default('https://cloudflare-dns.com/dns-query'),
  /** Development only: let the crawler fetch loopback sites. Ignored in staging and production. */
  CRAWL_ALLOW_LOOPBACK: optional(z.enum(['true', 'false'])).transform((v) => v !== 'false'),
  /** Requests per second per crawled host (at most 1; robots.txt crawl-delay can only slow it). */
  CRAWL_HOST_RPS: optional(z.coerce.number().gt(0).max(1)).default(1),
  OPENAI_BASE_URL: optional(httpUrl),
  /** Embedding model of the OpenAI-compatible provider (default text-embedding-3-small). */
  OPENAI_EMBEDDING_MODEL: optional(z.string().max(100)),
  /** Largest request body accepted by JSON endpoints, in bytes. */
  MAX_BODY_BYTES: optional(
    z.coerce
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024),
  ).default(1024 * 1024),
  HYPERDRIVE: z.custom<Hyperdrive>(
    (v) =>
      typeof v === 'object' && v !== null && typeof (v as { connectionString?: unknown }).connectionString === 'string',
    'Hyperdrive binding is missing',
  ),
});

export type Config = z.infer<typeof ConfigSchema>;

export interface ConfigProblem {
  /** The variable or binding name. */
  name: string;
  problem: 'missing' | 'invalid';
  /** What is wrong, without the value. */
  message: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

export function parseConfig(env: Record<string, unknown>): ConfigResult {
  const parsed = ConfigSchema.safeParse(env);
  if (parsed.success) return { ok: true, config: parsed.data };
  const problems = parsed.error.issues.map((issue): ConfigProblem => {
    const name = String(issue.path[0] ?? 'env');
    const missing = env[name] === undefined || blankIsMissing(env[name]) === undefined;
    return { name, problem: missing ? 'missing' : 'invalid', message: missing ? 'not set' : issue.message };
  });
  return { ok: false, problems };
}

// Deliberate isolate-level cache: env is fixed for the life of an isolate, so parse (and log a
// problem) once per env object rather than on every request.
const cache = new WeakMap<object, ConfigResult>();

export function loadConfig(env: object): ConfigResult {
  let result = cache.get(env);
  if (!result) {
    result = parseConfig(env as Record<string, unknown>);
    cache.set(env, result);
    if (!result.ok) {
      console.error(
        JSON.stringify({
          level: 'error',
          msg: 'configuration invalid: API routes answer 503 config_invalid until it is fixed',
          problems: result.problems,
        }),
      );
    }
  }
  return result;
}
