/**
 * Parley's own embedder, `parley-local-v1`: deterministic and dependency-free, used when no
 * OpenAI key is configured and as the fallback when the provider is down. It is feature hashing
 * (the "hashing trick"): normalised word unigrams plus character trigrams of each word, hashed
 * with a sign into 512 buckets, weighted by sublinear term frequency and L2-normalised. Texts
 * that share words (or word stems, through the trigrams) end up closer in cosine distance than
 * unrelated texts. It knows no synonyms — it is lexical retrieval in vector form.
 */
import { EMBEDDING_DIMENSIONS, type Embedder } from './embedder';

export const LOCAL_EMBEDDING_MODEL = 'parley-local-v1';

/** Whole words count fully; trigrams only add robustness to inflections ("refund"/"refunds"). */
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.25;
const WORD_SEED = 0x9e3779b9;
const TRIGRAM_SEED = 0x85ebca6b;
const RAW_SEED = 0xc2b2ae35;

const WORDS = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}+/gu;
const NON_ASCII = /[^\p{ASCII}]/u;

/** Frequent English function words: shared by almost any two texts, so they only add noise. */
const STOPWORDS = new Set(
  (
    'a an and are as at be but by can do does for from has have how i if in into is it its me my no not ' +
    'of on or our so that the their them then there these they this to was we were what when where which ' +
    'who why will with you your'
  ).split(' '),
);

/** The local embedder: 512 dimensions, model id `parley-local-v1`, no I/O. */
export function localEmbedder(): Embedder {
  return {
    model: LOCAL_EMBEDDING_MODEL,
    dimensions: EMBEDDING_DIMENSIONS,
    embed: (texts) => Promise.resolve(texts.map((t) => embedLocal(t, EMBEDDING_DIMENSIONS))),
  };
}

/** One text's vector; exported for tests and benchmarks. */
export function embedLocal(text: string, dimensions: number = EMBEDDING_DIMENSIONS): number[] {
  let normalised = text.toLowerCase();
  // Fold accents ("café" → "cafe") only when there can be any: NFKD is the costly step.
  if (NON_ASCII.test(normalised)) normalised = normalised.normalize('NFKD').replace(MARKS, '');

  const counts = new Map<number, number>();
  const add = (feature: number): void => {
    counts.set(feature, (counts.get(feature) ?? 0) + 1);
  };
  for (const word of normalised.match(WORDS) ?? []) {
    if (STOPWORDS.has(word)) continue;
    add(hashString(word, WORD_SEED));
    // Trigrams of the word padded with boundary marks: " refund " → " re", "ref", …, "nd ".
    let a = 0x20;
    let b = word.charCodeAt(0);
    for (let i = 1; i <= word.length; i++) {
      const c = i < word.length ? word.charCodeAt(i) : 0x20;
      add(hashTrigram(a, b, c));
      a = b;
      b = c;
    }
  }

  const vector = new Float64Array(dimensions);
  for (const [feature, count] of counts) {
    const isWord = (feature & 1) === 0;
    const weight = (isWord ? WORD_WEIGHT : TRIGRAM_WEIGHT) * (1 + Math.log(count));
    const bucket = (feature >>> 1) % dimensions;
    vector[bucket] = (vector[bucket] ?? 0) + (feature & 0x80000000 ? -weight : weight);
  }
  let sumOfSquares = 0;
  for (const x of vector) sumOfSquares += x * x;
  let norm = Math.sqrt(sumOfSquares);
  if (norm === 0) {
    // No words (empty or punctuation only): one feature for the raw text, so the vector is
    // never all zeros — pgvector's cosine distance is NaN for a zero vector.
    const feature = hashString(text.trim(), RAW_SEED);
    vector[(feature >>> 1) % dimensions] = feature & 0x80000000 ? -1 : 1;
    norm = 1;
  }
  return Array.from(vector, (x) => x / norm);
}

// Features are 32-bit hashes: bit 0 tells words (0) from trigrams (1), bit 31 is the sign and
// the rest picks the bucket. A 32-bit key space makes feature collisions before bucketing rare.

function hashString(s: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix(h) & ~1;
}

function hashTrigram(a: number, b: number, c: number): number {
  let h = TRIGRAM_SEED;
  h = Math.imul(h ^ a, 0x01000193);
  h = Math.imul(h ^ b, 0x01000193);
  h = Math.imul(h ^ c, 0x01000193);
  return fmix(h) | 1;
}

/** MurmurHash3's finaliser: spreads FNV's weak low bits over the whole word. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
