/**
 * `POST /v1/embeddings` of the fake OpenAI server: validated like OpenAI (inputs, limits,
 * `dimensions`, `encoding_format`), answered with deterministic vectors in OpenAI's exact shape.
 * Vectors are hashed word features (4 signed positions per word, seeded by the model), so texts
 * sharing words are near each other and every model has its own space. A `dimensions` request
 * gets a vector of that length computed directly — not the real models' renormalised prefix.
 */
import { countTokens, invalid, modelNotFound, words, type ApiFailure } from './openai-wire.ts';

/** Native widths; only text-embedding-3-* accept `dimensions` (up to their native width). */
const MODELS: Record<string, { native: number; shortens: boolean }> = {
  'text-embedding-3-small': { native: 1536, shortens: true },
  'text-embedding-3-large': { native: 3072, shortens: true },
  'text-embedding-ada-002': { native: 1536, shortens: false },
};
export const EMBEDDING_MODELS = Object.keys(MODELS);

const MAX_INPUTS = 2048;
const MAX_TOKENS_PER_INPUT = 8192;
const MAX_TOKENS_PER_REQUEST = 300_000;

type Outcome = { ok: true; body: unknown } | { ok: false; failure: ApiFailure };

export function createEmbeddings(body: Record<string, unknown>): Outcome {
  const fail = (failure: ApiFailure): Outcome => ({ ok: false, failure });
  const { model, input, dimensions, encoding_format: format = 'float' } = body;
  if (typeof model !== 'string' || model === '') return fail(invalid('you must provide a model parameter'));
  const spec = MODELS[model];
  if (!spec) return fail(modelNotFound(model));
  if (input === undefined) return fail(invalid("'input' is a required property", 'input'));

  const texts = inputTexts(input);
  if (!texts) {
    return fail(
      invalid(
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        'input',
      ),
    );
  }
  if (texts.length > MAX_INPUTS) {
    return fail(
      invalid(
        `Invalid 'input': maximum array length is ${MAX_INPUTS}, got ${texts.length}.`,
        'input',
        'array_above_max_length',
      ),
    );
  }
  if (format !== 'float' && format !== 'base64') {
    return fail(
      invalid(
        `Invalid value for 'encoding_format': ${JSON.stringify(format)}. Supported values are: 'float' and 'base64'.`,
        'encoding_format',
        'invalid_value',
      ),
    );
  }
  let width = spec.native;
  if (dimensions !== undefined && dimensions !== null) {
    if (!spec.shortens) return fail(invalid('This model does not support specifying dimensions.', 'dimensions'));
    if (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > spec.native) {
      return fail(
        invalid(
          `Invalid value for 'dimensions': must be an integer between 1 and ${spec.native}.`,
          'dimensions',
          'invalid_value',
        ),
      );
    }
    width = dimensions;
  }
  let total = 0;
  for (const t of texts) {
    const tokens = t.tokens;
    if (tokens > MAX_TOKENS_PER_INPUT) {
      return fail(
        invalid(
          `This model's maximum context length is ${MAX_TOKENS_PER_INPUT} tokens, however you requested ${tokens} tokens (${tokens} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
        ),
      );
    }
    total += tokens;
  }
  if (total > MAX_TOKENS_PER_REQUEST) {
    return fail(
      invalid(
        `Requested ${total} tokens, max ${MAX_TOKENS_PER_REQUEST} tokens per request`,
        'input',
        'max_tokens_per_request',
      ),
    );
  }

  const data = texts.map((t, index) => {
    const vector = fakeVector(t.text, model, width);
    return { object: 'embedding', index, embedding: format === 'base64' ? toBase64(vector) : Array.from(vector) };
  });
  return { ok: true, body: { object: 'list', data, model, usage: { prompt_tokens: total, total_tokens: total } } };
}

/** OpenAI accepts a string, an array of strings, an array of token ids or an array of those. */
function inputTexts(input: unknown): Array<{ text: string; tokens: number }> | null {
  const isTokens = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length > 0 && v.every((n) => Number.isInteger(n) && n >= 0);
  const one = (v: unknown): { text: string; tokens: number } | null => {
    if (typeof v === 'string') return v === '' ? null : { text: v, tokens: countTokens(v) };
    if (isTokens(v)) return { text: v.join(' '), tokens: v.length };
    return null;
  };
  if (typeof input === 'string' || isTokens(input)) {
    const single = one(input);
    return single ? [single] : null;
  }
  if (!Array.isArray(input) || input.length === 0) return null;
  const texts = input.map(one);
  return texts.every((t) => t !== null) ? (texts as Array<{ text: string; tokens: number }>) : null;
}

/** Sum of signed word features, sublinear in term frequency, L2-normalised. */
export function fakeVector(text: string, model: string, width: number): Float32Array {
  const counts = new Map<string, number>();
  for (const w of words(text)) counts.set(w, (counts.get(w) ?? 0) + 1);
  if (counts.size === 0) counts.set(`\u0000${text}`, 1);
  const v = new Float64Array(width);
  for (const [word, count] of counts) {
    let h = hash(`${model}\u0000${word}`);
    for (let k = 0; k < 4; k++) {
      h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
      const i = (h >>> 1) % width;
      v[i] = (v[i] ?? 0) + (h & 1 ? -1 : 1) * (1 + Math.log(count));
    }
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return Float32Array.from(v, (x) => x / norm);
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** What OpenAI sends for `encoding_format: 'base64'`: the Float32 little-endian bytes. */
function toBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString('base64');
}
