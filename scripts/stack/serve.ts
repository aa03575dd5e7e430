/**
 * Runs the local stack as a standalone process for the test global setup and the benchmarks:
 * `node scripts/stack/serve.ts` picks free ports, keeps data in memory, prints one JSON line
 * `{"ready":true,"databaseUrl",…}` once everything answers, and stops it all on SIGTERM/SIGINT.
 * (A separate process keeps the stack out of vite's module runner, which resolves packages for
 * workerd, and lets tests stop and start it like a real service.)
 *
 * Outage drills: a line `stop redis`, `start redis`, `stop postgres` or `start postgres` on
 * stdin stops or restarts that server on its port and answers one JSON line `{"ok":…}`. A
 * restarted Postgres is a new, empty in-memory database (enough for connectivity checks).
 */
import { createInterface } from 'node:readline';
import { startStack } from './index.ts';
import { startPostgres } from './postgres.ts';
import { freePort, type Managed } from './proc.ts';
import { startRedis } from './redis.ts';
import { STATS_PATH } from './upstash-rest.ts';

const token = process.env.PARLEY_REDIS_TOKEN ?? 'parley-test-redis-token';
const ports = { postgres: await freePort(), redis: await freePort(), upstash: await freePort() };
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
const reply = (body: unknown): void => {
  process.stdout.write(`${JSON.stringify(body)}\n`);
};

try {
  const stack = await startStack({ ports, redisToken: token, log });
  const servers: Record<'postgres' | 'redis', Managed | undefined> = { postgres: stack.postgres, redis: stack.redis };
  const starters = {
    postgres: () => startPostgres({ port: ports.postgres, log }),
    redis: () => startRedis({ port: ports.redis, log }),
  };
  const stop = async (): Promise<void> => {
    await Promise.all(Object.values(servers).map((s) => s?.stop().catch(() => {})));
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent holds our stdin open; when it dies (even by SIGKILL) stdin ends and we stop too.
  process.stdin.on('end', stop);
  createInterface({ input: process.stdin }).on('line', (line) => {
    const command = /^(stop|start) (postgres|redis)$/.exec(line.trim());
    if (!command) return reply({ ok: false, error: `unknown command: ${line.slice(0, 100)}` });
    const [, verb, name] = command as unknown as [string, 'stop' | 'start', 'postgres' | 'redis'];
    const run = async (): Promise<void> => {
      if (verb === 'stop') {
        await servers[name]?.stop();
        servers[name] = undefined;
      } else if (!servers[name]) {
        servers[name] = await starters[name]();
      }
    };
    run().then(
      () => reply({ ok: true, command: line.trim() }),
      (err: unknown) => reply({ ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  reply({
    ready: true,
    databaseUrl: stack.databaseUrl,
    upstashUrl: stack.upstashUrl,
    upstashToken: token,
    upstashStatsUrl: `${stack.upstashUrl}${STATS_PATH}`,
    ports,
  });
} catch (err) {
  reply({ ready: false, error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
