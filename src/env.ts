/** The one type of the Hono app: the Worker's generated bindings plus per-request variables. */
import type { Sql } from 'postgres';
import type { Principal, ProjectContext } from './auth/principal';
import type { Config } from './config';

export interface AppVariables {
  requestId: string;
  /** Set once the project a request concerns is known; appears in the request log line. */
  projectId?: string;
  /** Parsed configuration; only present on routes behind `requireConfig`. */
  config: Config;
  /** Lazily opened Postgres client for this request (closed after the response). */
  sql: () => Sql;
  /**
   * The same client, which the caller now owns and must close: for a streamed response that
   * outlives the handler. Reusing it spares a second connection setup per request.
   */
  takeSql: () => Sql;
  /** The authenticated caller; set by `access()`. */
  principal: Principal;
  /** The project the request is scoped to, when there is one; set by `access()`. */
  project?: ProjectContext;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
