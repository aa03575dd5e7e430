/**
 * Text embeddings for retrieval. `embedderFor(config)` picks the embedder: OpenAI with the local
 * embedder as fallback when a key is configured, otherwise the local embedder alone — so Parley
 * indexes and retrieves with or without a provider, through the same code paths.
 *
 * Contract for callers that store vectors: store, with every vector, the model that produced it
 * (use `embedWithModel()`, which reports the fallback's model when the fallback answered), and
 * compare a query only with vectors of the same model. Vectors of different models share a
 * width but not a space; a cosine distance between them means nothing.
 */
import { embedWithModel, type EmbedOptions, type EmbedResult, type Embedder } from './embedder';
import { localEmbedder } from './local-embedder';
import { openaiEmbedder } from './openai-embedder';

export { EMBEDDING_DIMENSIONS, embedWithModel, type EmbedOptions, type EmbedResult, type Embedder } from './embedder';
export { LOCAL_EMBEDDING_MODEL, embedLocal, localEmbedder } from './local-embedder';
export { estimateTokens, openaiEmbedder, planBatches, type OpenAIEmbedderOptions } from './openai-embedder';

/** Reported each time the fallback answered for the primary. */
export interface FallbackEvent {
  /** Why the primary failed (after its own retries). */
  error: unknown;
  primaryModel: string;
  fallbackModel: string;
  /** How many texts the fallback embedded. */
  count: number;
}

/**
 * Embeds with `primary`; when it fails (after its own retries: the provider is down, rate
 * limiting, timing out or rejecting the key), embeds the same texts with `fallback` and calls
 * `onFallback`. Fail-open by design: answering with lexical vectors beats not answering. A
 * call's vectors always come from one model; `embedWithModel()` says which. An abort through
 * the caller's `signal` is not a provider failure and is rethrown.
 */
export function fallbackEmbedder(
  primary: Embedder,
  fallback: Embedder,
  onFallback?: (event: FallbackEvent) => void,
): Embedder {
  if (primary.dimensions !== fallback.dimensions) {
    throw new Error(`fallbackEmbedder: ${primary.dimensions} vs ${fallback.dimensions} dimensions`);
  }
  const withModel = async (texts: string[], opts?: EmbedOptions): Promise<EmbedResult> => {
    try {
      return await embedWithModel(primary, texts, opts);
    } catch (error) {
      if (opts?.signal?.aborted) throw error;
      try {
        onFallback?.({ error, primaryModel: primary.model, fallbackModel: fallback.model, count: texts.length });
      } catch {
        // A failing reporter must not turn a recovered call into a failed one.
      }
      return embedWithModel(fallback, texts, opts);
    }
  };
  return {
    model: primary.model,
    dimensions: primary.dimensions,
    embedWithModel: withModel,
    embed: async (texts, opts) => (await withModel(texts, opts)).vectors,
  };
}

export interface EmbeddingConfig {
  /** Blank counts as unset. */
  OPENAI_API_KEY?: string;
  OPENAI_BASE_URL?: string;
  /** Default `text-embedding-3-small`. */
  OPENAI_EMBEDDING_MODEL?: string;
}

export interface EmbedderForOptions {
  /** Per request attempt to OpenAI; default 10 000 ms. Lower it where a user waits (queries). */
  timeoutMs?: number;
  /** Default 2. */
  maxRetries?: number;
  /** Called when the local embedder answered for OpenAI; log it. */
  onFallback?: (event: FallbackEvent) => void;
}

/** OpenAI (falling back to the local embedder) when a key is set, otherwise the local embedder. */
export function embedderFor(config: EmbeddingConfig, options: EmbedderForOptions = {}): Embedder {
  const apiKey = config.OPENAI_API_KEY?.trim();
  if (!apiKey) return localEmbedder();
  const openai = openaiEmbedder({
    apiKey,
    baseURL: config.OPENAI_BASE_URL?.trim() || undefined,
    model: config.OPENAI_EMBEDDING_MODEL?.trim() || undefined,
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
  });
  return fallbackEmbedder(openai, localEmbedder(), options.onFallback);
}
