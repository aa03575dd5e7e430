/**
 * Parley's Worker: the one wiring point. Builds the HTTP app (platform middleware, then one
 * sub-app per resource under /api/v1) and exports the Worker's handlers and Durable Objects.
 */
import { handleQueue } from '../queues';
import { createSql } from './db';
import { createBaseApp } from './http/platform';
import { runScheduledIngestion } from './sources/schedule';
import { log } from './http/logger';
import { reportingFailures } from './http/sentry';
import { health } from './routes/health';
import { keys } from './routes/keys';
import { members } from './routes/members';
import { openapi } from './routes/openapi';
import { projects } from './routes/projects';
import { session } from './routes/session';
import { sources } from './routes/sources';
import { chat } from './routes/chat';
import { conversations } from './routes/conversations';
import { openaiCompat } from './routes/openai-compat';
import { tickets } from './routes/tickets';
import { insights } from './routes/insights';
import { endUsers } from './routes/end-users';

const app = createBaseApp();
app.route('/', health);
app.route('/api/v1', projects);
app.route('/api/v1', keys);
app.route('/api/v1', members);
app.route('/api/v1', session);
app.route('/api/v1', sources);
app.route('/api/v1', chat);
app.route('/api/v1', conversations);
app.route('/api/v1', tickets);
app.route('/api/v1', insights);
app.route('/api/v1', endUsers);
app.route('/v1', openaiCompat);
app.route('/api/v1', openapi(app));

export { CrawlRun } from '../durable-objects/crawl-run';

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx?: ExecutionContext) =>
    reportingFailures(env, ctx, `queue:${batch.queue}`, () => handleQueue(batch, env)),
  scheduled: (controller, env, ctx?: ExecutionContext) =>
    reportingFailures(env, ctx, 'scheduled', async () => {
      const sql = createSql(env.HYPERDRIVE.connectionString);
      const ingestion = await runScheduledIngestion({
        sql,
        bucket: env.UPLOADS,
        ingest: env.INGEST_QUEUE,
        crawl: env.CRAWL_QUEUE,
      });
      log('info', 'scheduled run', { cron: controller.cron, scheduled_time: controller.scheduledTime, ...ingestion });
    }),
} satisfies ExportedHandler<Env, unknown>;
