/**
 * The local stack in one call: Postgres (PGlite + pgvector) with migrations applied, a private
 * Redis, and the Upstash-compatible REST endpoint in front of it. Used by `npm run dev`, the
 * test global setup and the benchmarks, each with its own ports and data.
 */
import { fileURLToPath } from 'node:url';
import { connectionString, keepStatisticsFresh, startPostgres } from './postgres.ts';
import { migrate } from './migrate.ts';
import { startRedis } from './redis.ts';
import { startUpstashRest } from './upstash-rest.ts';
import type { Log, Managed } from './proc.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../supabase/migrations', import.meta.url));

/** Fixed local ports of the dev stack (the Worker itself serves on 8787 unless PORT says otherwise). */
export const DEV_PORTS = { postgres: 54330, redis: 6389, upstash: 8379 } as const;

export interface StackOptions {
  ports: { postgres: number; redis: number; upstash: number };
  /** Persist Postgres data here; in memory when undefined. */
  pgDataDir?: string;
  redisToken: string;
  log: Log;
}

export interface Stack {
  databaseUrl: string;
  upstashUrl: string;
  upstashToken: string;
  applied: string[];
  postgres: Managed;
  redis: Managed;
  stop(): Promise<void>;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of started.reverse()) await s.stop().catch(() => {});
  };
  try {
    const postgres = await startPostgres({ port: opts.ports.postgres, dataDir: opts.pgDataDir, log: opts.log });
    started.push(postgres);
    const databaseUrl = connectionString(opts.ports.postgres);
    const applied = await migrate(databaseUrl, MIGRATIONS_DIR);
    // Every 3 minutes: ANALYZE briefly holds PGlite's single engine, so not more often.
    started.push(keepStatisticsFresh(databaseUrl, 180_000));
    const redis = await startRedis({ port: opts.ports.redis, log: opts.log });
    started.push(redis);
    const rest = await startUpstashRest({
      port: opts.ports.upstash,
      redisUrl: `redis://127.0.0.1:${opts.ports.redis}`,
      token: opts.redisToken,
    });
    started.push({ stop: rest.close });
    return {
      databaseUrl,
      upstashUrl: rest.url,
      upstashToken: opts.redisToken,
      applied,
      postgres,
      redis,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
