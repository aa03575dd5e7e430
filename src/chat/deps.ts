/** What a chat turn needs, built from configuration per request. */
import type { Sql } from 'postgres';
import { embedderFor, localEmbedder } from '../ai/embeddings';
import type { Config } from '../config';
import { createRedis } from '../redis';
import { providerFor } from './resilient';
import type { TurnDeps } from './turn';

export function chatDeps(config: Config, sql: Sql): TurnDeps {
  const local = localEmbedder();
  // A user waits on the query embedding: a short timeout, one retry, then the fallback.
  const remote = config.OPENAI_API_KEY ? embedderFor(config, { timeoutMs: 3000, maxRetries: 1 }) : undefined;
  return {
    sql,
    redis: createRedis(config, { timeoutMs: 500 }),
    provider: providerFor(config, { timeoutMs: config.OPENAI_TIMEOUT_MS }),
    providerIsModel: Boolean(config.OPENAI_API_KEY),
    embedders: (model) => (model === local.model ? local : remote && remote.model === model ? remote : undefined),
  };
}
