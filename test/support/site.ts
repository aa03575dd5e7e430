/**
 * Private copies of the loopback test website (test/fakes/site.ts) for crawl tests: each test
 * that counts requests or changes the site forks its own, so tests never share site state.
 */
import { inject } from 'vitest';

export interface SiteRequest {
  path: string;
  host: string;
  at: number;
}

/** Starts a fresh copy of the site (own port, own state) and returns its origin. */
export async function forkSite(opts: { crawlDelay?: number; docs?: number } = {}): Promise<string> {
  const url = new URL('/__fork', inject('siteOrigin'));
  if (opts.crawlDelay !== undefined) url.searchParams.set('crawl_delay', String(opts.crawlDelay));
  if (opts.docs !== undefined) url.searchParams.set('docs', String(opts.docs));
  const res = await fetch(url, { method: 'POST' });
  if (res.status !== 201) throw new Error(`site fork failed: ${res.status}`);
  return (await res.json<{ origin: string }>()).origin;
}

/** How often each path of the site was requested. */
export async function siteHits(origin: string): Promise<Record<string, number>> {
  return (await fetch(`${origin}/__hits`)).json<Record<string, number>>();
}

/** Every request the site received, in order. */
export async function siteLog(origin: string): Promise<SiteRequest[]> {
  return (await fetch(`${origin}/__log`)).json<SiteRequest[]>();
}
