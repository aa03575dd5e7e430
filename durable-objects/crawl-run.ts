/**
 * CrawlRun: one Durable Object per crawl run (source × sync generation). It owns the frontier —
 * URL dedupe (callers pass normalised URLs), depth and page budget, per-host politeness slots —
 * and the run's progress counters. Queue consumers do the fetching and ask it what to do next;
 * a Durable Object handles one call at a time, so its decisions never race. It also remembers
 * when the run last moved, so a run whose queue messages were lost can be recovered (`recover`).
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

export interface RunStatus {
  progress: CrawlProgress;
  done: boolean;
  budgetReached: boolean;
}

/** What `recover` found and did. */
export type Recovery =
  /** `start` never ran for this run: the caller starts it from scratch. */
  | { state: 'not_started' }
  /** Still moving, or waiting for a host's slot: nothing to do. */
  | { state: 'busy' }
  /** Nothing is open: the run is over (its finish may not have landed). */
  | { state: 'idle'; status: RunStatus }
  /** Stalled: its open URLs were re-queued with fresh slots; the caller sends them again. */
  | { state: 'redispatched'; admitted: Admitted[] }
  /** Stalled too often: its open URLs were marked failed; the caller finishes the run. */
  | { state: 'abandoned'; abandoned: Candidate[]; status: RunStatus };

export interface RecoverOptions {
  /** A run that has not moved (and has no host slot ahead) for this long is stalled. */
  stallMs: number;
  /** Re-dispatches without progress in between before the open URLs are given up. */
  maxRecoveries: number;
  /** Reason recorded on URLs given up. */
  reason: string;
}

export class CrawlRun extends DurableObject<Env> {
  private ensureSchema(): void {
    this.ctx.storage.sql.exec(`
      create table if not exists frontier (
        url text primary key, depth integer not null, kind text not null,
        state text not null default 'queued', reason text
      );
      create table if not exists hosts (host text primary key, next_slot integer not null, delay_ms integer not null);
      create table if not exists meta (key text primary key, value text not null);
      create table if not exists rate_limited (url text primary key, times integer not null);`);
  }

  private setMeta(key: string, value: string): void {
    this.ctx.storage.sql.exec(`insert or replace into meta (key, value) values (?, ?)`, key, value);
  }

  private meta(key: string): string | undefined {
    return this.ctx.storage.sql.exec<{ value: string }>(`select value from meta where key = ?`, key).toArray()[0]
      ?.value;
  }

  /** The run moved (a URL admitted, claimed or settled): recovery leaves it alone. */
  private touch(): void {
    this.setMeta('activity', String(Date.now()));
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
    this.touch();
  }

  /** Admits new URLs within budget and depth that were never seen; returns them with their delays. */
  async admit(candidates: Candidate[]): Promise<Admitted[]> {
    const settings = this.setting();
    if (!settings) return [];
    const admitted = this.insertNew(settings, candidates, 'queued').map((candidate) => ({
      ...candidate,
      delaySeconds: this.reserveSlot(new URL(candidate.url).host, settings.hostDelayMs),
    }));
    if (admitted.length > 0) this.touch();
    return admitted;
  }

  /**
   * Records URLs that will not be fetched (robots.txt disallows them) as skipped with `reason`,
   * under the same dedupe, depth and page budget as `admit` but without a fetch slot: they count
   * as discovered pages, so however many a site links to, a run records at most max_pages of them.
   * Returns the candidates that are skipped in this run — also those an earlier call recorded, so
   * a redelivered page records them again (the caller's write is idempotent) rather than losing them.
   */
  async skip(candidates: Candidate[], reason: string): Promise<Candidate[]> {
    const settings = this.setting();
    if (!settings) return [];
    if (this.insertNew(settings, candidates, 'skipped', reason).length > 0) this.touch();
    const sql = this.ctx.storage.sql;
    const skipped = new Map<string, Candidate>();
    for (const candidate of candidates) {
      const row = sql
        .exec<{ reason: string | null }>(
          `select reason from frontier where url = ? and state = 'skipped'`,
          candidate.url,
        )
        .toArray()[0];
      if (row?.reason === reason) skipped.set(candidate.url, candidate);
    }
    return [...skipped.values()];
  }

