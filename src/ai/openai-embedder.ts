/**
 * Embeddings from OpenAI (or any server speaking its API) through the official `openai` SDK.
 * One `embed` call splits its inputs into requests within OpenAI's per-request limits, runs at
 * most 4 at a time and returns the vectors in input order. The SDK retries 408/409/429/5xx and
 * connection failures itself (exponential backoff, honouring `retry-after`/`retry-after-ms`);
 * a call either returns every vector or rejects — it never returns a partial result.
 */
import OpenAI from 'openai';
import { EMBEDDING_DIMENSIONS, type EmbedOptions, type Embedder } from './embedder';

/** OpenAI's limits for one `POST /v1/embeddings`. */
export const OPENAI_MAX_INPUTS_PER_REQUEST = 2048;
export const OPENAI_MAX_TOKENS_PER_REQUEST = 300_000;
/** Workers allow 6 simultaneous outgoing connections per request; leave room for the rest. */
const MAX_CONCURRENCY = 4;

export interface OpenAIEmbedderOptions {
  apiKey: string;
  /** Defaults to the SDK's `https://api.openai.com/v1`. */
  baseURL?: string;
  /** Default `text-embedding-3-small`. */
  model?: string;
  /**
   * Default 512 (`EMBEDDING_DIMENSIONS`). Sent as `dimensions` to text-embedding-3-* models;
   * other models must natively return vectors of this size, or every call rejects.
   */
  dimensions?: number;
  /** Time limit of each request attempt, in ms. Default 10 000. */
  timeoutMs?: number;
  /** Retries per request after the first attempt. Default 2. */
  maxRetries?: number;
  /** Inputs per request. Default 256 (smaller requests finish and retry sooner); at most 2048. */
  maxBatchSize?: number;
  /** Estimated tokens per request (see `estimateTokens`). Default and at most 300 000. */
  maxBatchTokens?: number;
  /** Requests in flight per `embed` call. Default and at most 4. */
  concurrency?: number;
}

/**
 * A deliberately high token estimate: OpenAI's tokenizer averages ~4 characters per token in
 * English, so ASCII counts as 3 per token; other characters (CJK, emoji) count one token each.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) < 0x80) ascii++;
  return Math.ceil(ascii / 3) + (text.length - ascii);
}

/** Consecutive `[start, end)` ranges of `texts`, each within both limits (a lone oversized text gets its own). */
export function planBatches(texts: string[], maxInputs: number, maxTokens: number): Array<[number, number]> {
  const batches: Array<[number, number]> = [];
  let start = 0;
  let tokens = 0;
  for (let i = 0; i < texts.length; i++) {
    const t = estimateTokens(texts[i] ?? '');
    if (i > start && (i - start >= maxInputs || tokens + t > maxTokens)) {
      batches.push([start, i]);
      start = i;
      tokens = 0;
    }
    tokens += t;
  }
  if (texts.length > start) batches.push([start, texts.length]);
  return batches;
}

export function openaiEmbedder(options: OpenAIEmbedderOptions): Embedder {
  const model = options.model ?? 'text-embedding-3-small';
  const dimensions = options.dimensions ?? EMBEDDING_DIMENSIONS;
  const maxInputs = clamp(options.maxBatchSize ?? 256, 1, OPENAI_MAX_INPUTS_PER_REQUEST);
  const maxTokens = clamp(options.maxBatchTokens ?? OPENAI_MAX_TOKENS_PER_REQUEST, 1, OPENAI_MAX_TOKENS_PER_REQUEST);
  const concurrency = clamp(options.concurrency ?? MAX_CONCURRENCY, 1, MAX_CONCURRENCY);
  const sendDimensions = model.startsWith('text-embedding-3');
  const client = new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    timeout: options.timeoutMs ?? 10_000,
    maxRetries: options.maxRetries ?? 2,
  });

  async function embedBatch(input: string[], signal: AbortSignal): Promise<number[][]> {
    // No encoding_format: the SDK then asks for base64 (a third of the bytes) and decodes it.
    const res = await client.embeddings.create({ model, input, ...(sendDimensions ? { dimensions } : {}) }, { signal });
    const vectors = new Array<number[] | undefined>(input.length);
    for (const item of res.data) {
      if (!Number.isInteger(item.index) || item.index < 0 || item.index >= input.length) {
        throw new Error(`OpenAI embeddings: response index ${item.index} outside the ${input.length} inputs`);
      }
      if (item.embedding.length !== dimensions) {
        throw new Error(
          `OpenAI embeddings: ${model} returned ${item.embedding.length} dimensions, expected ${dimensions}`,
        );
      }
      vectors[item.index] = item.embedding;
    }
    return vectors.map((v, i) => {
      if (!v) throw new Error(`OpenAI embeddings: no vector for input ${i} of ${input.length}`);
      return v;
    });
  }

  return {
    model,
    dimensions,
    async embed(texts: string[], opts: EmbedOptions = {}): Promise<number[][]> {
      if (texts.length === 0) return [];
      const batches = planBatches(texts, maxInputs, maxTokens);
      // The first failure cancels the batches still in flight: the call fails as a whole.
      const cancel = new AbortController();
      const signal = opts.signal ? AbortSignal.any([opts.signal, cancel.signal]) : cancel.signal;
      const results = new Array<number[][]>(batches.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < batches.length) {
          const i = next++;
          const [start, end] = batches[i]!;
          results[i] = await embedBatch(texts.slice(start, end), signal);
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
      } catch (err) {
        cancel.abort(err);
        throw err;
      }
      return results.flat();
    },
  };
}

function clamp(n: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(n)));
}
