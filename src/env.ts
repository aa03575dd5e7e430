/** The one type of the Hono app: the Worker's generated bindings plus per-request variables. */
import type { Sql } from 'postgres';
import type { Toucan } from 'toucan-js';
import type { Config } from './config';

export interface AppVariables {
  requestId: string;
  /** Set once the project a request concerns is known; appears in the request log line. */
  projectId?: string;
  /** Parsed configuration; only present on routes behind `requireConfig`. */
  config: Config;
  /** Lazily opened Postgres client for this request (closed after the response). */
  sql: () => Sql;
  sentry?: Toucan;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