  /** Inserts the candidates never seen before that fit the depth and page budget; returns them. */
  private insertNew(
    settings: RunSettings,
    candidates: Candidate[],
    state: 'queued' | 'skipped',
    reason?: string,
  ): Candidate[] {
    const sql = this.ctx.storage.sql;
    let pages = sql.exec<{ n: number }>(`select count(*) as n from frontier where kind = 'page'`).one().n;
    const inserted: Candidate[] = [];
    for (const candidate of candidates) {
      if (candidate.kind === 'page' && (candidate.depth > settings.maxDepth || pages >= settings.maxPages)) continue;
      const written = sql.exec(
        `insert or ignore into frontier (url, depth, kind, state, reason) values (?, ?, ?, ?, ?)`,
        candidate.url,
        candidate.depth,
        candidate.kind,
        state,
        reason ?? null,
      );
      if (written.rowsWritten === 0) continue;
      if (candidate.kind === 'page') pages++;
      inserted.push(candidate);
    }
    return inserted;
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
    const last = this.meta(`last:${host}`);
    const spacing =
      sql.exec<{ delay_ms: number }>(`select delay_ms from hosts where host = ?`, host).toArray()[0]?.delay_ms ?? 1000;
    const earliest = Number(last ?? 0) + spacing;
    if (earliest > now) return { waitMs: earliest - now, pending: true };
    this.setMeta(`last:${host}`, String(now));
    sql.exec(`update frontier set state = 'fetching' where url = ?`, url);
    this.touch();
    return { waitMs: 0, pending: true };
  }

  /**
   * Counts a 429/503 answer for a URL and returns how many it has had in this run. The count
   * lives here, not in the queue's delivery attempts: a rate-limited page waits by being sent
   * again, which must not use up the retry budget meant for real failures.
   */
  async rateLimited(url: string): Promise<number> {
    this.ensureSchema();
    return this.ctx.storage.sql
      .exec<{ times: number }>(
        `insert into rate_limited (url, times) values (?, 1)
         on conflict (url) do update set times = times + 1 returning times`,
        url,
      )
      .one().times;
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
    if (pauseUntil) this.setMeta(`last:${host}`, String(pauseUntil - spacing));
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
    return this.meta(`robots:${host}`);
  }

  async cacheRobots(host: string, text: string): Promise<void> {
    this.ensureSchema();
    this.setMeta(`robots:${host}`, text.slice(0, 512 * 1024));
  }

  /** Records how a URL ended; returns the run's progress and whether nothing is left to do. */
  async complete(url: string, outcome: UrlOutcome, reason?: string): Promise<RunStatus> {
    this.ensureSchema();
    const state = outcome === 'fetched' ? 'done' : outcome;
    this.ctx.storage.sql.exec(
      `update frontier set state = ?, reason = ? where url = ? and state in ('queued', 'fetching')`,
      state,
      reason ?? null,
      url,
    );
    this.touch();
    this.ctx.storage.sql.exec(`delete from meta where key = 'recoveries'`);
    return this.status();
  }

  /**
   * Called when a run may be stuck (its page messages lost, a consumer gone mid-page). A run
   * that moved within `stallMs`, or whose hosts have slots reserved ahead of now (a long
   * crawl-delay, a Retry-After), is busy. Otherwise its open URLs are re-queued with fresh
   * slots — up to `maxRecoveries` times in a row without progress — and then given up as failed,
   * so the run always ends.
   */
  async recover(opts: RecoverOptions): Promise<Recovery> {
    const settings = this.setting();
    if (!settings) return { state: 'not_started' };
    const sql = this.ctx.storage.sql;
    const open = sql
      .exec<{ url: string; depth: number; kind: string }>(
        `select url, depth, kind from frontier where state in ('queued', 'fetching') order by rowid`,
      )
      .toArray()
      .map((r): Candidate => ({ url: r.url, depth: r.depth, kind: r.kind === 'sitemap' ? 'sitemap' : 'page' }));
    if (open.length === 0) return { state: 'idle', status: await this.status() };
    const latestSlot = sql.exec<{ at: number | null }>(`select max(next_slot) as at from hosts`).one().at ?? 0;
    const movedAt = Math.max(Number(this.meta('activity') ?? 0), latestSlot);
    if (Date.now() - movedAt < opts.stallMs) return { state: 'busy' };

    const recoveries = Number(this.meta('recoveries') ?? 0);
    if (recoveries >= opts.maxRecoveries) {
      sql.exec(`update frontier set state = 'failed', reason = ? where state in ('queued', 'fetching')`, opts.reason);
      this.touch();
      return { state: 'abandoned', abandoned: open, status: await this.status() };
    }
    this.setMeta('recoveries', String(recoveries + 1));
    sql.exec(`update frontier set state = 'queued' where state = 'fetching'`);
    this.touch();
    return {
      state: 'redispatched',
      admitted: open.map((c) => ({
        ...c,
        delaySeconds: this.reserveSlot(new URL(c.url).host, settings.hostDelayMs),
      })),
    };
  }

  async status(): Promise<RunStatus> {
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
