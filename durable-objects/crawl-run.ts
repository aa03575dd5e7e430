/**
 * CrawlRun: one Durable Object per crawl run (source × sync generation). It owns the frontier —
 * URL dedupe (callers pass normalised URLs), depth and page budget, per-host politeness slots —
 * and the run's progress counters. Queue consumers do the fetching and ask it what to do next;
 * a Durable Object handles one call at a time, so its decisions never race.
 */
import { DurableObject } from 'cloudflare:workers';

export interface CrawlProgress {
  discovered: number;
  fetched: number;
  failed: number;
}

export interface RunSettings {
  maxPages: number;
  maxDepth: number;
  /** Minimum milliseconds between two fetches from one host. */
  hostDelayMs: number;
}

export interface Candidate {
  url: string;
  depth: number;
  kind: 'page' | 'sitemap';
}

export interface Admitted extends Candidate {
  /** Seconds to wait before fetching, so fetches from one host keep their spacing. */
  delaySeconds: number;
}

export type UrlOutcome = 'fetched' | 'failed' | 'skipped';

export class CrawlRun extends DurableObject<Env> {
  private ensureSchema(): void {
    this.ctx.storage.sql.exec(`
      create table if not exists frontier (
        url text primary key, depth integer not null, kind text not null,
        state text not null default 'queued', reason text
      );
      create table if not exists hosts (host text primary key, next_slot integer not null, delay_ms integer not null);
      create table if not exists meta (key text primary key, value text not null);`);
  }

  private setting(): RunSettings | undefined {
    this.ensureSchema();
    const row = this.ctx.storage.sql
      .exec<{ value: string }>(`select value from meta where key = 'settings'`)
      .toArray()[0];
    return row ? (JSON.parse(row.value) as RunSettings) : undefined;
  }

  /** Starts the run (idempotent: a second start of the same run keeps its state). */
  async start(settings: RunSettings): Promise<void> {
    this.ensureSchema();
    this.ctx.storage.sql.exec(
      `insert or ignore into meta (key, value) values ('settings', ?)`,
      JSON.stringify(settings),
    );
  }

  /** Admits new URLs within budget and depth that were never seen; returns them with their delays. */
  async admit(candidates: Candidate[]): Promise<Admitted[]> {
    const settings = this.setting();
    if (!settings) return [];
    const sql = this.ctx.storage.sql;
    let pages = sql.exec<{ n: number }>(`select count(*) as n from frontier where kind = 'page'`).one().n;
    const admitted: Admitted[] = [];
    for (const candidate of candidates) {
      if (candidate.kind === 'page' && (candidate.depth > settings.maxDepth || pages >= settings.maxPages)) continue;
      const inserted = sql.exec(
        `insert or ignore into frontier (url, depth, kind) values (?, ?, ?)`,
        candidate.url,
        candidate.depth,
        candidate.kind,
      );
      if (inserted.rowsWritten === 0) continue;
      if (candidate.kind === 'page') pages++;
      admitted.push({
        ...candidate,
        delaySeconds: this.reserveSlot(new URL(candidate.url).host, settings.hostDelayMs),
      });
    }
    return admitted;
  }

  /** Reserves the next fetch slot of a host and returns its delay from now, in whole seconds. */
  private reserveSlot(host: string, delayMs: number): number {
    const sql = this.ctx.storage.sql;
    const now = Date.now();
    const row = sql
      .exec<{ next_slot: number; delay_ms: number }>(`select next_slot, delay_ms from hosts where host = ?`, host)
      .toArray()[0];
    const spacing = Math.max(delayMs, row?.delay_ms ?? 0);
    const slot = Math.max(now, row?.next_slot ?? now);
    sql.exec(
      `insert or replace into hosts (host, next_slot, delay_ms) values (?, ?, ?)`,
      host,
      slot + spacing,
      spacing,
    );
    return Math.max(0, Math.ceil((slot - now) / 1000));
  }

