/**
 * Applies supabase/migrations/*.sql in order, each in its own transaction, recording applied
 * versions in supabase_migrations.schema_migrations — the same table `supabase db push` uses, so
 * the local database and a hosted Supabase project agree on what has been applied.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import postgres from 'postgres';

const FILE = /^(\d{14})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: string;
  name: string;
  sql: string;
}

export async function readMigrations(dir: string): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(
    files.map(async (file) => {
      const match = FILE.exec(file);
      if (!match) throw new Error(`migration file name must be <14-digit timestamp>_<snake_name>.sql: ${file}`);
      return { version: match[1]!, name: match[2]!, sql: await readFile(join(dir, file), 'utf8') };
    }),
  );
}

/** Returns the versions it applied (empty when the database was already up to date). */
export async function migrate(connection: string, dir: string): Promise<string[]> {
  const sql = postgres(connection, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`
      create schema if not exists supabase_migrations;
      create table if not exists supabase_migrations.schema_migrations (
        version text primary key, statements text[], name text
      );`);
    const done = new Set(
      (await sql<{ version: string }[]>`select version from supabase_migrations.schema_migrations`).map(
        (r) => r.version,
      ),
    );
    const applied: string[] = [];
    for (const m of await readMigrations(dir)) {
      if (done.has(m.version)) continue;
      await sql.begin(async (tx) => {
        await tx.unsafe(m.sql);
        await tx`insert into supabase_migrations.schema_migrations (version, name, statements)
                 values (${m.version}, ${m.name}, ${[m.sql]})`;
      });
      applied.push(`${m.version}_${m.name}`);
    }
    return applied;
  } finally {
    await sql.end({ timeout: 1 });
  }
}
