/**
 * Runs the local stack as a standalone process for the test global setup and the benchmarks:
 * `node scripts/stack/serve.ts` picks free ports, keeps data in memory, prints one JSON line
 * `{"ready":true,"databaseUrl",…}` once everything answers, and stops it all on SIGTERM/SIGINT.
 * (A separate process keeps the stack out of vite's module runner, which resolves packages for
 * workerd, and lets tests stop and start it like a real service.)
 */
import { startStack } from './index.ts';
import { freePort } from './proc.ts';
import { STATS_PATH } from './upstash-rest.ts';

const token = process.env.PARLEY_REDIS_TOKEN ?? 'parley-test-redis-token';
const ports = { postgres: await freePort(), redis: await freePort(), upstash: await freePort() };
const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

try {
  const stack = await startStack({ ports, redisToken: token, log });
  const stop = async (): Promise<void> => {
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The parent holds our stdin open; when it dies (even by SIGKILL) stdin ends and we stop too.
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.stdout.write(
    `${JSON.stringify({
      ready: true,
      databaseUrl: stack.databaseUrl,
      upstashUrl: stack.upstashUrl,
      upstashToken: token,
      upstashStatsUrl: `${stack.upstashUrl}${STATS_PATH}`,
      ports,
    })}\n`,
  );
} catch (err) {
  process.stdout.write(
    `${JSON.stringify({ ready: false, error: err instanceof Error ? err.message : String(err) })}\n`,
  );
  process.exit(1);
}
