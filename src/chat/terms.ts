/**
 * Cheap, deterministic word handling for chat text where no model is involved: the key terms
 * of a message (for rewriting follow-ups and picking citation snippets) and the search words
 * handed to Postgres full-text search.
 */

/** Words, keeping inner hyphens, dots and underscores: "SKU-7741", "v1.2", "e-mail". */
export const WORD = /[\p{L}\p{N}]+(?:[-_.][\p{L}\p{N}]+)*/gu;

/**
 * Function words, question words and verbs so generic they say nothing about the topic. Broader
 * than the local embedder's list on purpose: these decide what a message is *about*.
 */
const NOT_KEY = new Set(
  (
    'a about above after again all also am an and any anything are as at be been before being below between both but by ' +
    'can cannot could did do does doing done down during each else even ever every few for from further get gets getting got ' +
    'had has have having he hello her here hers him his hi how i if in into is it its itself just know let like me more ' +
    'most much must my need needs no nor not now of off ok okay on once one only or other our ours out over own please ' +
    'same say see she should so some something still such tell than thank thanks that the their theirs them then there ' +
    'these they thing things this those through to too under until up us use very want wants was way we well were what ' +
    'when where whether which while who whom whose why will with would yes yet you your yours ' +
    // What contractions leave behind once the apostrophe splits them ("don't" → "don", "t").
    'aren couldn didn doesn don hasn haven isn shouldn wasn weren won wouldn'
  ).split(' '),
);

/** The words of `text` in order, as written. */
export function words(text: string): string[] {
  return text.match(WORD) ?? [];
}

/** Whether a word carries topic: not a stopword, and 3+ characters unless it has a digit. */
export function isKeyTerm(word: string): boolean {
  const lower = word.toLowerCase();
  if (NOT_KEY.has(lower)) return false;
  return lower.length >= 3 || /\p{N}/u.test(lower);
}

/** Distinct key terms of `text`, first occurrence first, as written. */
export function keyTerms(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const w of words(text)) {
    const key = w.toLowerCase();
    if (!isKeyTerm(w) || seen.has(key)) continue;
    seen.add(key);
    out.push(w);
  }
  return out;
}

/** A crude stem for matching inflections ("refunds", "refunded" → "refun"): the first 5 letters. */
export function stem(word: string): string {
  return word.toLowerCase().slice(0, 5);
}

/**
 * Words for full-text search: the words of `text` without the function words and generic verbs
 * above (so "How do I get a refund?" searches for "refund": a chunk's share of the search terms
 * then measures topic, not phrasing), at most `max` of them. This also drops "or", which
 * websearch_to_tsquery would read as its OR operator.
 */
export function searchWords(text: string, max = 32): string[] {
  return words(text)
    .filter((w) => !NOT_KEY.has(w.toLowerCase()))
    .slice(0, max);
}
