/** Recording queue job failures in Postgres (table job_failures), idempotently per job. */
import type { Sql } from 'postgres';
import type { JobKind } from './messages';

export interface JobFailure {
  kind: JobKind;
  jobId: string;
  projectId?: string;
  body: unknown;
  attempts: number;
  error: string;
}

/** Upserts the failure; a redelivered message updates the same row instead of adding one. */
export async function recordFailure(sql: Sql, f: JobFailure): Promise<void> {
  await sql`
    insert into job_failures (kind, job_id, project_id, body, attempts, last_error)
    values (${f.kind}, ${f.jobId}, ${f.projectId ?? null}, ${sql.json(toJson(f.body))}, ${f.attempts}, ${f.error.slice(0, 2000)})
    on conflict (kind, job_id) do update
      set attempts = greatest(job_failures.attempts, excluded.attempts),
          last_error = excluded.last_error,
          last_failed_at = now(),
          recovered_at = null`;
}

/** A retried job succeeded: its failure row (if any) now says so. */
export async function recordRecovery(sql: Sql, kind: JobKind, jobId: string): Promise<void> {
  await sql`update job_failures set recovered_at = now() where kind = ${kind} and job_id = ${jobId} and recovered_at is null`;
}

/** Marks a job dead-lettered; keeps (and returns) the last error recorded by the main consumer. */
export async function recordDeadLetter(sql: Sql, f: JobFailure): Promise<string> {
  const [row] = await sql<{ last_error: string }[]>`
    insert into job_failures (kind, job_id, project_id, body, attempts, last_error, dead_lettered_at)
    values (${f.kind}, ${f.jobId}, ${f.projectId ?? null}, ${sql.json(toJson(f.body))}, ${f.attempts}, ${f.error.slice(0, 2000)}, now())
    on conflict (kind, job_id) do update
      set dead_lettered_at = coalesce(job_failures.dead_lettered_at, now())
    returning last_error`;
  return row?.last_error ?? f.error;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Message bodies are structured-cloned values; keep what JSON can hold. */
function toJson(value: unknown): Json {
  try {
    return JSON.parse(JSON.stringify(value ?? null)) as Json;
  } catch {
    return String(value);
  }
}
