/**
 * `npm run dev`: the whole local stack in one command.
 *   Postgres  PGlite + pgvector on 127.0.0.1:54330, data in .parley/pgdata, migrations applied
 *   Redis     a private redis-server on 127.0.0.1:6389 (installed from Debian if missing)
 *   Upstash   REST endpoint for @upstash/redis on 127.0.0.1:8379
 *   Worker    wrangler dev on 127.0.0.1:8787 (or $PORT), queues, Durable Objects and R2 local
 * Ctrl-C stops everything. A second `npm run dev` while one runs refuses to start.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { devVars } from './lib/dev-env.ts';
import { seed } from './lib/seed.ts';
import { DEV_PORTS, startStack, type Stack } from './stack/index.ts';
import { RedisUnavailableError } from './stack/redis.ts';
import { portOpen, stopChild } from './stack/proc.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STATE = `${ROOT}.parley`;
const LOCK = `${STATE}/dev.lock`;
const PORT = Number(process.env.PORT ?? 8787);
const log = (line: string): void => console.log(line);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Takes .parley/dev.lock atomically (O_EXCL); a lock left by a process that is gone is taken over. */
async function acquireLock(): Promise<void> {
  await mkdir(STATE, { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(LOCK, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(LOCK, 'utf8').catch(() => '')).trim());
    if (pid && alive(pid)) {
      console.error(
        `Parley's dev stack is already running (pid ${pid}). Stop it (Ctrl-C there) before starting another.`,
      );
      process.exit(1);
    }
    await rm(LOCK, { force: true });
  }
  console.error(`Could not take ${LOCK}; is another \`npm run dev\` starting right now?`);
  process.exit(1);
}

async function main(): Promise<void> {
  await acquireLock();
  for (const [name, port] of Object.entries({ ...DEV_PORTS, worker: PORT })) {
    if (await portOpen(port)) {
      console.error(`Port ${port} (${name}) is already in use by another program; free it and run again.`);
      await rm(LOCK, { force: true });
      process.exit(1);
    }
  }
  const vars = devVars(log);
  const token = vars.UPSTASH_REDIS_REST_TOKEN;
  if (!token) throw new Error('.dev.vars has no UPSTASH_REDIS_REST_TOKEN (see .dev.vars.example)');

  let stack: Stack | undefined;
  const running: { worker?: ReturnType<typeof spawn> } = {};
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log('[dev] stopping…');
    if (running.worker) await stopChild(running.worker);
    await stack?.stop();
    await rm(LOCK, { force: true });
    log('[dev] stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    log('[dev] starting Postgres (PGlite + pgvector), Redis and the Upstash REST endpoint…');
    stack = await startStack({ ports: DEV_PORTS, pgDataDir: `${STATE}/pgdata`, redisToken: token, log });
    log(
      `[dev] Postgres ${stack.databaseUrl} — migrations applied: ${stack.applied.length ? stack.applied.join(', ') : 'none new'}`,
    );
    log(`[dev] Redis 127.0.0.1:${DEV_PORTS.redis}, Upstash REST ${stack.upstashUrl}`);
  } catch (err) {
    console.error(
      err instanceof RedisUnavailableError ? err.message : `[dev] could not start the local stack: ${String(err)}`,
    );
    await shutdown(1);
    return;
  }

  const wrangler = fileURLToPath(new URL('../node_modules/wrangler/bin/wrangler.js', import.meta.url));
  const worker = spawn(
    process.execPath,
    [
      wrangler,
      'dev',
      '--port',
      String(PORT),
      '--ip',
      '127.0.0.1',
      '--persist-to',
      `${STATE}/wrangler`,
      '--show-interactive-dev-session=false',
      '--var',
      `UPSTASH_REDIS_REST_URL:${stack.upstashUrl}`,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        CLOUDFLARE_CF_FETCH_ENABLED: 'false',
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: stack.databaseUrl,
      },
    },
  );
  running.worker = worker;
  worker.once('exit', (code) => {
    if (!stopping) {
      console.error(`[dev] wrangler dev exited (${code}); stopping the stack`);
      void shutdown(code ?? 1);
    }
  });
  const baseUrl = `http://127.0.0.1:${PORT}`;
  try {
    await waitForHealth(baseUrl);
  } catch (err) {
    console.error(`[dev] ${err instanceof Error ? err.message : String(err)}; stopping the stack`);
    await shutdown(1);
    return;
  }
  try {
    const { info, created } = await seed(baseUrl);
    log(`[dev] ${created ? 'created' : 'reusing'} the demo project (written to .parley/dev.json):`);
    log(`        project_id       ${info.project_id}`);
    log(`        secret_key       ${info.secret_key}`);
    log(`        publishable_key  ${info.publishable_key}`);
    log(`        owner token      npm run -s token   (also in .parley/dev.json)`);
  } catch (err) {
    console.error(`[dev] seeding the demo project failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  log(`[dev] Parley on ${baseUrl} — /health, /ready, /api/v1/openapi.json. Ctrl-C stops everything.`);
}

async function waitForHealth(baseUrl: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${baseUrl}/health`).catch(() => undefined);
    if (res?.ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the Worker did not answer on ${baseUrl}/health within 60 s`);
}

await main();
