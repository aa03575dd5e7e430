/**
 * Vitest global setup (runs in Node before the workerd test pool): starts the same local stack
 * `npm run dev` uses — PGlite + pgvector with all migrations, a private Redis and the
 * Upstash-compatible REST endpoint — on free ports with in-memory data, so tests never touch
 * dev data. Also starts the fake Sentry and a "black hole" TCP server that accepts connections
 * and never answers (for timeout tests), and the Node-side test tools (test/fakes/tools.ts). Ports reach the test config through `provide`.
 */
import { createServer, type Socket } from 'node:net';
import type { TestProject } from 'vitest/node';
import '../support/provided.ts';
import { startFakeSentry } from '../fakes/sentry.ts';
import { startTools } from '../fakes/tools.ts';
import { startSite } from '../fakes/site.ts';
import { startFakeSupabaseAuth } from '../fakes/supabase-auth.ts';
import { startFakeDoh } from '../fakes/doh.ts';
import { startCrawlSite } from '../fakes/crawl-site.ts';
import { startFakeOpenAI } from '../fakes/openai.ts';
import { spawnStack } from '../../scripts/stack/client.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await spawnStack();
  const sentry = await startFakeSentry();
  const tools = await startTools();
  const site = await startSite();
  const supabase = await startFakeSupabaseAuth();
  const doh = await startFakeDoh();
  const crawlSite = await startCrawlSite();
  const openai = await startFakeOpenAI();

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
  project.provide('upstashStatsUrl', stack.upstashStatsUrl);
  project.provide('sentryDsn', sentry.dsn);
  project.provide('sentryPort', sentry.port);
  project.provide('blackHolePort', blackHolePort);
  project.provide('toolsPort', tools.port);
  project.provide('siteOrigin', site.origin);
  project.provide('supabaseUrl', supabase.url);
  project.provide('dohUrl', doh.url);
  project.provide('crawlSitePort', crawlSite.port);
  project.provide('openaiUrl', openai.url);

  return async () => {
    for (const s of sockets) s.destroy();
    blackHole.close();
    await sentry.close();
    await tools.close();
    await site.close();
    await supabase.close();
    await doh.close();
    await crawlSite.close();
    await openai.close();
    await stack.stop();
  };
}
