/**
 * The embedding step of ingestion: the configured OpenAI-compatible provider when a key is set,
 * falling back to the deterministic local embedder when the provider is down; the local
 * embedder alone without a key. Each result names the model that produced it and chunks store
 * it, so vectors of different models are never compared (src/ai/embeddings.ts).
 */
import { embedderFor, embedWithModel } from '../ai/embeddings';
import type { Config } from '../config';
import { log } from '../http/logger';
import type { EmbedTexts } from './pipeline';

export function ingestionEmbedder(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL'>): {
  embed: EmbedTexts;
  preferredModel: string;
} {
  const embedder = embedderFor(config, {
    onFallback: (event) =>
      log('warn', 'embedding provider failed; used the local embedder', {
        primary: event.primaryModel,
        fallback: event.fallbackModel,
        texts: event.count,
        error: event.error instanceof Error ? event.error.message : String(event.error),
      }),
  });
  return { preferredModel: embedder.model, embed: (texts) => embedWithModel(embedder, texts) };
}
