/**
 * Cursor pagination for lists: `{data:[…], next_cursor}`. A cursor is the opaque base64url of
 * the last row's (created_at, id); lists are ordered newest first with id as tie-breaker.
 */
import { z } from 'zod';
import { AppError } from './errors';

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(row: { created_at: Date; id: string }): string {
  return btoa(JSON.stringify([row.created_at.toISOString(), row.id]))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (cursor === undefined) return undefined;
  try {
    const [createdAt, id] = JSON.parse(atob(cursor.replace(/-/g, '+').replace(/_/g, '/'))) as unknown[];
    const parsed = z.tuple([z.iso.datetime(), z.uuid()]).parse([createdAt, id]);
    return { createdAt: new Date(parsed[0]), id: parsed[1] };
  } catch {
    throw new AppError('validation_failed', 'Invalid query', {
      details: [{ path: 'cursor', message: 'not a cursor from this list' }],
    });
  }
}

/** Takes `limit + 1` rows and splits them into the page and the next cursor. */
export function page<T extends { created_at: Date; id: string }>(
  rows: T[],
  limit: number,
): { data: T[]; next_cursor: string | null } {
  return pageBy(rows, limit, (row) => row);
}

/** `page` for rows whose unique tie-breaker is another column than `id` (a member's user_id). */
export function pageBy<T>(
  rows: T[],
  limit: number,
  key: (row: T) => { created_at: Date; id: string },
): { data: T[]; next_cursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, next_cursor: rows.length > limit && last ? encodeCursor(key(last)) : null };
}

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() });
