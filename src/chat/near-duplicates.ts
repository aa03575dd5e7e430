/**
 * Near-duplicate passages: the same FAQ pasted twice, a page crawled under two URLs, chunk
 * overlap. Showing both wastes the model's context and the reader's citations, so retrieval
 * keeps the best-ranked of each group.
 */

/** Word 3-shingle Jaccard similarity at or above which two texts count as the same. */
export const NEAR_DUPLICATE_JACCARD = 0.9;

const SHINGLE = 3;

/** Lowercased, accents folded, punctuation and whitespace collapsed to single spaces. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The set of consecutive word triples (the whole text when it has fewer words). */
export function shingles(normalised: string): Set<string> {
  const words = normalised.split(' ').filter(Boolean);
  if (words.length <= SHINGLE) return new Set([words.join(' ')]);
  const out = new Set<string>();
  for (let i = 0; i + SHINGLE <= words.length; i++) out.add(words.slice(i, i + SHINGLE).join(' '));
  return out;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const x of small) if (large.has(x)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * Keeps items in order, dropping each one whose text equals (after normalisation) or nearly
 * equals a kept item's; pass items best-first so the best of each group survives. Stops once
 * `limit` items are kept, so the pairwise comparisons stay at most limit × items.
 */
export function dropNearDuplicates<T>(items: readonly T[], text: (item: T) => string, limit = Infinity): T[] {
  const kept: { item: T; normalised: string; shingles: Set<string> }[] = [];
  for (const item of items) {
    if (kept.length >= limit) break;
    const normalised = normaliseText(text(item));
    const own = shingles(normalised);
    const duplicate = kept.some(
      (k) => k.normalised === normalised || jaccard(k.shingles, own) >= NEAR_DUPLICATE_JACCARD,
    );
    if (!duplicate) kept.push({ item, normalised, shingles: own });
  }
  return kept.map((k) => k.item);
}
