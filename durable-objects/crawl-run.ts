/**
 * CrawlRun: one Durable Object per website crawl run. It will own the crawl frontier (URL
 * dedupe, depth and page budgets, per-host politeness) when the knowledge-ingestion work lands;
 * for now it only keeps the run's progress counters, so the namespace, its SQLite storage
 * migration and RPC wiring exist and are exercised by tests.
 */
import { DurableObject } from 'cloudflare:workers';

export interface CrawlProgress {
  discovered: number;
  fetched: number;
  failed: number;
}

export class CrawlRun extends DurableObject<Env> {
  async progress(): Promise<CrawlProgress> {
    return (await this.ctx.storage.get<CrawlProgress>('progress')) ?? { discovered: 0, fetched: 0, failed: 0 };
  }

  /** Adds to the counters atomically (a Durable Object handles one call at a time). */
  async count(delta: Partial<CrawlProgress>): Promise<CrawlProgress> {
    const current = await this.progress();
    const next: CrawlProgress = {
      discovered: current.discovered + (delta.discovered ?? 0),
      fetched: current.fetched + (delta.fetched ?? 0),
      failed: current.failed + (delta.failed ?? 0),
    };
    await this.ctx.storage.put('progress', next);
    return next;
  }
}
