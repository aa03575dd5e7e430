/**
 * Crawls never stay `processing` forever: the cron checks on crawls whose source has not moved
 * for a while, and the run decides — pages whose messages were lost are sent again; a run that
 * stalls again and again gives them up with a readable reason; a run that settled but never
 * finished is finished; a run waiting for a host's slot is left alone.
 */
import { createScheduledController, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CRAWL_RECOVERIES, STALLED_REASON } from '../src/crawl/recover';
import worker from '../src/index';
import { testSql } from './support/http';
import { forkSite, siteHits } from './support/site';
import { addSource, documents, getSource, settled } from './support/sources';
import { createTenant } from './support/tenants';

const sql = testSql();
afterAll(() => sql.end());
const HOUR = 3600_000;

/** A finished crawl of the site's /mixed/ section, as the starting point of each scenario. */
async function crawledSource() {
  const origin = await forkSite();
  const tenant = await createTenant();
  const id = await addSource(tenant, { type: 'website', url: `${origin}/mixed/`, include: ['/mixed/**'] });
  expect((await settled(tenant, id, 60_000)).source.status).toBe('ready');
  const run = env.CRAWL_RUN.get(env.CRAWL_RUN.idFromName(`${id}:1`));
  return { origin, tenant, id, run };
}

/**
 * Makes the run look as it would after its messages were lost an hour ago: `open` URLs still
 * owed a fetch, no activity since, and (unless `slotAhead`) no host slot reserved ahead.
 */
async function stall(
  run: DurableObjectStub,
  opts: { open?: string[]; recoveries?: number; slotAhead?: boolean; sourceId: string },
) {
  await runInDurableObject(run, async (_instance, state) => {
    const db = state.storage.sql;
    for (const url of opts.open ?? []) {
      db.exec(`insert into frontier (url, depth, kind, state) values (?, 1, 'page', 'fetching')`, url);
    }
    db.exec(`insert or replace into meta (key, value) values ('activity', ?)`, String(Date.now() - HOUR));
    db.exec(`update hosts set next_slot = ?`, opts.slotAhead ? Date.now() + HOUR : Date.now() - HOUR);
    if (opts.recoveries) {
      db.exec(`insert or replace into meta (key, value) values ('recoveries', ?)`, String(opts.recoveries));
    }
  });
  await sql`
    update sources set crawl_running = true, status = 'processing', updated_at = now() - interval '1 hour'
    where id = ${opts.sourceId}`;
}

const cron = () =>
  worker.scheduled(createScheduledController({ cron: '*/15 * * * *', scheduledTime: Date.now() }), env);

describe('stalled crawl recovery', () => {
  it('sends the pages of a stalled run again, then finishes it', async () => {
    const { origin, tenant, id, run } = await crawledSource();
    const lost = `${origin}/moves/landing`;
    await stall(run, { open: [lost], sourceId: id });
    await cron();
    const { source } = await settled(tenant, id, 60_000);
    expect(source.status).toBe('ready');
    const doc = (await documents(tenant, id)).find((d) => d.url === lost);
    expect(doc).toMatchObject({ status: 'ready', title: 'Moved here' });
    expect(source.stats.pages_discovered).toBe(6); // the five pages of the section and the lost one
  }, 90_000);

  it('gives up pages of a run that keeps stalling, with a readable reason, keeping what it has', async () => {
    const { origin, tenant, id, run } = await crawledSource();
    const lost = `${origin}/mixed/never`;
    await stall(run, { open: [lost], recoveries: MAX_CRAWL_RECOVERIES, sourceId: id });
    await cron();
    const { source } = await settled(tenant, id, 60_000);
    expect(source).toMatchObject({ status: 'ready', error: null });
    const docs = await documents(tenant, id);
    expect(docs.find((d) => d.url === lost)).toMatchObject({ status: 'failed', error: STALLED_REASON });
    expect(docs.find((d) => d.url === `${origin}/mixed/a`)).toMatchObject({ status: 'ready' });
    expect((await siteHits(origin))['/mixed/never']).toBeUndefined();
  }, 90_000);

  it('finishes a run whose pages all settled but whose finish never landed', async () => {
    const { origin, tenant, id, run } = await crawledSource();
    await stall(run, { sourceId: id });
    const [half] = await sql<{ id: string }[]>`
      update documents set status = 'processing' where source_id = ${id} and url = ${`${origin}/mixed/b`} returning id`;
    await cron();
    const { source } = await settled(tenant, id, 60_000);
    expect(source.status).toBe('ready');
    expect((await documents(tenant, id)).find((d) => d.id === half?.id)).toMatchObject({
      status: 'failed',
      error: STALLED_REASON,
    });
  }, 90_000);

  it('leaves a quiet run alone while a host slot is reserved ahead (a long Retry-After)', async () => {
    const { origin, tenant, id, run } = await crawledSource();
    await stall(run, { open: [`${origin}/moves/landing`], slotAhead: true, sourceId: id });
    await cron();
    await new Promise((r) => setTimeout(r, 3000));
    expect((await getSource(tenant, id)).status).toBe('processing');
    expect((await siteHits(origin))['/moves/landing']).toBeUndefined();
  }, 90_000);
});
