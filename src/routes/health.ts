/** Liveness (`/health`, no I/O) and readiness (`/ready`, a real round trip to each dependency). */
import { Hono } from 'hono';
import { z } from 'zod';
import { loadConfig } from '../config';
import type { AppEnv } from '../env';
import { checkDatabase, checkRedis, type CheckResult } from '../health';
import { describe } from '../http/openapi';

const Check = z.object({
  status: z.enum(['ok', 'error']),
  latency_ms: z.number(),
  error: z.string().optional(),
});

export const ReadySchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.record(z.string(), Check),
  config: z
    .object({
      status: z.literal('invalid'),
      problems: z.array(z.object({ name: z.string(), problem: z.enum(['missing', 'invalid']), message: z.string() })),
    })
    .optional(),
});

export const health = new Hono<AppEnv>()
  .get(
    '/health',
    describe({
      summary: 'Liveness',
      tags: ['health'],
      responses: { 200: { description: 'The Worker is running', schema: z.object({ status: z.literal('ok') }) } },
    }),
    (c) => c.json({ status: 'ok' as const }),
  )
  .get(
    '/ready',
    describe({
      summary: 'Readiness: database and Redis reachable, configuration valid',
      tags: ['health'],
      responses: {
        200: { description: 'Ready', schema: ReadySchema },
        503: { description: 'A check failed or the configuration is invalid', schema: ReadySchema },
      },
    }),
    async (c) => {
      const config = loadConfig(c.env);
      if (!config.ok) {
        // Names only, never values.
        return c.json(
          {
            status: 'unavailable' as const,
            checks: {},
            config: { status: 'invalid' as const, problems: config.problems },
          },
          503,
        );
      }
      const [database, redis] = await Promise.all([
        checkDatabase(config.config.HYPERDRIVE.connectionString),
        checkRedis(config.config),
      ]);
      const checks: Record<string, CheckResult> = { database, redis };
      const ok = Object.values(checks).every((check) => check.status === 'ok');
      return c.json({ status: ok ? ('ok' as const) : ('unavailable' as const), checks }, ok ? 200 : 503);
    },
  );
