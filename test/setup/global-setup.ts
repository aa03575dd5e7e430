/**
 * Vitest global setup (runs in Node before the workerd test pool): starts the same local stack
 * `npm run dev` uses — PGlite + pgvector with all migrations, a private Redis and the
 * Upstash-compatible REST endpoint — on free ports with in-memory data, so tests never touch
 * dev data. Also starts the fake Sentry and a "black hole" TCP server that accepts connections
 * and never answers (for timeout tests). Ports reach the test config through `provide`.
 */
import { createServer, type Socket } from 'node:net';
import type { TestProject } from 'vitest/node';
import { startFakeSentry } from '../fakes/sentry.ts';
import { spawnStack } from '../../scripts/stack/client.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    upstashUrl: string;
    upstashToken: string;
    sentryDsn: string;
    sentryPort: number;
    blackHolePort: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await spawnStack();
  const sentry = await startFakeSentry();

  const sockets = new Set<Socket>();
  const blackHole = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', () => resolve()));
  const address = blackHole.address();
  const blackHolePort = typeof address === 'object' && address ? address.port : 0;

  project.provide('databaseUrl', stack.databaseUrl);
  project.provide('upstashUrl', stack.upstashUrl);
  project.provide('upstashToken', stack.upstashToken);
  project.provide('sentryDsn', sentry.dsn);
  project.provide('sentryPort', sentry.port);
  project.provide('blackHolePort', blackHolePort);

  return async () => {
    for (const s of sockets) s.destroy();
    blackHole.close();
    await sentry.close();
    await stack.stop();
  };
}
