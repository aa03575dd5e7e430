/** Per-project daily usage: turns and tokens, and the daily token budget check. */
import type { Sql } from 'postgres';
import { AppError } from '../errors';
import type { Usage } from './types';

export async function assertWithinBudget(sql: Sql, projectId: string, budget: number | undefined): Promise<void> {
  if (!budget) return;
  const [row] = await sql<{ used: string }[]>`
    select coalesce(prompt_tokens + completion_tokens, 0)::text as used from usage_daily
    where project_id = ${projectId} and day = (now() at time zone 'utc')::date`;
  if (Number(row?.used ?? 0) >= budget) {
    throw new AppError('budget_exceeded', "This project's daily token budget is spent; it resets at 00:00 UTC", {
      headers: { 'Retry-After': String(secondsUntilUtcMidnight()) },
    });
  }
}

export async function recordUsage(
  sql: Sql,
  projectId: string,
  usage: Usage | undefined,
  cached: boolean,
): Promise<void> {
  await sql`
    insert into usage_daily (project_id, day, turns, prompt_tokens, completion_tokens, cached_turns)
    values (${projectId}, (now() at time zone 'utc')::date, 1, ${usage?.prompt_tokens ?? 0}, ${usage?.completion_tokens ?? 0}, ${cached ? 1 : 0})
    on conflict (project_id, day) do update set
      turns = usage_daily.turns + 1,
      prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens,
      completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens,
      cached_turns = usage_daily.cached_turns + excluded.cached_turns`;
}

function secondsUntilUtcMidnight(): number {
  const now = new Date();
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.ceil((midnight - now.getTime()) / 1000);
}
