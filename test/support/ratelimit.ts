/** Helpers for rate-limit tests: the sliding window's clock, the 429's headers, Upstash's cost. */
import { expect, inject } from 'vitest';
import { auth } from './tenants';

/**
 * The sliding window also counts the previous clock minute's requests, weighted by how much of
 * that minute the window still overlaps, so a burst straddling a minute boundary is judged on a
 * discounted count and its exact numbers shift. Exact assertions keep a burst in one clock
 * minute: when fewer than `seconds` are left, wait for the next minute to begin.
 */
export async function withinOneMinute(seconds: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < seconds * 1000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

export function expectRetryAfter(res: Response, windowSeconds: number): number {
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(windowSeconds);
  // Retry-After and X-RateLimit-Reset name the same moment.
  const reset = Number(res.headers.get('x-ratelimit-reset'));
  expect(Math.abs(Date.now() / 1000 + retryAfter - reset)).toBeLessThanOrEqual(1);
  return retryAfter;
}

export interface Stats {
  requests: number;
  commands: number;
}

async function upstashStats(): Promise<Stats> {
  const res = await fetch(inject('upstashStatsUrl'), { headers: auth(inject('upstashToken')) });
  return res.json<Stats>();
}

/**
 * The Upstash HTTP requests (and Redis commands) one request costs, from the REST endpoint's
 * own counter. Other test files run in parallel against the same endpoint; they can only add to
 * the count, never subtract, so the smallest delta over a few single-request measurements is
 * the request's own cost.
 */
export async function upstashCost(send: () => Promise<Response>, expectedStatus: number, tries = 5): Promise<Stats> {
  let best: Stats | undefined;
  for (let i = 0; i < tries; i++) {
    const before = await upstashStats();
    const res = await send();
    expect(res.status).toBe(expectedStatus);
    await res.arrayBuffer();
    const after = await upstashStats();
    const delta = { requests: after.requests - before.requests, commands: after.commands - before.commands };
    if (!best || delta.requests < best.requests) best = delta;
  }
  return best!;
}
