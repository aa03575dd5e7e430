/**
 * Local Postgres: PGlite (real Postgres in WASM, with pgvector) served over the Postgres wire
 * protocol by @electric-sql/pglite-socket, in its own process.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import postgres from 'postgres';
import { startProcess, waitForPort, type Log, type Managed } from './proc.ts';

const require = createRequire(import.meta.url);

export interface PostgresOptions {
  port: number;
  /** A directory to persist data in, or undefined for an in-memory database. */
  dataDir?: string;
  log: Log;
}

export function connectionString(port: number): string {
  return `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
}

export async function startPostgres(opts: PostgresOptions): Promise<Managed> {
  // The package's exports map hides the server script; find it beside the package entry.
  const server = join(dirname(require.resolve('@electric-sql/pglite-socket')), 'scripts', 'server.js');
  const args = [
    server,
    `--port=${opts.port}`,
    '--host=127.0.0.1',
    `--db=${opts.dataDir ?? 'memory://'}`,
    '--extensions=@electric-sql/pglite-pgvector:vector',
    // Each open chat stream keeps its turn's connection until the answer is stored, so a local
    // stack holding hundreds of streams needs as many; a connection here is only a socket handler.
    '--max-connections=1000',
  ];
  const managed = startProcess('postgres', process.execPath, args, { log: opts.log, quiet: true });
  await waitForPort(opts.port, 60_000, managed.child);
  // The port opens before PGlite has finished booting; wait for a real query round trip.
  const sql = postgres(connectionString(opts.port), { max: 1, onnotice: () => {} });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await sql`select 1`;
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
  return managed;
}

/**
 * PGlite runs no autovacuum, so the planner's statistics stay as they were at start: after a
 * large ingestion it keeps sorting every chunk by distance instead of using the HNSW index
 * (100–300 ms a search instead of ~3 ms at 10,000 chunks). Real Postgres (Supabase) analyzes by
 * itself; locally this does it every `everyMs`. Failures (a stopped server) are ignored.
 */
export function keepStatisticsFresh(databaseUrl: string, everyMs = 60_000): { stop(): Promise<void> } {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, idle_timeout: 5, connect_timeout: 5 });
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sql`analyze`.catch(() => {}).finally(() => (running = false));
  }, everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await sql.end({ timeout: 1 }).catch(() => {});
    },
  };
}
