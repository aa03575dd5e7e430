/**
 * Postgres through Hyperdrive with postgres.js, Cloudflare's documented driver for Supabase.
 * A client is opened per request (Hyperdrive pools the real connections) and closed after it.
 */
import postgres, { type Sql } from 'postgres';

export interface SqlOptions {
  /** Seconds to wait for a connection before failing. */
  connectTimeout?: number;
}

export function createSql(connectionString: string, opts: SqlOptions = {}): Sql {
  return postgres(connectionString, {
    // Workers allow 6 simultaneous outgoing connections per request; leave room for fetches.
    max: 4,
    // Skips a round trip on connect; Parley uses no custom array types.
    fetch_types: false,
    connect_timeout: opts.connectTimeout ?? 5,
    onnotice: () => {},
  });
}
