/**
 * The embedding contract shared by every embedder (local, OpenAI, fallback). Import from
 * `./embeddings`, which re-exports this file with the embedders themselves.
 */

/** Width of the `vector(512)` columns: every embedder Parley stores from must produce this. */
export const EMBEDDING_DIMENSIONS = 512;

export interface EmbedOptions {
  /** Cancels in-flight provider requests; the embed call then rejects with the abort reason. */
  signal?: AbortSignal;
}

/** Vectors plus the model that actually produced them (a fallback may answer for the primary). */
export interface EmbedResult {
  vectors: number[][];
  model: string;
}

export interface Embedder {
  /** Model id stored beside each vector; vectors of different models are never compared. */
  readonly model: string;
  readonly dimensions: number;
  /** One vector per text, in input order, each `dimensions` long. */
  embed(texts: string[], opts?: EmbedOptions): Promise<number[][]>;
  /**
   * Implemented by embedders whose answering model can differ per call (`fallbackEmbedder`).
   * Callers use the `embedWithModel()` helper rather than calling this directly.
   */
  embedWithModel?(texts: string[], opts?: EmbedOptions): Promise<EmbedResult>;
}

/** Embeds and says which model produced the vectors: store that id with each vector. */
export async function embedWithModel(embedder: Embedder, texts: string[], opts?: EmbedOptions): Promise<EmbedResult> {
  if (embedder.embedWithModel) return embedder.embedWithModel(texts, opts);
  return { vectors: await embedder.embed(texts, opts), model: embedder.model };
}