  /**
   * Asks to fetch now: returns 0 when the host's spacing allows it (and claims the moment), or
   * the milliseconds to wait. Also reports whether the URL is still owed a fetch.
   */
  async claim(url: string): Promise<{ waitMs: number; pending: boolean }> {
    this.ensureSchema();
    const sql = this.ctx.storage.sql;
    const row = sql.exec<{ state: string }>(`select state from frontier where url = ?`, url).toArray()[0];
    if (!row || (row.state !== 'queued' && row.state !== 'fetching')) return { waitMs: 0, pending: false };
    const host = new URL(url).host;
    const now = Date.now();
    const last = sql.exec<{ value: string }>(`select value from meta where key = ?`, `last:${host}`).toArray()[0];
    const spacing =
      sql.exec<{ delay_ms: number }>(`select delay_ms from hosts where host = ?`, host).toArray()[0]?.delay_ms ?? 1000;
    const earliest = (last ? Number(last.value) : 0) + spacing;
    if (earliest > now) return { waitMs: earliest - now, pending: true };
    sql.exec(`insert or replace into meta (key, value) values (?, ?)`, `last:${host}`, String(now));
    sql.exec(`update frontier set state = 'fetching' where url = ?`, url);
    return { waitMs: 0, pending: true };
  }

  /** Slows a host down (crawl-delay from robots.txt, or a Retry-After it sent). */
  async slowHost(host: string, delayMs: number, pauseUntil?: number): Promise<void> {
    this.ensureSchema();
    const sql = this.ctx.storage.sql;
    const row = sql
      .exec<{ next_slot: number; delay_ms: number }>(`select next_slot, delay_ms from hosts where host = ?`, host)
      .toArray()[0];
    const spacing = Math.max(delayMs, row?.delay_ms ?? 0);
    const next = Math.max(row?.next_slot ?? 0, pauseUntil ?? 0);
    sql.exec(`insert or replace into hosts (host, next_slot, delay_ms) values (?, ?, ?)`, host, next, spacing);
    if (pauseUntil)
      sql.exec(`insert or replace into meta (key, value) values (?, ?)`, `last:${host}`, String(pauseUntil - spacing));
  }

  /** Records a URL as seen (e.g. a page's canonical URL); false when it was already known. */
  async markSeen(url: string, depth: number): Promise<boolean> {
    this.ensureSchema();
    const inserted = this.ctx.storage.sql.exec(
      `insert or ignore into frontier (url, depth, kind, state) values (?, ?, 'page', 'done')`,
      url,
      depth,
    );
    return inserted.rowsWritten > 0;
  }

  /** The robots.txt text cached for a host during this run (undefined when not fetched yet). */
  async robots(host: string): Promise<string | undefined> {
    this.ensureSchema();
    return this.ctx.storage.sql
      .exec<{ value: string }>(`select value from meta where key = ?`, `robots:${host}`)
      .toArray()[0]?.value;
  }

  async cacheRobots(host: string, text: string): Promise<void> {
    this.ensureSchema();
    this.ctx.storage.sql.exec(
      `insert or replace into meta (key, value) values (?, ?)`,
      `robots:${host}`,
      text.slice(0, 512 * 1024),
    );
  }

  /** Records how a URL ended; returns the run's progress and whether nothing is left to do. */
  async complete(
    url: string,
    outcome: UrlOutcome,
    reason?: string,
  ): Promise<{ progress: CrawlProgress; done: boolean; budgetReached: boolean }> {
    this.ensureSchema();
    const state = outcome === 'fetched' ? 'done' : outcome;
    this.ctx.storage.sql.exec(
      `update frontier set state = ?, reason = ? where url = ? and state in ('queued', 'fetching')`,
      state,
      reason ?? null,
      url,
    );
    return this.status();
  }

  async status(): Promise<{ progress: CrawlProgress; done: boolean; budgetReached: boolean }> {
    const settings = this.setting();
    const counts = this.ctx.storage.sql
      .exec<{ discovered: number; fetched: number; failed: number; open: number }>(
        `select
           count(*) filter (where kind = 'page') as discovered,
           count(*) filter (where kind = 'page' and state = 'done') as fetched,
           count(*) filter (where kind = 'page' and state = 'failed') as failed,
           count(*) filter (where state in ('queued', 'fetching')) as open
         from frontier`,
      )
      .one();
    return {
      progress: { discovered: counts.discovered, fetched: counts.fetched, failed: counts.failed },
      done: counts.open === 0,
      budgetReached: settings !== undefined && counts.discovered >= settings.maxPages,
    };
  }
}
