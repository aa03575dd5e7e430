/**
 * The answer cache, in Upstash Redis, for first-turn questions that say nothing personal. The
 * key is project + knowledge version + normalised question: any knowledge change bumps the
 * version (src/ingest/status.ts), so stale answers are never served — they simply stop being
 * found and expire. Cache trouble is never the request's trouble: errors count as misses.
 */
import type { Redis } from '@upstash/redis/cloudflare';
import { log } from '../http/logger';
import type { Citation } from './types';

export interface CachedAnswer {
  content: string;
  citations: Citation[];
  grounding: number;
  model: string;
}

export const DEFAULT_CACHE_TTL_SECONDS = 3600;

/** Lowercase, strip punctuation, collapse spaces: "What's the refund policy?!" ≈ "whats the refund policy". */
export function normalizeQuestion(question: string): string {
  return question
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\p{L}\p{N}\s]/gu, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Questions about the asker (their order, account, contact data) are never cached or shared. */
export function isPersonal(question: string): boolean {
  return (
    /\b(my|mine|me|myself|our|account|password|order|invoice|subscription)\b/i.test(question) ||
    /\S+@\S+\.\S+/.test(question) ||
    /\d{4,}/.test(question)
  );
}

async function hash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(digest)]
    .slice(0, 16)
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
}

export async function cacheKey(
  projectId: string,
  knowledgeVersion: number | string,
  question: string,
): Promise<string> {
  return `parley:answer:${projectId}:${knowledgeVersion}:${await hash(normalizeQuestion(question))}`;
}

export async function readCache(redis: Redis, key: string): Promise<CachedAnswer | undefined> {
  try {
    return (await redis.get<CachedAnswer>(key)) ?? undefined;
  } catch (err) {
    log('warn', 'answer cache unavailable (miss)', { error: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

export async function writeCache(redis: Redis, key: string, answer: CachedAnswer, ttlSeconds: number): Promise<void> {
  if (ttlSeconds <= 0) return;
  try {
    await redis.set(key, answer, { ex: ttlSeconds });
  } catch (err) {
    log('warn', 'answer cache write failed', { error: err instanceof Error ? err.message : String(err) });
  }
}
